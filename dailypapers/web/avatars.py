"""Generated pictures: a member's avatar at /u/{name}/avatar.svg, and the site's favicon.

An avatar is the name's initials on a colour picked from the name (case-insensitively, as usernames
are), so it is the same on every request and every host, for members and for the Hugging Face
submitters who are only names in the daily entries. It is plain SVG: no script, no style element,
the initials escaped."""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from functools import lru_cache

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFoundError

MAX_NAME = 100  # daily_entries.submitter_name holds 100 characters
# Dark enough for white initials (WCAG AA for large text) in light and dark pages alike.
PALETTE = ("#4f46e5", "#0e7490", "#b45309", "#be123c", "#15803d", "#7c3aed", "#1d4ed8", "#c2410c", "#0f766e", "#a21caf",
           "#4d7c0f", "#9f1239")
CACHE = "public, max-age=86400"


def linkable(name: str | None) -> bool:
    """Whether a name can have a page and an avatar: 1 to 100 characters, no control characters,
    no slash, no surrounding spaces, not . or .. (which a browser would resolve away)."""
    if not name or len(name) > MAX_NAME or name != name.strip() or name in (".", ".."):
        return False
    return not any(c == "/" or unicodedata.category(c).startswith("C") for c in name)


def initials(name: str) -> str:
    """The first letters of the first two words ("Zesen Cheng" -> "ZC"), else the first letter."""
    words = [w for w in re.split(r"[\s._-]+", name) if w]
    letters = [w[0] for w in words[:2]] if len(words) >= 2 else [name[0]]
    return "".join(letters).upper()


@lru_cache(maxsize=4096)
def svg(name: str) -> str:
    """The avatar of a name, as an SVG document (decorative: pages put the name beside it)."""
    digest = hashlib.blake2b(name.lower().encode(), digest_size=8).digest()
    color = PALETTE[digest[0] % len(PALETTE)]
    letters = initials(name)
    size = 30 if len(letters) == 1 else 26
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" aria-hidden="true">'
        f'<rect width="64" height="64" rx="32" fill="{color}"/>'
        f'<text x="32" y="32" dy="0.35em" text-anchor="middle" fill="#ffffff" font-size="{size}" font-weight="600" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">{escape(letters)}</text></svg>\n'
    )


async def avatar(request: Request) -> Response:
    """GET /u/{name}/avatar.svg"""
    name = request.path_params["username"]
    if not linkable(name):
        raise NotFoundError("not a user name")
    body = svg(name)
    etag = '"' + hashlib.blake2b(body.encode(), digest_size=8).hexdigest() + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE})
    return Response(body, media_type="image/svg+xml", headers={"ETag": etag, "Cache-Control": CACHE})


# --- the favicon ----------------------------------------------------------------------------------
# The same picture as static/favicon.svg (an upvote arrow on the accent colour), drawn here as the
# 32x32 ICO that browsers and feed readers ask /favicon.ico for.

ACCENT = (0x4F, 0x46, 0xE5)


def _coverage(x: float, y: float) -> tuple[bool, bool]:
    """(inside the rounded square, inside the arrow) for a point of the 32x32 picture."""
    r = 7.0
    cx, cy = min(max(x, r), 32 - r), min(max(y, r), 32 - r)
    square = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    arrow = 8 <= y <= 23 and abs(x - 16) <= (y - 8) * 9 / 15  # apex (16, 8), base (7..25, 23)
    return square, arrow


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    """A 32-bit 32x32 ICO, anti-aliased by 4x4 supersampling."""
    rows = []
    for y in range(31, -1, -1):  # BMP rows go bottom-up
        row = bytearray()
        for x in range(32):
            square = arrow = 0
            for sy in range(4):
                for sx in range(4):
                    s, a = _coverage(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)
                    square += s
                    arrow += s and a
            white = arrow / 16
            r, g, b = (round(c * (1 - white) + 255 * white) for c in ACCENT)
            row += bytes((b, g, r, round(255 * square / 16)))
        rows.append(bytes(row))
    pixels = b"".join(rows)
    mask = b"\x00" * (4 * 32)  # the AND mask: alpha carries the shape
    header = struct.pack("<IiiHHIIiiII", 40, 32, 64, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    image = header + pixels + mask
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 32, 32, 0, 0, 1, 32, len(image), 22) + image


async def favicon(request: Request) -> Response:
    """GET /favicon.ico"""
    return Response(favicon_ico(), media_type="image/x-icon", headers={"Cache-Control": "public, max-age=604800"})
