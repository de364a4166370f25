"""A page of paper cards, as the feed, trending, /new and author pages show one: which page the
request asks for, the viewer's own marks on the cards (upvoted, saved, dismissed), the papers it
hides from the viewer, and what the pager counts."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from ..store import feedback as feedback_store
from ..store import library
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


def marks(request: Request, paper_ids: list[int]) -> dict[str, set[int]]:
    """The signed-in viewer's marks among these papers, read in one store session: `voted`
    (upvoted), `saved` (in their "Saved" collection: the Save button's state) and `dismissed` ("not interested"); empty
    sets for a visitor. The templates' card and feedback macros read them by these names."""
    user = current_user(request)
    if user is None or not paper_ids:
        return {"voted": set(), "saved": set(), "dismissed": set()}
    with site_of(request).store.session() as session:
        return {
            "voted": vote_store.voted(session, user["id"], paper_ids),
            "saved": library.saved(session, user["id"], paper_ids, in_saved_only=True),
            "dismissed": feedback_store.dismissed(session, user["id"], paper_ids),
        }


SHOW_HIDDEN = "show"  # ?hidden=show: a feed page with the viewer's dismissed papers left in


def hide_for(request: Request) -> int | None:
    """Whose dismissed papers a feed page leaves out: the signed-in viewer's, unless the page is
    asked for with ?hidden=show; None for a visitor."""
    user = current_user(request)
    if user is None or request.query_params.get("hidden") == SHOW_HIDDEN:
        return None
    return user["id"]


def _with_hidden(request: Request, show: bool) -> str:
    """This page (its first page) with the dismissed papers shown or hidden again."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("hidden", "page")]
    if show:
        params.append(("hidden", SHOW_HIDDEN))
    return request.url.path + ("?" + urlencode(params) if params else "")


def cards(request: Request, items: list, total: int, page: int, size: int, hidden: int = 0) -> dict:
    """The template context of a page of cards: the items, their total, this page, the number of
    pages (at least one), the viewer's marks on them (`marks`), and what the page hid: `hidden`
    papers the viewer dismissed (left out of `total`), with links to show them (`hidden_link`) or
    to hide them again (`unhide_link`, when the page shows them) and the pager's query to keep."""
    showing = current_user(request) is not None and request.query_params.get("hidden") == SHOW_HIDDEN
    return {
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // size)),
        **marks(request, [i.paper.id for i in items]),
        "hidden": hidden,
        "hidden_link": _with_hidden(request, True) if hidden else None,
        "unhide_link": _with_hidden(request, False) if showing else None,
        "keep_hidden": f"hidden={SHOW_HIDDEN}&" if showing else "",
    }
