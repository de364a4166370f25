"""The web application: FastAPI for the JSON API and its OpenAPI description, Starlette routes for
the pages (see routes.py), wrapped in CSRF protection and security headers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..config import Settings
from ..errors import DailyPapersError, NotFoundError
from ..periods import BadPeriod
from ..store.engine import Store
from . import api
from .routes import ROUTES
from .security import RateLimited, SecurityHeaders, with_csrf
from .site import RequestBaseURL, Site
from .views import error_page, wants_json

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


class CachedStatic(StaticFiles):
    """Static files with long caching: their URLs carry a content hash (Site.static_url)."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _error(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return error_page(request, status, message, headers)


def create_app(settings: Settings | None = None, store: Store | None = None, *, follow_indexes: bool = True) -> FastAPI:
    """The ASGI app for one process. `dailypapers serve` calls it as a factory. Unless told not
    to, the process keeps its search indexes in step with the store (index/follow.py)."""
    settings = settings or Settings()
    site = Site(settings, store)

    @asynccontextmanager
    async def lifespan(_app):
        from ..index.follow import IndexFollower

        follower = IndexFollower(site.store, settings.index_follow_seconds).start() if follow_indexes else None
        site.indexes_ready = follower.ready.is_set if follower else (lambda: True)
        yield
        if follower:
            follower.stop()
        site.store.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title=f"{settings.site_name} API",
        version=__version__,
        description="Daily papers, trending, search. Compatible with Hugging Face's papers API.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.site = site
    app.include_router(api.router)
    for method, path, handler in ROUTES:
        app.add_route(path, handler, methods=[method], include_in_schema=False)
    app.mount("/static/vendor", CachedStatic(directory=str(settings.vendor_dir), check_dir=False), name="vendor")
    app.mount("/static", CachedStatic(directory=str(STATIC)), name="static")

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return _error(request, 404, str(exc))

    @app.exception_handler(BadPeriod)
    async def bad_period(request: Request, exc: BadPeriod):
        return _error(request, 400, str(exc))

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _error(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(DailyPapersError)
    async def bad_request(request: Request, exc: DailyPapersError):
        return _error(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:])
        return _error(request, 400, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(404)
    async def missing(request: Request, exc):
        return _error(request, 404, "There is nothing at this address.")

    @app.exception_handler(405)
    async def wrong_method(request: Request, exc):
        return _error(request, 405, "This address does not take that method.")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return _error(request, 500, "Something went wrong on our side; it has been logged.")

    secure = settings.base_url.startswith("https://")
    wrapped = SecurityHeaders(with_csrf(app, site.secret, secure=secure))
    if settings.base_url_per_request:
        wrapped = RequestBaseURL(wrapped)
    return _Outer(wrapped, app)


class _Outer:
    """The middleware-wrapped ASGI callable, still exposing the FastAPI app (for tests and `state`)."""

    def __init__(self, asgi, app: FastAPI):
        self._asgi = asgi
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)
