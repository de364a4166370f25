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
import hashlib
import re
import time
import zlib
from dataclasses import dataclass

from starlette.responses import Response

_TAG = re.compile(r'(?:W/)?"[^"]*"')
# What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5), besides headers added outside.
KEPT_ON_304 = ("etag", "last-modified", "cache-control", "vary", "expires", "content-location")
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6  # zlib's default: within 1% of level 9's size, 4 to 18% faster (BENCHMARKS.md)


@dataclass(slots=True)
class Stored:
    """An answer as the page cache keeps it: both bodies, the headers a 200 carries (not its
    length or type), the tag, and when the content last changed."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    headers: dict[str, str]
    etag: str
    changed: float

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


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
    headers = stored.headers
    modified = last_modified(stored.changed)
    if modified:
        headers = {**headers, "last-modified": modified}
    if stored.gzipped is not None:
        # Two encodings: the 304 and the gzipped answer say so (GZipMiddleware says it on the identity one).
        varied = {**headers, "vary": headers["vary"] + ", Accept-Encoding"}
        if not_modified(request_headers, stored.etag, modified):
            return Response(status_code=304, headers=kept_on_304(varied))
        if accepts_gzip(request_headers):
            return Response(stored.gzipped, media_type=stored.media_type, headers={**varied, "content-encoding": "gzip"})
    elif not_modified(request_headers, stored.etag, modified):
        return Response(status_code=304, headers=kept_on_304(headers))
    return Response(stored.body, media_type=stored.media_type, headers=headers)


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
    return email.utils.formatdate(int(changed), usegmt=True)


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
