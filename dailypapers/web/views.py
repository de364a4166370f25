"""Helpers every HTML handler uses: rendering with the common context, the anonymous page cache,
errors as pages."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

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

    context.update(request=request, path=request.url.path, csrf=csrf, base_url=site.base_url)
    html = site.templates.get_template(template).render(context)
    return HTMLResponse(html, status_code=status)


async def cached(request: Request, build: Callable[[], Response]) -> Response:
    """Serve anonymous visitors from the page cache; signed-in users always get a fresh render
    (their pages show their own votes). `build` runs in a worker thread (it queries the store)."""
    anonymous = not request.cookies.get("dp_session")
    if anonymous:
        site = site_of(request)
        key = request.url.path + "?" + request.url.query
        if site.settings.base_url_per_request:  # answers link to the address asked for: keep them apart
            key = site.base_url + key
        hit = site.cache.get(key)
        if hit is not None:
            body, media_type, headers = hit
            return Response(body, media_type=media_type, headers=headers)
    response = await run_in_threadpool(build)
    personal = getattr(request.state, "issued_csrf", False) or b"set-cookie" in dict(response.raw_headers)
    if anonymous and response.status_code == 200 and not personal:
        headers = {k.decode(): v.decode() for k, v in response.raw_headers if k not in (b"content-length", b"content-type")}
        site.cache.put(key, (response.body, response.media_type, headers), len(response.body))
    return response


def error_page(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 429: "Slow down", 500: "Something broke"}
    response = render(request, "error.html", status=status, title=titles.get(status, "Error"), message=message)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith("/api/")
