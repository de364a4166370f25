"""/search: hybrid search with highlighted snippets, category and month facets, and pagination. A
query that is only an arXiv id (in any form) goes to that paper's page, which fetches a paper the
store does not hold yet."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import periods
from ..search import SORTS, BadQuery, SearchQuery, lone_arxiv_id, search
from ..store import thumbnails as thumb_store
from .paging import marks
from .personal import search_follows
from .site import site_of
from .views import cached, render

PAGE = 20


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None


def query_from(request: Request) -> SearchQuery:
    params = request.query_params
    try:
        page = max(1, min(int(params.get("page", "1")), 50))
    except ValueError:
        page = 1
    sort = params.get("sort", "relevance")
    return SearchQuery(
        text=params.get("q", ""),
        since=_day(params.get("since"), "since"),
        until=_day(params.get("until"), "until"),
        categories=tuple(c for c in params.getlist("cat") if c),
        has_code=True if params.get("code") == "1" else None,
        sort=sort if sort in SORTS else "relevance",
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )


def _link(request: Request, **changes) -> str:
    params = dict(request.query_params)
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "/search?" + urlencode(params)


def _thumbnails(site, paper_ids: list[int]) -> dict[int, str]:
    """{paper id: thumbnail version} of the results that have a picture."""
    if not paper_ids:
        return {}
    with site.store.session() as session:
        return thumb_store.versions_for(session, paper_ids)


async def search_page(request: Request) -> Response:
    arxiv_id = lone_arxiv_id(request.query_params.get("q", ""))
    if arxiv_id is not None:
        return RedirectResponse(f"/papers/{arxiv_id}", status_code=303)

    def build() -> Response:
        site = site_of(request)
        query = query_from(request)
        if not query.text.strip() and not (query.since or query.until or query.categories or query.has_code):
            return render(request, "search.html", query=query, result=None, error=None, link=lambda **k: _link(request, **k))
        try:
            result = search(site.store, query)
        except BadQuery as exc:
            return render(request, "search.html", status=400, query=query, result=None, error=str(exc),
                          link=lambda **k: _link(request, **k))
        months = [(m, month, n) for m, n in result.facets.months if (month := periods.served_month(m))]
        return render(
            request,
            "search.html",
            query=query,
            result=result,
            error=None,
            months=months,
            page=query.offset // PAGE + 1,
            **marks(request, [h.paper.id for h in result.hits]),  # voted, saved, dismissed: shown, never hidden here
            thumbs=_thumbnails(site, [h.paper.id for h in result.hits]),
            **search_follows(request, query.text),
            link=lambda **k: _link(request, **k),
        )

    return await cached(request, build)
