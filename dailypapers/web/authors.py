"""Author pages, /authors/{name} and GET /api/authors/{name}: an author's papers here, newest
first, with the co-authors and the spellings of the name the page folded together (accents,
initials and case: personnames.author_key). One store query (store/authors.py) feeds both."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Path, Query, Request
from starlette.responses import Response

from .. import shapes
from ..errors import NotFoundError
from ..store import authors as author_store
from ..store import feed as feed_store
from ..store import papers as paper_store
from . import api_models as m
from .api import base_url, documented, json_response
from .paging import cards, hide_for, page_number
from .personal import following
from .site import site_of
from .views import cached, render

PAGE_SIZE = 30
MAX_NAME = 300


def author_path(name: str) -> str:
    return "/authors/" + quote(name, safe="")


def _load(site, name: str, limit: int, offset: int, hide_for: int | None = None):
    """The author's page data and the page's papers as feed items; NotFoundError when no paper
    here has the author. `hide_for`: a member whose dismissed papers the page leaves out."""
    if len(name) > MAX_NAME:
        raise NotFoundError("no author with so long a name")
    with site.store.session() as session:
        found = author_store.page(session, name, limit=limit, offset=offset, hide_for=hide_for)
        if found is None:
            raise NotFoundError(f"no papers by {name} here")
        rows = paper_store.get_many(session, found.paper_ids)
        items = feed_store.items_for(session, [rows[i] for i in found.paper_ids if i in rows])
    return found, items


async def author_page(request: Request) -> Response:
    name = request.path_params["name"]

    def build() -> Response:
        site = site_of(request)
        page = page_number(request)
        found, items = _load(site, name, PAGE_SIZE, (page - 1) * PAGE_SIZE, hide_for(request))
        return render(
            request,
            "author.html",
            name=name,
            author=found,
            **cards(request, items, found.total - found.hidden, page, PAGE_SIZE, found.hidden),
            canonical=author_path(found.name),
            following=following(request, "author", found.key),
        )

    return await cached(request, build)


@documented(
    tags=["authors"],
    summary="An author's papers (newest first), the spellings of the name folded together, and co-authors",
    response_model=m.AuthorAnswer,
    responses={**m.BAD_REQUEST, 404: m.error("No paper here has an author of that name.")},
)
async def author_api(
    request: Request,
    name: str = Path(description="The author's name in any spelling: Ashish Vaswani, A. Vaswani, vaswani, ashish.",
                     examples=["Ashish Vaswani"], max_length=MAX_NAME),
    p: int = Query(0, ge=0, le=10_000, description="Page number, from 0."),
    limit: int = Query(PAGE_SIZE, ge=1, le=100, description="Papers per page."),
) -> Response:
    def build() -> Response:
        site = site_of(request)
        found, items = _load(site, name, limit, p * limit)
        base = base_url(request)
        return json_response(
            {
                "name": found.name,
                "key": found.key,
                "url": base + author_path(found.name),
                "variants": [{"name": n, "papers": c} for n, c in found.variants],
                "numPapers": found.total,
                "papers": [shapes.paper_info(item, base) for item in items],
                "coauthors": [{"name": n, "papers": c, "url": base + author_path(n)} for n, c in found.coauthors],
            }
        )

    return await cached(request, build)
