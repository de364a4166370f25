"""HTTP validators, conditional requests (RFC 9110 section 13) and compressed answers for
web/views.py's `cached`, through which every page, API read and feed goes: it tags each answer,
answers 304 when the client holds it already, and keeps a gzipped copy of each cached answer.

- ETag: a hash of the body, always weak (`W/"..."`): the gzipped and the identity body share the
  tag, which only a weak tag may do. If-None-Match compares weakly, as the RFC has it, and accepts
  a list and `*`.
- Last-Modified: when the store's content last changed (the content_version counter's time) or when
  this process started, whichever is later (a new release may render the same data differently).
  HTTP dates count whole seconds, so a change in the second an answer is made could hide a second
  change in that same second: the header is left out until that second has passed.
- If-Modified-Since counts only without If-None-Match and only where Last-Modified is given.
- gzip: a cached answer over 1 KB is compressed once, when it is cached, not on every request
  (compressing a day's JSON takes longer than serving it from the cache many times over:
  BENCHMARKS.md); other answers go through Starlette's GZipMiddleware (web/app.py)."""

from __future__ import annotations

import email.utils
import functools
import hashlib
import re
import time
import zlib
from dataclasses import dataclass

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

_TAG = re.compile(r'(?:W/)?"[^"]*"')
# What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5), besides headers added outside.
KEPT_ON_304 = ("etag", "last-modified", "cache-control", "vary", "expires", "content-location")
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6  # zlib's default: within 1% of level 9's size, 4 to 18% faster (BENCHMARKS.md)


@dataclass(slots=True)
class Stored:
    """An answer as the page cache keeps it: both bodies, the headers a 200 carries (not its
    length or type), the tag, and when the content last changed. The raw header lists of its
    answers are built once (`_raw`), not on every request."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    headers: dict[str, str]
    etag: str
    changed: float
    _raw: dict | None = None  # (kind, Last-Modified) -> raw header list, see raw_headers

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def raw_headers(self, kind: str, modified: str | None) -> list[tuple[bytes, bytes]]:
        """The raw headers of its "identity", "gzip" or "304" answer (with Last-Modified when given)."""
        key = (kind, modified)
        if self._raw is None:
            self._raw = {}
        found = self._raw.get(key)
        if found is None:
            headers = dict(self.headers)
            if modified:
                headers["last-modified"] = modified
            if self.gzipped is not None:  # two encodings: every answer says so
                headers["vary"] = headers["vary"] + ", Accept-Encoding" if headers.get("vary") else "Accept-Encoding"
            if kind == "304":
                headers = kept_on_304(headers)
            else:
                body = self.gzipped if kind == "gzip" else self.body
                headers["content-length"] = str(len(body))
                headers["content-type"] = _content_type(self.media_type)
                if kind == "gzip":
                    headers["content-encoding"] = "gzip"
            found = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            self._raw[key] = found
        return found


def _content_type(media_type: str) -> str:
    if media_type.startswith("text/") and "charset=" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


class Ready(Response):
    """A response whose body and raw headers are built already (a stored answer)."""

    def __init__(self, body: bytes, raw_headers: list, status_code: int = 200):
        self.body = body
        self.status_code = status_code
        self.background = None
        self.raw_headers = list(raw_headers)  # middleware may append to them


def compress(body: bytes) -> bytes | None:
    """The gzip encoding of a body worth compressing, else None."""
    if len(body) < GZIP_MIN_BYTES:
        return None
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


def accepts_gzip(request_headers) -> bool:
    return "gzip" in request_headers.get("accept-encoding", "")  # as Starlette's GZipMiddleware decides


def answer(stored: Stored, request_headers) -> Response:
    """The 304, the gzipped or the identity answer for a stored one."""
    modified = last_modified(stored.changed)
    if not_modified(request_headers, stored.etag, modified):
        return Ready(b"", stored.raw_headers("304", modified), 304)
    if stored.gzipped is not None and accepts_gzip(request_headers):
        return Ready(stored.gzipped, stored.raw_headers("gzip", modified))
    return Ready(stored.body, stored.raw_headers("identity", modified))


def etag_of(body: bytes) -> str:
    return 'W/"%s"' % hashlib.blake2b(body, digest_size=16).hexdigest()


def last_modified(changed: float | None, now: float | None = None) -> str | None:
    """The Last-Modified header for content last changed at `changed` (seconds since the epoch), or
    None while that second is not yet over."""
    if changed is None:
        return None
    now = time.time() if now is None else now
    if int(changed) >= int(now):
        return None
    return _http_date(int(changed))


@functools.lru_cache(maxsize=64)
def _http_date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


class GzipWhenAccepted:
    """Starlette's GZipMiddleware for the requests that accept gzip; the others skip it (its
    identity path costs as much as a cached answer's whole render). Pure ASGI."""

    def __init__(self, app):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding":
                    if b"gzip" in value:
                        await self.gzip(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison: any listed tag with the same opaque value, or `*`."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in _TAG.findall(header))


def not_modified(request_headers, etag: str, modified: str | None) -> bool:
    """Whether a GET or HEAD with these headers may be answered 304 for this representation."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    since = request_headers.get("if-modified-since")
    if not since or not modified:
        return False
    try:
        return email.utils.parsedate_to_datetime(modified) <= email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # not an HTTP date: ignored, as the RFC says


def kept_on_304(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in KEPT_ON_304}
