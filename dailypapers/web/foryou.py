"""Recommendations (issue 15): /for-you and /for-you/YYYY-MM-DD, the day's listed papers ranked for
the signed-in member with a few words of why on each card; GET /api/me/recommendations; the
member's private Atom feed at /feeds/me/{secret}.atom (a feed key made on /account/tokens).

Everything here is personal: answered `Cache-Control: private, no-store`, never through the page
cache. Pages only read stored models (search/recommend.py); the updater (jobs/recs.py) fits them.

A GET of /for-you records an impression: the top `DAILYPAPERS_FORYOU_RECORDED` papers of its first
page are counted as shown to the member (store/feedback.record_shown), and a paper shown and passed
over becomes a weak negative at the member's next refit. It changes no page and no signal count."""

from __future__ import annotations

import datetime as dt

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .. import __version__, periods, shapes
from ..errors import NotFoundError
from ..search.recommend import Recommendation, recommender_for
from ..store import feedback as feedback_store
from ..store import listings as listing_store
from ..store import tokens as token_store
from . import api_models as m
from . import feedxml
from .api import documented, json_response
from .auth import api_member, current_user
from .new_page import category_filter
from .paging import cards, page_number
from .site import site_of
from .views import render

PRIVATE = {"cache-control": "private, no-store"}
FEED_SIZE = 50


def private(response: Response) -> Response:
    response.headers.update(PRIVATE)
    return response


def ranked_day(site, user_id: int | None, day: dt.date, members: tuple[str, ...] | None, *, limit: int | None = None,
               explain: int = 50) -> tuple[list[Recommendation], str]:
    """The day's listed papers (in the categories, if given) ranked for the member (None: by the
    community's model); whose model ranked them: member, community, or none (listing order)."""
    with site.store.session() as session:
        ids = listing_store.listed_ids(session, day, members)
    return recommender_for(site.store).recommend(user_id, ids, limit=limit, span=(day, day), explain=explain)


def _page(request: Request, day: dt.date | None) -> Response:
    site = site_of(request)
    user = current_user(request)
    if user is None:
        return private(render(request, "foryou_signed_out.html"))
    with site.store.session() as session:
        day = day or listing_store.latest_day(session)
    if day is None:
        return private(render(request, "empty.html"))
    name, members = category_filter(request.query_params.get("category"))
    page = page_number(request)
    size = site.settings.page_size
    recs, whose = ranked_day(site, user["id"], day, members, explain=page * size)
    shown = recs[(page - 1) * size : page * size]
    with site.store.session() as session, session.begin():
        items = listing_store.items_of(session, day, [r.paper_id for r in shown])
        prev_day, next_day = listing_store.adjacent_days(session, day)
        if page == 1 and site.settings.foryou_recorded:
            feedback_store.record_shown(session, user["id"], [r.paper_id for r in shown[: site.settings.foryou_recorded]])
    why = {r.paper_id: r.why for r in shown}
    keep = f"category={name}&" if name else ""
    return private(render(
        request, "foryou.html", day=day, **cards(request, items, len(recs), page, size), why=why, whose=whose,
        category=name, keep=keep, today=site.today(),
        prev_path=f"/for-you/{prev_day.isoformat()}" if prev_day else None,
        next_path=f"/for-you/{next_day.isoformat()}" if next_day else None,
    ))


async def latest(request: Request) -> Response:
    """/for-you: the latest listed day, ranked for the member."""
    return await run_in_threadpool(_page, request, None)


async def by_date(request: Request) -> Response:
    day = periods.parse_day(request.path_params["day"]).start
    return await run_in_threadpool(_page, request, day)


@documented(
    tags=["me"],
    summary="The papers listed on a day, ranked for you, each with its score and why (a personal API token, or signed in)",
    response_model=list[m.RecommendedItem],
    responses={**m.BAD_REQUEST, 401: m.error("No live personal API token (Authorization: Bearer ...) and not signed in.")},
)
async def recommendations(
    request: Request,
    date: str | None = Query(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="A day, YYYY-MM-DD. Default: the latest day arXiv listed papers on.",
        examples=["2025-03-18"],
    ),
    category: str | None = Query(None, max_length=100, description="Only papers in this arXiv category or archive.", examples=["cs.CL"]),
    limit: int = Query(20, ge=1, le=100, description="At most this many papers, best first."),
) -> Response:
    def build() -> Response:
        member = api_member(request)
        if member is None:
            refused = json_response({"error": "a live personal API token (Authorization: Bearer ...) or a signed-in session is needed"}, 401)
            refused.headers["www-authenticate"] = "Bearer"
            return private(refused)
        site = site_of(request)
        _name, members = category_filter(category)
        with site.store.session() as session:
            day = periods.parse_day(date).start if date else listing_store.latest_day(session)
        if day is None:
            return private(json_response([]))
        recs, _whose = ranked_day(site, member["id"], day, members, limit=limit, explain=limit)
        with site.store.session() as session:
            items = listing_store.items_of(session, day, [r.paper_id for r in recs])
        by_id = {r.paper_id: r for r in recs}
        base = site.base_url
        out = [dict(shapes.listed_item(i, base), score=by_id[i.paper.id].score, why=by_id[i.paper.id].why) for i in items]
        return private(json_response(out))

    return await run_in_threadpool(build)


async def private_feed(request: Request) -> Response:
    """/feeds/me/{secret}.atom: the member's recommendations of the latest listed days, for a feed
    reader; 404 for a key that is wrong or revoked (the same answer: nothing tells them apart)."""
    secret = request.path_params["secret"]

    def build() -> Response:
        site = site_of(request)
        with site.store.session() as session, session.begin():
            member = token_store.member_for(session, secret, "feed")
        if member is None:
            raise NotFoundError("no such feed (a wrong or revoked key)")
        with site.store.session() as session:
            day = listing_store.latest_day(session)
        entries = []
        if day is not None:
            recs, _whose = ranked_day(site, member["id"], day, None, limit=FEED_SIZE, explain=FEED_SIZE)
            with site.store.session() as session:
                items = listing_store.items_of(session, day, [r.paper_id for r in recs])
            why = {r.paper_id: r.why for r in recs}
            base = site.base_url
            when = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            for item in items:
                p = item.paper
                reason = why.get(p.id)
                entries.append(feedxml.Entry(
                    url=f"{base}/papers/{p.arxiv_id}", title=p.title,
                    summary=(f"Why: {reason}\n\n" if reason else "") + (p.abstract or ""),
                    updated=when, published=p.published_at.replace(tzinfo=dt.UTC) if p.published_at else when,
                    authors=[a["name"] for a in (p.authors or [])[:20]], related=f"https://arxiv.org/abs/{p.arxiv_id}",
                    categories=[(c, None) for c in p.categories or []],
                ))
        base = site.base_url
        feed = feedxml.Feed(
            id=f"{base}/for-you", title=f"{site.settings.site_name}: for {member['username']}",
            subtitle="The day's papers ranked for you, with why. This address is private: anyone who has it can read the feed.",
            self_url=f"{base}/feeds/me/{secret}.atom", home_url=f"{base}/for-you", author=site.settings.site_name,
            generator=("dailypapers", __version__), entries=entries,
        )
        return Response(feedxml.atom(feed), media_type="application/atom+xml; charset=utf-8", headers=PRIVATE)

    return await run_in_threadpool(build)
