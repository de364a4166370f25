"""Card pictures: GET /thumbnails/{arxiv_id}.webp serves a featured paper's thumbnail (made by the
thumbnails job, ingest/thumbnails.py), GET /thumbnails/{arxiv_id}.svg a card generated from the
paper's title and category, for papers without one yet, so a card never shows a broken image.

A thumbnail's URL carries its version (?v=, from when it was made), so it is cached for a year
(immutable) and a new picture is a new URL; without the current version it is cached briefly. A
.webp asked for a paper that has none answers the generated card, briefly cached."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..arxiv import split_arxiv_id
from ..errors import InvalidRecord, NotFoundError
from ..store import thumbnails as thumb_store
from .cardpictures import card_svg
from .site import site_of

FOREVER = "public, max-age=31536000, immutable"
BRIEF = "public, max-age=300"  # an unversioned or generated picture: the page may soon link a new one


def _answer(request: Request, body: bytes, media_type: str, cache: str, etag: str) -> Response:
    headers = {"Cache-Control": cache, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def thumbnail(request: Request) -> Response:
    """GET /thumbnails/{arxiv_id}.webp?v=... and /thumbnails/{arxiv_id}.svg"""
    name = request.path_params["name"]
    stem, _, kind = name.rpartition(".")
    if kind not in ("webp", "svg"):
        raise NotFoundError("thumbnails are .webp or .svg")
    try:
        arxiv_id = split_arxiv_id(stem)[0]
    except InvalidRecord:
        raise NotFoundError(f"{stem!r} is not an arXiv id") from None
    site = site_of(request)

    def look():
        with site.store.session() as session:
            row = thumb_store.of_paper(session, arxiv_id)
        if row is None or kind == "svg" or not row["version"]:
            return row, None
        path = Path(site.settings.data_dir) / row["path"]
        try:
            return row, path.read_bytes()
        except OSError:
            return row, None  # the file went away: the generated card until the job makes it again

    row, picture = await run_in_threadpool(look)
    if row is None:
        raise NotFoundError(f"no paper {arxiv_id} here")
    if picture is not None:
        current = request.query_params.get("v") == row["version"]
        return _answer(request, picture, "image/webp", FOREVER if current else BRIEF, f'"{row["version"]}"')
    body = card_svg(row["title"], row["primary_category"] or next(iter(row["categories"] or []), None)).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
    return _answer(request, body, "image/svg+xml", BRIEF if kind == "webp" else "public, max-age=86400", etag)
