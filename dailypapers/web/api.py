"""The JSON API, shaped like Hugging Face's papers API so its clients work unchanged
(huggingface_hub's HfApi(endpoint=...).list_daily_papers, paper_info, list_papers). Its routes are
listed with the pages' in routes.py; here are the handlers and what /openapi.json says of each.

The answers are shapes.py's dicts; api_models.py documents them. Parameters are validated as the
document declares them (bounds, the `sort` enum), and whatever is wrong answers 400 with a one-line
{"error": ...}, never FastAPI's 422: `openapi_document` says so."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import Path, Query, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import Response

from .. import periods, shapes
from ..arxiv import split_arxiv_id
from ..errors import DailyPapersError, InvalidRecord, NotFoundError
from ..store import daily as daily_store
from ..store import feed as feed_store
from ..store import papers as paper_store
from ..store.feed import FeedQuery
from . import api_models as m
from .site import site_of
from .views import cached

# HF's sort names -> the feed's. Without one, a feed is ordered as HF orders it: by upvotes.
API_SORTS = {"publishedAt": "time", "trending": "trending", "githubStars": "stars"}
MAX_PAGE = 10_000  # p * limit stays a small offset for any database


def documented(**operation):
    """What the OpenAPI document says of a handler (summary, response_model, responses, ...):
    routes.py's table adds the route with these (FastAPI's add_api_route arguments)."""

    def mark(handler):
        handler.openapi = {"tags": ["papers"], **operation}
        return handler

    return mark


def daily_items(summary: str):
    """`documented` for an endpoint answering a list of daily items, or a 400."""
    return documented(summary=summary, response_model=list[m.DailyItem], responses=m.BAD_REQUEST)


class BadRequest(DailyPapersError):
    """A parameter that cannot be understood (a 400 with the reason)."""


def json_response(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def base_url(request: Request) -> str:
    """The site's address, for the absolute URLs in answers."""
    return site_of(request).base_url


def daily_span(site, date: str | None, week: str | None, month: str | None, *, everything: bool):
    """(first day, last day) of the span asked for. With none given: the latest day with papers,
    or (`everything`, for a submitter's papers) every day: (None, None). None: no papers at all."""
    given = [x for x in (date, week, month) if x]
    if len(given) > 1:
        raise BadRequest("give only one of date, week and month")
    try:
        if given:
            period = periods.parse_day(date) if date else periods.parse_week(week) if week else periods.parse_month(month)
            return period.start, period.end
    except OverflowError:  # the last month or week of year 9999 ends beyond the calendar
        raise periods.BadPeriod(f"out of range: {given[0]!r}") from None
    if everything:
        return None, None
    with site.store.session() as session:
        latest = daily_store.latest_day(session)
    return (latest, latest) if latest else None


@daily_items("Papers featured on a day, week or month, or all papers a user submitted")
async def daily_papers(
    request: Request,
    date: str | None = Query(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="A day, YYYY-MM-DD. Default: the latest day with papers.",
        examples=["2024-10-25"],
    ),
    week: str | None = Query(None, pattern=r"^\d{4}-W\d{2}$", description="An ISO week, YYYY-Www.", examples=["2025-W12"]),
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$", description="A month, YYYY-MM.", examples=["2025-03"]),
    submitter: str | None = Query(
        None, max_length=100,
        description="Only papers this user submitted (any case). Without a date, week or month: from every date.",
    ),
    sort: Literal["publishedAt", "trending", "githubStars"] | None = Query(
        None, description="Default: most upvoted first, as Hugging Face orders a day. publishedAt: newest submission first. trending: by trending score. githubStars: most GitHub stars first."
    ),
    p: int = Query(0, ge=0, le=MAX_PAGE, description="Page number, from 0."),
    limit: int = Query(50, ge=1, le=100, description="Papers per page."),
) -> Response:
    def build() -> Response:
        site = site_of(request)
        span = daily_span(site, date, week, month, everything=bool(submitter))
        if span is None:  # no papers at all yet
            return json_response([])
        start, end = span
        query = FeedQuery(
            start=start, end=end, sort=API_SORTS.get(sort or "", "upvotes"), limit=limit, offset=p * limit, submitter=submitter
        )
        with site.store.session() as session:
            page = feed_store.list_featured(session, query, now=site.now())
        base = base_url(request)
        return json_response([shapes.daily_item(item, base, apart=apart_votes(site)) for item in page.items])

    return await cached(request, build)


@documented(
    summary="Everything arXiv listed on a day, in the listing's order (featured or not)",
    response_model=list[m.ListedItem],
    responses=m.BAD_REQUEST,
)
async def listings(
    request: Request,
    date: str | None = Query(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="A day, YYYY-MM-DD. Default: the latest day arXiv listed papers on.",
        examples=["2025-03-18"],
    ),
    category: str | None = Query(
        None, max_length=100, description="Only papers in this arXiv category, or in any category of this archive (cs).",
        examples=["cs.CL"],
    ),
    p: int = Query(0, ge=0, le=MAX_PAGE, description="Page number, from 0."),
    limit: int = Query(50, ge=1, le=100, description="Papers per page."),
) -> Response:
    from ..store import listings as listing_store
    from ..store.listings import ListingQuery
    from .new_page import category_filter

    def build() -> Response:
        site = site_of(request)
        _name, members = category_filter(category)
        with site.store.session() as session:
            day = periods.parse_day(date).start if date else listing_store.latest_day(session)
            if day is None:  # nothing listed yet
                return json_response([])
            page = listing_store.list_listed(session, ListingQuery(day=day, category=members, limit=limit, offset=p * limit))
        base = base_url(request)
        return json_response([shapes.listed_item(item, base) for item in page.items])

    return await cached(request, build)


