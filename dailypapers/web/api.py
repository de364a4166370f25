"""The JSON API, shaped like Hugging Face's papers API so its clients work unchanged
(huggingface_hub's HfApi(endpoint=...).list_daily_papers, paper_info, list_papers)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from .. import periods, shapes
from ..errors import DailyPapersError, NotFoundError
from ..ingest.normalize import InvalidRecord, split_arxiv_id
from ..store import daily as daily_store
from ..store import feed as feed_store
from ..store import papers as paper_store
from ..store.feed import FeedQuery
from .site import site_of
from .views import cached

router = APIRouter(prefix="/api", tags=["papers"])

API_SORTS = {"publishedAt": "time", "trending": "trending"}


class BadRequest(DailyPapersError):
    """A parameter that cannot be understood (a 400 with the reason)."""


def json_response(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def daily_period(site, date: str | None, week: str | None, month: str | None) -> periods.Period | None:
    given = [x for x in (date, week, month) if x]
    if len(given) > 1:
        raise BadRequest("give only one of date, week and month")
    if date:
        return periods.parse_day(date)
    if week:
        return periods.parse_week(week)
    if month:
        return periods.parse_month(month)
    with site.store.session() as session:
        latest = daily_store.latest_day(session)
    return periods.day(latest) if latest else None


@router.get("/daily_papers", summary="Papers featured on a day, week or month")
async def daily_papers(
    request: Request,
    date: str | None = Query(None, description="A day, YYYY-MM-DD. Default: the latest day with papers."),
    week: str | None = Query(None, description="An ISO week, YYYY-Www, e.g. 2026-W27."),
    month: str | None = Query(None, description="A month, YYYY-MM."),
    submitter: str | None = Query(None, description="Only papers submitted by this user."),
    sort: str = Query("publishedAt", description="publishedAt (newest submission first) or trending."),
    p: int = Query(0, description="Page number, from 0."),
    limit: int = Query(50, description="Papers per page, 1 to 100."),
) -> Response:
    if sort not in API_SORTS:
        raise BadRequest(f"sort must be one of {', '.join(API_SORTS)}")
    if not 1 <= limit <= 100:
        raise BadRequest("limit must be between 1 and 100")
    if p < 0:
        raise BadRequest("p must be 0 or more")

    def build() -> Response:
        site = site_of(request)
        period = daily_period(site, date, week, month)
        if period is None:
            return json_response([])
        query = FeedQuery(start=period.start, end=period.end, sort=API_SORTS[sort], limit=limit, offset=p * limit, submitter=submitter)
        with site.store.session() as session:
            page = feed_store.list_featured(session, query, now=site.now())
        base = site.base_url
        return json_response([shapes.daily_item(item, base) for item in page.items])

    return await cached(request, build)


@router.get("/papers/search", summary="Search papers")
async def search_papers(
    request: Request,
    q: str = Query("", description="The query: words, \"phrases\", author:Name, cat:cs.CL."),
    limit: int = Query(20, description="At most this many results, 1 to 100."),
) -> Response:
    if not 1 <= limit <= 100:
        raise BadRequest("limit must be between 1 and 100")

    def build() -> Response:
        site = site_of(request)
        return json_response(search_items(site, q, limit))

    return await cached(request, build)


def search_items(site, q: str, limit: int) -> list[dict]:
    """HF-shaped search results: {paper: {...}, title, summary, publishedAt, ...}."""
    from ..search import SearchQuery, hf_item, search

    return [hf_item(hit) for hit in search(site.store, SearchQuery(text=q, limit=limit, facets=False)).hits]


class SubscriptionRequest(BaseModel):
    """The body of POST /api/subscriptions (documented here; web/subscribe.py validates it)."""

    email: str = Field(description="The address to send digests to; a confirmation email goes there first.")
    cadence: str = Field("daily", description="daily (weekdays) or weekly.")
    trending: int = Field(10, description="How many trending papers of the period, 0 to 50 (0: none).")
    query: str | None = Field(None, description='A saved search for topic alerts, e.g. "diffusion models" cat:cs.CV.')
    categories: list[str] = Field(default_factory=list, description="arXiv categories for topic alerts.")
    similar: bool = Field(False, description="Papers like the ones you upvoted (signed-in users only).")


@router.post(
    "/subscriptions",
    status_code=202,
    summary="Subscribe an address to email digests (double opt-in)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": SubscriptionRequest.model_json_schema()}}}},
)
async def subscriptions(request: Request) -> Response:
    from .subscribe import api_subscribe

    return await api_subscribe(request)


def _arxiv_id(raw: str) -> str:
    try:
        return split_arxiv_id(raw)[0]
    except InvalidRecord:
        raise NotFoundError(f"{raw!r} is not an arXiv id") from None


@router.get("/papers/{arxiv_id:path}/similar", summary="Papers similar to one paper")
async def similar_papers(request: Request, arxiv_id: str, limit: int = Query(10, description="1 to 50.")) -> Response:
    if not 1 <= limit <= 50:
        raise BadRequest("limit must be between 1 and 50")
    bare = _arxiv_id(arxiv_id)

    def build() -> Response:
        from ..search import similar

        site = site_of(request)
        with site.store.session() as session:
            if not paper_store.existing(session, [bare]):
                raise NotFoundError(f"no paper {bare}")
        hits = similar(site.store, bare, limit=limit)
        return json_response([dict(shapes.paper_info(h.paper), score=round(h.score, 4)) for h in hits])

    return await cached(request, build)


@router.get("/papers/{arxiv_id:path}", summary="One paper")
async def paper(request: Request, arxiv_id: str) -> Response:
    bare = _arxiv_id(arxiv_id)

    def build() -> Response:
        site = site_of(request)
        with site.store.session() as session:
            detail = paper_store.detail(session, bare)
        if detail is None:
            raise NotFoundError(f"no paper {bare}")
        body = shapes.paper_info(detail.paper, submitted_at=detail.first_submitted_at, submitter=detail.first_submitter)
        return json_response(body)

    return await cached(request, build)

