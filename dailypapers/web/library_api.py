"""The library's JSON API (issue 15): a public collection (GET /api/collections/{id}; the caller's
own private one too) and the caller's whole library (GET /api/me/library: the personal API, by a
personal token or the session cookie, web.auth.api_member). Documented in /openapi.json like the
rest of web/api.py; personal answers are `Cache-Control: private, no-store`."""

from __future__ import annotations

from fastapi import Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .. import citations, shapes
from ..store import feed as feed_store
from ..store import library as lib
from ..store import notes as note_store
from ..store import papers as paper_store
from . import api_models as m
from .api import MAX_PAGE, apart_votes, base_url, documented, json_response
from .auth import api_member
from .library import shown
from .site import site_of

PERSONAL = "private, no-store"
COLLECTION_ID = Path(description="The collection's id (its page is /collections/{id}).", ge=1, le=2**31 - 1, examples=[1])


def _personal(response: Response) -> Response:
    response.headers["Cache-Control"] = PERSONAL
    return response


@documented(
    tags=["library"],
    summary="A public collection, one page of its papers in the owner's order (the caller's own private ones too)",
    response_model=m.CollectionAnswer,
    responses={**m.BAD_REQUEST, 404: m.error("No such collection, or another member's private one.")},
)
async def collection(
    request: Request,
    collection_id: int = COLLECTION_ID,
    p: int = Query(0, ge=0, le=MAX_PAGE, description="Page number, from 0."),
    limit: int = Query(50, ge=1, le=100, description="Papers per page."),
) -> Response:
    member = api_member(request)
    site = site_of(request)

    def build() -> Response:
        with site.store.session() as session:
            row = shown(session, collection_id, member)
            cards, total = lib.papers_of(session, collection_id, limit=limit, offset=p * limit)
            items = feed_store.items_for(session, cards)
        base = base_url(request)
        path = f"{base}/collections/{row.id}"
        body = {
            "id": row.id,
            "name": row.name,
            "description": row.description,
            "public": row.is_public,
            "owner": row.owner or "",
            "url": path,
            "feed": f"{path}.atom" if row.is_public else None,
            "exports": {kind: f"{path}/export.{kind}" for kind in citations.FORMATS},
            "createdAt": shapes.iso(row.created_at),
            "updatedAt": shapes.iso(row.updated_at),
            "numPapers": total,
            "papers": [
                dict(shapes.paper_info(item, base, apart=apart_votes(site)), position=p * limit + i)
                for i, item in enumerate(items, 1)
            ],
        }
        response = json_response(body)
        if row.is_public and member is None:
            response.headers["Cache-Control"] = "no-cache"
            return response
        return _personal(response)

    return await run_in_threadpool(build)


@documented(
    tags=["library"],
    summary="The caller's library: collections, tags, notes, read marks (a personal token as Bearer, or the session)",
    response_model=m.LibraryAnswer,
    responses={401: m.error("No caller: send a live personal API token as `Authorization: Bearer <token>`, or sign in.")},
)
async def my_library(request: Request) -> Response:
    member = api_member(request)
    if member is None:
        return _personal(json_response({"error": "send a personal API token (Authorization: Bearer) or sign in"}, 401))
    site = site_of(request)

    def build() -> Response:
        uid = member["id"]
        with site.store.session() as session, session.begin():
            lib.default_collection(session, uid)
            rows = lib.of_member(session, uid)
            orders = {r.id: lib.paper_order(session, r.id) for r in rows}
            tagged = note_store.tags_by_paper(session, uid)
            noted = note_store.noted_papers(session, uid)
            read, _ = note_store.read_papers(session, uid, limit=100_000)
            ids = sorted({pid for order in orders.values() for pid in order} | set(tagged) | set(noted))
            arxiv = {pid: card.arxiv_id for pid, card in paper_store.get_many(session, ids).items()}
        base = base_url(request)
        by_tag: dict[str, list[str]] = {}
        for pid, tags in tagged.items():
            for tag in tags:
                by_tag.setdefault(tag, []).append(arxiv[pid])
        body = {
            "user": member["username"],
            "collections": [
                {
                    "id": r.id, "name": r.name, "description": r.description, "public": r.is_public, "default": r.is_default,
                    "url": f"{base}/collections/{r.id}", "createdAt": shapes.iso(r.created_at), "updatedAt": shapes.iso(r.updated_at),
                    "papers": [arxiv[pid] for pid in orders[r.id] if pid in arxiv],
                }
                for r in rows
            ],
            "tags": [{"tag": t, "papers": sorted(v)} for t, v in sorted(by_tag.items())],
            "notes": [{"id": arxiv[pid], "note": note} for pid, note in sorted(noted.items()) if pid in arxiv],
            "read": [{"id": card.arxiv_id, "readAt": shapes.iso(at)} for card, at in read],
        }
        return _personal(json_response(body))

    return await run_in_threadpool(build)