@daily_items("Search papers (no query: the most recently featured papers)")
async def search_papers(
    request: Request,
    q: str = Query("", max_length=1000, description='The query: words, "phrases", author:Name, cat:cs.CL. Empty: the latest papers.'),
    limit: int = Query(20, ge=1, le=100, description="At most this many results."),
) -> Response:
    def build() -> Response:
        return json_response(search_items(site_of(request), q, limit, base_url(request)))

    return await cached(request, build)


def apart_votes(site) -> bool:
    """hf_votes 'apart': items also say HF's upvotes and the site's own (`upvotes` stays their sum)."""
    return site.settings.hf_votes == "apart"


def search_items(site, q: str, limit: int, base: str) -> list[dict]:
    """Search results as daily items (the same fields): the hits of the query, or without one the
    papers featured most recently."""
    if not q.strip():
        with site.store.session() as session:
            page = feed_store.list_featured(session, FeedQuery(sort="time", limit=limit), now=site.now())
        return [shapes.daily_item(item, base, apart=apart_votes(site)) for item in page.items]
    from ..search import SearchQuery, search

    hits = search(site.store, SearchQuery(text=q, limit=limit, facets=False)).hits
    return shapes.search_items(site.store, [hit.paper for hit in hits], base, apart=apart_votes(site))


ARXIV_ID = Path(description="An arXiv id, with or without version: 2410.17243, 2410.17243v2, hep-th/9901001.", examples=["2410.17243"])


def _arxiv_id(raw: str) -> str:
    try:
        return split_arxiv_id(raw)[0]
    except InvalidRecord:
        raise NotFoundError(f"{raw!r} is not an arXiv id") from None


def _paper_item(site, bare: str) -> feed_store.FeedItem:
    with site.store.session() as session:
        paper = paper_store.get(session, bare)
        if paper is None:
            raise NotFoundError(f"no paper {bare}")
        return feed_store.items_for(session, [paper])[0]


@documented(
    summary="Papers similar to one paper",
    response_model=list[m.SimilarPaper],
    responses={**m.BAD_REQUEST, **m.NOT_FOUND},
)
async def similar_papers(
    request: Request, arxiv_id: str = ARXIV_ID, limit: int = Query(10, ge=1, le=50, description="At most this many papers.")
) -> Response:
    bare = _arxiv_id(arxiv_id)

    def build() -> Response:
        from ..search import similar

        site = site_of(request)
        hits = similar(site.store, bare, limit=limit)  # NotFoundError (404) for a paper not here
        with site.store.session() as session:
            items = feed_store.items_for(session, [h.paper for h in hits])
        base = base_url(request)
        return json_response([dict(shapes.paper_info(item, base, apart=apart_votes(site)), score=round(h.score, 4)) for item, h in zip(items, hits)])

    return await cached(request, build)


VOTE_RESPONSES = {
    401: m.error("Not signed in."),
    **m.CSRF,
    **m.NOT_FOUND,
}


def _vote_handler(name: str, summary: str):
    """The handler of an upvote or its taking back: the same form action (web/actions.vote reads
    which from the path), documented under its own name and summary."""

    @documented(summary=summary, response_model=m.VoteAnswer, responses=VOTE_RESPONSES, name=name)
    async def handler(request: Request, arxiv_id: str = ARXIV_ID) -> Response:
        from .actions import vote

        return await vote(request)

    handler.__name__ = handler.__qualname__ = name
    return handler


upvote = _vote_handler("upvote", "Upvote a paper (signed in; send the CSRF token in x-csrftoken)")
unvote = _vote_handler("unvote", "Take back an upvote (signed in; send the CSRF token in x-csrftoken)")


@documented(summary="One paper", response_model=m.PaperInfo, responses=m.NOT_FOUND)
async def paper(request: Request, arxiv_id: str = ARXIV_ID) -> Response:
    bare = _arxiv_id(arxiv_id)

    def build() -> Response:
        site = site_of(request)
        return json_response(shapes.paper_info(_paper_item(site, bare), base_url(request), apart=apart_votes(site)))

    return await cached(request, build)


@documented(
    status_code=202,
    summary="Subscribe an address to email digests (double opt-in)",
    response_model=m.SubscriptionAnswer,
    responses={
        **m.BAD_REQUEST,
        **m.CSRF,
        429: m.error("Too many subscription requests from this address or for this email; see Retry-After."),
        503: m.error("The request could not be recorded (the database cannot write just now); nothing was saved, "
                     "no email will come: try again after Retry-After."),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubscriptionRequest"}}}}
    },
)
async def subscriptions(request: Request) -> Response:
    from .subscribe import api_subscribe

    return await api_subscribe(request)


def openapi_document(app) -> dict:
    """The OpenAPI document, saying what the app does: invalid parameters answer 400 with the
    error shape (FastAPI would document 422, which never happens here)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["SubscriptionRequest"] = m.SubscriptionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["FollowRequest"] = m.FollowRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    doc["components"]["securitySchemes"] = {  # the personal API's callers (/api/me/..., web/api_me.py)
        "bearerToken": {"type": "http", "scheme": "bearer",
                        "description": "A personal API token, made at /account/tokens; revocable there."},
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "dp_session",
                          "description": "The site's own session (its writes also need the x-csrftoken header)."},
    }
    error = {"description": "A parameter that cannot be understood, with the reason.",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in doc["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if responses.pop("422", None) is not None:
                responses.setdefault("400", error)
    app.openapi_schema = doc
    return doc
