"""Helpers every HTML handler uses: rendering with the common context, the anonymous page cache,
errors as pages."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from . import httpcache
from .auth import current_user
from .site import site_of


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """A page from a template; the context always has the user, the path and `csrf()`, which
    issues the CSRF token (and its cookie) only for pages that contain a form."""
    site = site_of(request)
    context.setdefault("user", current_user(request))

    def csrf() -> str:
        request.state.issued_csrf = True  # such a page is personal: never cached
        return request.scope["csrftoken"]()

    context.update(request=request, path=request.url.path, csrf=csrf)
    html = site.templates.get_template(template).render(context)
    response = HTMLResponse(html, status_code=status)
    if getattr(request.state, "issued_csrf", False):  # its token belongs to this visitor's cookie
        response.headers["cache-control"] = "private, no-cache"
    return response


async def cached(request: Request, build: Callable[[], Response]) -> Response:
    """Serve anonymous visitors from the page cache; signed-in users always get a fresh render
    (their pages show their own votes). `build` runs in a worker thread (it queries the store).

    Every 200 answer carries an ETag, and a 304 goes to a client that holds it already
    (web/httpcache.py); a cached answer keeps its tag, so that costs no render. Answers vary with
    the session cookie: anonymous ones may be kept by shared caches and carry Last-Modified,
    personal ones (signed in, or holding a CSRF token) are private and validated by their tag alone."""
    site = site_of(request)
    anonymous = not request.cookies.get("dp_session")
    key = request.url.path + "?" + request.url.query
    if anonymous:
        hit = site.cache.get(key)
        if hit is not None:
            body, media_type, headers, etag, changed = hit
            modified = httpcache.last_modified(changed)
            if modified:
                headers = {**headers, "last-modified": modified}
            if httpcache.not_modified(request.headers, etag, modified):
                return Response(status_code=304, headers=httpcache.kept_on_304(headers))
            return Response(body, media_type=media_type, headers=headers)
    response = await run_in_threadpool(build)
    if response.status_code != 200:
        return response
    personal = not anonymous or getattr(request.state, "issued_csrf", False) or b"set-cookie" in dict(response.raw_headers)
    etag = httpcache.etag_of(response.body)
    response.headers["etag"] = etag
    response.headers.add_vary_header("Cookie")
    modified = None
    if personal:
        response.headers["cache-control"] = "private, no-cache"
    else:
        response.headers.setdefault("cache-control", "no-cache")  # keep it, but ask each time (a 304)
        changed = site.cache.changed_at()
        headers = {k.decode(): v.decode() for k, v in response.raw_headers if k not in (b"content-length", b"content-type")}
        site.cache.put(key, (response.body, response.media_type, headers, etag, changed), len(response.body))
        modified = httpcache.last_modified(changed)
        if modified:
            response.headers["last-modified"] = modified
    if httpcache.not_modified(request.headers, etag, modified):
        return Response(status_code=304, headers=httpcache.kept_on_304(response.headers))
    return response


def error_page(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 429: "Slow down", 500: "Something broke"}
    response = render(request, "error.html", status=status, title=titles.get(status, "Error"), message=message)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith("/api/")
