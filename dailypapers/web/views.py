"""Helpers every HTML handler uses: rendering with the common context, the anonymous page cache,
errors as pages."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from . import cardview, httpcache
from .auth import current_user
from .site import site_of


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """A page from a template; the context always has the user, the path and `csrf()`, which
    issues the CSRF token (and its cookie) only for pages that contain a form."""
    site = site_of(request)
    if "user" not in context:
        context["user"] = current_user(request)

    def csrf() -> str:
        request.state.issued_csrf = True  # such a page is personal: never cached
        return request.scope["csrftoken"]()

    context.update(request=request, path=request.url.path, csrf=csrf, base_url=site.base_url)
    context.setdefault("view", cardview.chosen(request))
    context.setdefault("view_link", lambda v: cardview.link(request, v))
    html = site.templates.get_template(template).render(context)
    response = HTMLResponse(html, status_code=status)
    cardview.remember(request, response)
    if getattr(request.state, "issued_csrf", False):  # its token belongs to this visitor's cookie
        response.headers["cache-control"] = "private, no-cache"
    return response


async def cached(request: Request, build: Callable[[], Response]) -> Response:
    """Serve anonymous visitors from the page cache; signed-in users always get a fresh render
    (their pages show their own votes). `build` runs in a worker thread (it queries the store).

    Every 200 answer carries an ETag, and a 304 goes to a client that holds it already
    (web/httpcache.py); a cached answer keeps its tag and its gzipped body, so neither a 304 nor a
    compressed answer costs a render. Answers vary with the session cookie: anonymous ones may be
    kept by shared caches and carry Last-Modified; personal ones (signed in, or holding a CSRF
    token) are private and validated by their tag alone."""
    site = site_of(request)
    anonymous = not request.cookies.get("dp_session")
    key = request.url.path + "?" + request.url.query + cardview.cache_key(request)
    if anonymous:
        if site.base_url_per_request:  # answers link to the address asked for: keep them apart
            key = site.base_url + key
        hit = site.cache.get(key)
        if hit is not None:
            return httpcache.answer(hit, request.headers)

    def render():  # in a worker thread: the store's queries, the hash and the compression
        response = build()
        if response.status_code != 200:
            return response, None, False, None
        shared = anonymous and not getattr(request.state, "issued_csrf", False) and b"set-cookie" not in dict(response.raw_headers)
        return response, httpcache.etag_of(response.body), shared, httpcache.compress(response.body) if shared else None

    response, etag, shared, packed = await run_in_threadpool(render)
    if etag is None:
        return response
    response.headers["etag"] = etag
    response.headers.add_vary_header("Cookie")
    if shared:
        response.headers.setdefault("cache-control", "no-cache")  # keep it, but ask each time (a 304)
        headers = {k.decode(): v.decode() for k, v in response.raw_headers if k not in (b"content-length", b"content-type")}
        stored = httpcache.Stored(response.body, packed, response.media_type, headers, etag, site.cache.changed_at())
        site.cache.put(key, stored, stored.size)
        return httpcache.answer(stored, request.headers)
    response.headers["cache-control"] = "private, no-cache"
    if httpcache.not_modified(request.headers, etag, None):
        return Response(status_code=304, headers=httpcache.kept_on_304(response.headers))
    return response


def error_page(request: Request, status: int, message: str, headers: dict | None = None, **context) -> Response:
    """An error as a page; `context` may set the template's variables (user=None: the page must not
    look up the visitor, the database being away)."""
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 413: "Too large", 429: "Slow down",
              500: "Something broke", 503: "Back in a moment"}
    response = render(request, "error.html", status=status, title=titles.get(status, "Error"), message=message, **context)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith("/api/")
