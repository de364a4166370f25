"""/new and /new/YYYY-MM-DD: everything arXiv listed on a day, in the listing's order, apart from
the curated feed; each card says whether the paper is featured, and a member can feature it (the
form posts to /submit, so the submission rules, the rate limit and the CSRF check all apply)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import periods, taxonomy
from ..errors import DailyPapersError
from ..store import listings as listing_store
from ..store.listings import ListingQuery
from .paging import cards, hide_for, page_number
from .personal import following
from .site import site_of
from .views import cached, render


class UnknownCategory(DailyPapersError):
    """A category filter arXiv does not have (answered 400 with the reason)."""


def category_filter(raw: str | None) -> tuple[str | None, tuple[str, ...] | None]:
    """The canonical name and member categories of a `category` parameter; (None, None) without one."""
    if not raw:
        return None, None
    name = taxonomy.canonical(raw[:100])
    if name is None:
        raise UnknownCategory(f"{raw[:100]!r} is not an arXiv archive or category")
    return name, taxonomy.categories_in(name)


def listed_page(site, day, *, category: str | None, page: int, hide_for: int | None = None):
    """The store's one listing query, for a page of `day`; `hide_for`: a member whose dismissed
    papers are left out."""
    name, members = category_filter(category)
    size = site.settings.page_size
    query = ListingQuery(day=day, category=members, limit=size, offset=(page - 1) * size, hide_for=hide_for)
    with site.store.session() as session:
        result = listing_store.list_listed(session, query)
        prev_day, next_day = listing_store.adjacent_days(session, day)
    return name, result, prev_day, next_day


def _render(request: Request, day, *, canonical: str) -> Response:
    site = site_of(request)
    page = page_number(request)
    name, result, prev_day, next_day = listed_page(
        site, day, category=request.query_params.get("category"), page=page, hide_for=hide_for(request)
    )
    keep = f"category={name}&" if name else ""
    return render(
        request,
        "new.html",
        day=day,
        **cards(request, result.items, result.total, page, site.settings.page_size, result.hidden),
        category=name,
        category_following=following(request, "category", name) if name else False,
        keep=keep,
        prev_path=f"/new/{prev_day.isoformat()}" if prev_day else None,
        next_path=f"/new/{next_day.isoformat()}" if next_day else None,
        canonical=canonical,
        today=site.today(),
    )


async def latest(request: Request) -> Response:
    """/new: the latest day arXiv listed papers on."""

    def build():
        site = site_of(request)
        with site.store.session() as session:
            day = listing_store.latest_day(session)
        if day is None:
            return render(request, "empty.html")
        return _render(request, day, canonical="/new")

    return await cached(request, build)


async def by_date(request: Request) -> Response:
    period = periods.parse_day(request.path_params["day"])
    return await cached(request, lambda: _render(request, period.start, canonical=period.path.replace("/date/", "/new/")))
