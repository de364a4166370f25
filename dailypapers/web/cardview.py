"""How a feed shows its papers: a grid of cards with their pictures (the default, as on
hf.co/papers) or a compact list. The choice is a link (?view=list, ?view=grid), so it works without
JavaScript, and is remembered in a cookie; the page cache keeps each view's page apart."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

VIEWS = ("grid", "list")
COOKIE = "dp_view"
YEAR = 365 * 86400


def chosen(request: Request) -> str:
    """The view this request asks for (?view=), else the one remembered, else the grid."""
    asked = request.query_params.get("view")
    if asked in VIEWS:
        return asked
    kept = request.cookies.get(COOKIE)
    return kept if kept in VIEWS else "grid"


def cache_key(request: Request) -> str:
    """What the page cache adds to its key: the view, when it is not the default."""
    view = chosen(request)
    return "" if view == "grid" else f"#view={view}"


def remember(request: Request, response: Response) -> None:
    """Keep a view asked for by ?view= in the cookie (read by the pages that follow)."""
    asked = request.query_params.get("view")
    if asked in VIEWS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=YEAR, httponly=True, samesite="lax", path="/")


def link(request: Request, view: str) -> str:
    """This page in another view (the other parameters kept, back to its first page)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("view", "page")]
    return request.url.path + "?" + urlencode([*params, ("view", view)])
