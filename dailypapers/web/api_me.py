"""The personal API, /api/me/...: the caller is the holder of a personal API token (`Authorization:
Bearer <token>`, made at /account/tokens) or, from the site's own pages, the signed-in member of
the session cookie (web.auth.api_member). A token carries no ambient credential, so its requests
need no CSRF token; a cookie's writes do (x-csrftoken). A wrong or revoked token answers 401 with
a one-line error, even beside a cookie. Every answer is the member's own: `private, no-store`."""

from __future__ import annotations

import json
from typing import Literal
from urllib.parse import quote

from fastapi import Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import DailyPapersError
from ..store import follows as follow_store
from ..store import taste as taste_store
from . import api_models as m
from .api import ARXIV_ID, base_url, documented, json_response
from .auth import api_member
from .personal import PRIVATE, apply_follow, apply_paper_action, count_write
from .site import site_of

SECURITY = [{"bearerToken": []}, {"sessionCookie": []}]


def _personal(**operation):
    extra = {"security": SECURITY, **operation.pop("openapi_extra", {})}
    return documented(tags=["me"], openapi_extra=extra, **operation)


def _answer(data, status: int = 200) -> Response:
    response = json_response(data, status)
    response.headers["cache-control"] = PRIVATE
    return response


def _nobody() -> Response:
    return _answer({"error": "not signed in: send a live personal API token as Authorization: Bearer <token>"}, 401)


@_personal(summary="The member this token (or session) belongs to, and how much they keep", response_model=m.MeAnswer,
           responses=m.PERSONAL)
async def me(request: Request) -> Response:
    member = await run_in_threadpool(api_member, request)
    if member is None:
        return _nobody()
    site = site_of(request)

    def load() -> dict:
        with site.store.session() as session:
            return taste_store.counts(session, member["id"])

    counts = await run_in_threadpool(load)
    return _answer({"name": member["username"], "url": f"{base_url(request)}/u/{quote(member['username'], safe='')}", "counts": counts})


@_personal(
    summary='Save a paper, take it out of "Saved", mark it "not interested" (hidden from your feeds), or take that back',
    response_model=m.PaperMarkAnswer,
    responses={**m.PERSONAL_WRITE, **m.NOT_FOUND},
)
async def paper_action(
    request: Request,
    arxiv_id: str = ARXIV_ID,
    action: Literal["save", "unsave", "dismiss", "undismiss"] = Path(description="What to do with the paper."),
) -> Response:
    member = await run_in_threadpool(api_member, request)
    if member is None:
        return _nobody()
    count_write(request, member)
    answer = await run_in_threadpool(apply_paper_action, site_of(request), member["id"], arxiv_id, action)
    return _answer(answer)


@_personal(summary="What the member follows: authors, categories and searches, oldest first",
           response_model=list[m.FollowItem], responses=m.PERSONAL)
async def follows(request: Request) -> Response:
    member = await run_in_threadpool(api_member, request)
    if member is None:
        return _nobody()
    site = site_of(request)

    def load() -> list[dict]:
        with site.store.session() as session:
            rows = follow_store.of_member(session, member["id"])
        return [{"kind": f["kind"], "value": f["value"], "label": f["label"],
                 "createdAt": f["created_at"].isoformat(timespec="milliseconds") + "Z"} for f in rows]

    return _answer(await run_in_threadpool(load))


@_personal(
    summary="Follow or unfollow an author (by name key), a category or a search",
    response_model=m.FollowAnswer,
    responses={**m.BAD_REQUEST, **m.PERSONAL_WRITE},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FollowRequest"}}}},
    },
)
async def change_follow(request: Request) -> Response:
    member = await run_in_threadpool(api_member, request)
    if member is None:
        return _nobody()
    try:
        body = json.loads(await request.body() or b"null")
        wanted = m.FollowRequest.model_validate(body)
    except ValueError as exc:  # not JSON, or not the documented shape (pydantic's ValidationError is a ValueError)
        first = str(exc).splitlines()
        return _answer({"error": "the body must be a JSON object: {kind, value, label?, follow?}" + (f" ({first[0][:120]})" if first else "")}, 400)
    count_write(request, member)
    try:
        answer = await run_in_threadpool(
            apply_follow, site_of(request), member["id"], wanted.kind, wanted.value, wanted.label or "", wanted.follow
        )
    except DailyPapersError as exc:
        return _answer({"error": str(exc)}, 400)
    return _answer(answer)
