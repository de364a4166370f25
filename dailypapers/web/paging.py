"""A page of paper cards, as the feed, trending, /new and author pages show one: which page the
request asks for, the viewer's upvotes among the cards, and what the pager counts."""

from __future__ import annotations

from starlette.requests import Request

from ..store import votes as vote_store
from .auth import current_user
from .site import site_of

MAX_PAGE = 10_000


def page_number(request: Request) -> int:
    """The ?page= asked for, 1 to MAX_PAGE; 1 when absent or not a number."""
    try:
        return max(1, min(int(request.query_params.get("page", "1")), MAX_PAGE))
    except ValueError:
        return 1


def voted(request: Request, paper_ids: list[int]) -> set[int]:
    """The papers among these the signed-in viewer upvoted (none for a visitor)."""
    user = current_user(request)
    if user is None or not paper_ids:
        return set()
    with site_of(request).store.session() as session:
        return vote_store.voted(session, user["id"], paper_ids)


def cards(request: Request, items: list, total: int, page: int, size: int) -> dict:
    """The template context of a page of cards: the items, their total, this page, the number of
    pages (at least one) and the viewer's upvotes among them."""
    return {
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // size)),
        "voted": voted(request, [i.paper.id for i in items]),
    }
