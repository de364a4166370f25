"""What the site reads of a request at all, decided before anything parses a body or looks for a
CSRF token: bodies of at most `max_body_kb` (413 otherwise), and only the content types its own
forms and API send (415 otherwise).

The body cap holds both for a declared Content-Length (refused on the headers alone, before the
client has sent the body) and for a chunked body, whose bytes are counted as they arrive: the
request is refused as soon as the count passes the cap, so no more than the cap is ever held.

The site's forms are application/x-www-form-urlencoded and its API takes JSON, so multipart/form-
data is refused rather than half supported: asgi-csrf's multipart reader hands python-multipart an
argument (FileClass) that it no longer takes, and a form field may arrive as a file where every
handler expects text. The exceptions are RFC 8058 one-click unsubscribe, which mail clients
SHOULD post as multipart/form-data (its handler reads no body), and a library import's file upload
(its handler checks the form's CSRF token itself: security.check_form_csrf), whose body may also be
larger, up to IMPORT_MAX_BYTES."""

from __future__ import annotations

import json

from .security import SECURITY_HEADERS

# Methods whose body the site may read; a body sent with any other method is never read.
WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}
CONTENT_TYPES = {b"application/x-www-form-urlencoded", b"application/json"}
MULTIPART_PATHS = ("/unsubscribe/one-click/", "/library/import")
# Paths that take a larger body than max_body_kb: a library import's uploaded file.
IMPORT_MAX_BYTES = 4 * 1024 * 1024
LARGER_BODIES = {"/library/import": IMPORT_MAX_BYTES}


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the cap (app.py answers it with 413)."""

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than this site accepts ({limit // 1024} KB).")
        self.limit = limit


def _content_type(headers: dict[bytes, bytes]) -> bytes:
    return headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()


def _acceptable(content_type: bytes, path: str) -> bool:
    if not content_type or content_type in CONTENT_TYPES:
        return True
    return content_type == b"multipart/form-data" and path.startswith(MULTIPART_PATHS)


async def refuse(scope, send, status: int, message: str) -> None:
    """A short error answer that also closes the connection (the body may still be on its way)."""
    as_json = scope["path"].startswith("/api/") or b"application/json" in dict(scope.get("headers") or []).get(b"accept", b"")
    body = json.dumps({"error": message}).encode() if as_json else (message + "\n").encode()
    media = b"application/json" if as_json else b"text/plain; charset=utf-8"
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Pure ASGI middleware, outermost (web/app.py)."""

    def __init__(self, app, *, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in WITH_BODY:  # a body sent with a GET is never read
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not _acceptable(_content_type(headers), scope["path"]):
            await refuse(scope, send, 415, "This address takes a form (application/x-www-form-urlencoded) or JSON.")
            return
        cap = LARGER_BODIES.get(scope["path"], self.max_body)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await refuse(scope, send, 400, "The Content-Length header is not a number.")
                return
            if length > cap:
                await refuse(scope, send, 413, str(BodyTooLarge(cap)))
                return

        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as exc:
            # Raised where no handler of the app could answer it (the CSRF check reads bodies
            # before the app); inside the app, its own handler has answered already.
            if not started:
                await refuse(scope, send, 413, str(exc))
