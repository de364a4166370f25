"""/account/taste: a member's whole taste (library, tags, notes, read marks, follows, upvotes and
dismissals) as one JSON file to download, and such a file imported, merged into theirs
(store/taste.py has the format). The import form posts the file's text (static/app.js reads a
chosen file into it; without JavaScript it is pasted), so it is capped by DAILYPAPERS_MAX_BODY_KB;
bigger files go through `dailypapers users taste-import`. A bad file changes nothing and says why
in one line; a good one is merged in one transaction and the page reports what it added, what it
queued for fetching from arXiv and what it could not place."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import DailyPapersError
from ..store import taste as taste_store
from .auth import current_user, login_redirect
from .personal import check_follow, member_writing, private
from .site import site_of
from .views import render, wants_json


def export_document(site, user: dict) -> dict:
    with site.store.session() as session:
        return taste_store.export(session, user["id"], user["username"])


def import_document(site, user_id: int, text: str | bytes) -> taste_store.Merged:
    """Parse and merge a taste file's text; BadTaste (nothing written) when it is not one."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise taste_store.BadTaste(f"not a JSON file: {str(exc)[:120]}") from None
    taste = taste_store.parse(doc, check_follow)
    with site.store.session() as session, session.begin():
        return taste_store.merge(session, user_id, taste)


async def taste_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    return private(render(request, "taste.html", report=None, error=None, max_kb=site_of(request).settings.max_body_kb))


async def export_taste(request: Request) -> Response:
    """GET /account/taste.json: the file, as an attachment."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    doc = await run_in_threadpool(export_document, site_of(request), user)
    body = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    day = doc["exported_at"][:10]
    response = Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="taste-{user["username"]}-{day}.json"',
    })
    return private(response)


async def import_taste(request: Request) -> Response:
    """POST /account/taste: field `taste` (the file's text); JSON answer with Accept: application/json."""
    user = member_writing(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    form = await request.form()
    text = str(form.get("taste") or "")
    try:
        if not text.strip():
            raise taste_store.BadTaste("choose a taste file (or paste its text) first")
        merged = await run_in_threadpool(import_document, site, user["id"], text)
    except DailyPapersError as exc:
        if wants_json(request):
            return private(JSONResponse({"error": str(exc)}, status_code=400))
        return private(render(request, "taste.html", status=400, report=None, error=str(exc), max_kb=site.settings.max_body_kb))
    if wants_json(request):
        return private(JSONResponse(merged.as_dict()))
    return private(render(request, "taste.html", report=merged, error=None, max_kb=site.settings.max_body_kb))
