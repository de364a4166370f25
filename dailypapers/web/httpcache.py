"""HTTP validators and conditional requests (RFC 9110 section 13), as pure functions: web/views.py's
`cached`, through which every page, API read and feed goes, tags each answer and answers 304 when
the client already holds it.

- ETag: a hash of the body, always weak (`W/"..."`): gzip (web/app.py) sends the same tag for the
  compressed and the identity body, which only a weak tag may do. If-None-Match compares weakly, as
  the RFC has it, and accepts a list and `*`.
- Last-Modified: when the store's content last changed (the content_version counter's time) or when
  this process started, whichever is later (a new release may render the same data differently).
  HTTP dates count whole seconds, so a change in the second an answer is made could hide a second
  change in that same second: the header is left out until that second has passed.
- If-Modified-Since counts only without If-None-Match and only where Last-Modified is given."""

from __future__ import annotations

import email.utils
import hashlib
import re
import time

_TAG = re.compile(r'(?:W/)?"[^"]*"')
# What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5), besides headers added outside.
KEPT_ON_304 = ("etag", "last-modified", "cache-control", "vary", "expires", "content-location")


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
