"""What other sites' scripts may read: the JSON API and the feeds, from any origin.

GET and HEAD there get `Access-Control-Allow-Origin: *` (every answer, errors and 304s included, so
shared caches need no `Vary: Origin`), never credentials: a cross-origin script reads what an
anonymous visitor would. Their preflights (OPTIONS asking for GET or HEAD) are answered here.
Everything else gets no grant: the state-changing routes (upvotes, subscriptions) and the HTML
pages, so a browser keeps other sites' scripts from reading them or sending them anything but a
simple form post, which the CSRF middleware refuses. HEAD on these paths is answered as a GET
without its body (FastAPI's routes answer GET only), so its headers are the GET's."""

from __future__ import annotations

import re

PUBLIC_PREFIXES = ("/api/", "/feeds/")
PUBLIC_PATHS = frozenset({"/openapi.json"})
READS = frozenset({"GET", "HEAD"})
GRANT = [
    (b"access-control-allow-origin", b"*"),
    # Readable beyond the CORS-safelisted headers: the validator, and how long to wait after a 429.
    (b"access-control-expose-headers", b"ETag, Retry-After"),
]
PREFLIGHT_MAX_AGE = b"86400"
_HEADER_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_PATHS


class ReadOnlyAccess:
    """Pure ASGI middleware (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self._preflight(scope, receive, send)
            return
        if method not in READS:
            await self.app(scope, receive, send)
            return

        head = method == "HEAD"

        async def granted(event):
            if event["type"] == "http.response.start":
                event = {**event, "headers": [*event.get("headers", []), *GRANT]}
            elif head and event["type"] == "http.response.body":
                event = {**event, "body": b""}
            await send(event)

        await self.app({**scope, "method": "GET"} if head else scope, receive, granted)

    async def _preflight(self, scope, receive, send):
        headers = dict(scope["headers"])
        asked = headers.get(b"access-control-request-method", b"").decode("latin-1").strip().upper()
        if b"origin" not in headers or asked not in READS:
            await self.app(scope, receive, send)  # not a preflight we grant: the app answers (405)
            return
        response = [*GRANT, (b"access-control-allow-methods", b"GET, HEAD"), (b"access-control-max-age", PREFLIGHT_MAX_AGE)]
        wanted = headers.get(b"access-control-request-headers", b"").decode("latin-1").strip()
        if wanted and _HEADER_LIST.match(wanted):
            response.append((b"access-control-allow-headers", wanted.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": response})
        await send({"type": "http.response.body", "body": b""})
