"""/new and /new/YYYY-MM-DD: everything arXiv listed on a day, apart from the curated feed; each card
says whether the paper is featured, and a member can feature it (the form posts to /submit, so the
submission rules, the rate limit and the CSRF check all apply). Ranked by the member's recommender
when signed in, by the community's for visitors (search/recommend.py; issue 15), or in the
listing's order (`?order=listing`, and whenever there is no model yet)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import periods, taxonomy
from ..errors import DailyPapersError
from ..store import feedback as feedback_store
from ..store import listings as listing_store
from ..store.listings import ListingQuery
from .auth import current_user
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
    """The store's one listing query, for a page of `day` (the page and the JSON API); `hide_for`:
    a member whose dismissed papers are left out."""
    name, members = category_filter(category)
    size = site.settings.page_size
    query = ListingQuery(day=day, category=members, limit=size, offset=(page - 1) * size, hide_for=hide_for)
    with site.store.session() as session:
        result = listing_store.list_listed(session, query)
        prev_day, next_day = listing_store.adjacent_days(session, day)
    return name, result, prev_day, next_day


def ranked_page(site, user_id: int | None, day, *, category: str | None, page: int, hide_for: int | None = None):
    """A page of the day's listing ranked by the member's model (None: the community's), then the
    papers it leaves out (saved, dismissed, read) in listing order; None when there is no model to
    rank with (then the listing's order). `hide_for`: a member whose dismissed papers are left out."""
    from ..search.recommend import recommender_for

    name, members = category_filter(category)
    with site.store.session() as session:
        ids = listing_store.listed_ids(session, day, members)
        hidden = feedback_store.dismissed(session, hide_for, ids) if hide_for is not None else set()
    ids = [p for p in ids if p not in hidden]
    recs, whose = recommender_for(site.store).recommend(user_id, ids, span=(day, day), explain=0)
    if whose == "none":
        return None
    ranked = [r.paper_id for r in recs]
    left = set(ranked)
    ranked += [p for p in ids if p not in left]
    size = site.settings.page_size
    with site.store.session() as session:
        items = listing_store.items_of(session, day, ranked[(page - 1) * size : page * size])
        prev_day, next_day = listing_store.adjacent_days(session, day)
    return name, listing_store.FeedPage(items, len(ranked), len(hidden)), prev_day, next_day, whose


def _render(request: Request, day, *, canonical: str) -> Response:
    site = site_of(request)
    page = page_number(request)
    category = request.query_params.get("category")
    listing_order = request.query_params.get("order") == "listing"
    hide = hide_for(request)
    ranked = None if listing_order else ranked_page(
        site, (current_user(request) or {}).get("id"), day, category=category, page=page, hide_for=hide
    )
    if ranked is None:
        name, result, prev_day, next_day = listed_page(site, day, category=category, page=page, hide_for=hide)
        whose = "listing"
    else:
        name, result, prev_day, next_day, whose = ranked
    keep = (f"category={name}&" if name else "") + ("order=listing&" if listing_order else "")
    return render(
        request,
        "new.html",
        day=day,
        **cards(request, result.items, result.total, page, site.settings.page_size, result.hidden),
        category=name,
        category_following=following(request, "category", name) if name else False,
        keep=keep,
        order=whose,
        listing_order=listing_order,
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
