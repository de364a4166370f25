"""The web application: FastAPI for the JSON API and its OpenAPI description, Starlette routes for
the pages (both listed in routes.py), wrapped in request limits (limits.py), security headers and CSRF protection."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..config import Settings
from ..errors import DailyPapersError, NotFoundError, database_away
from ..periods import BadPeriod
from ..store.engine import Store
from . import api, httpcache, outage
from .limits import BodyTooLarge, RequestLimits
from .routes import ROUTES
from .readonly import ReadOnlyAccess
from .render import STATIC
from .security import CsrfFailed, RateLimited, SecurityHeaders, with_csrf
from .site import RequestBaseURL, Site
from .vendor import CachedStatic, VendorFiles, missing_warning
from .views import error_page, wants_json

log = logging.getLogger(__name__)


def _error(request: Request, status: int, message: str, headers: dict | None = None, **context) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return error_page(request, status, message, headers, **context)


def create_app(settings: Settings | None = None, store: Store | None = None, *, follow_indexes: bool = True) -> FastAPI:
    """The ASGI app for one process. `dailypapers serve` calls it as a factory. Unless told not
    to, the process keeps its search indexes in step with the store (index/follow.py)."""
    settings = settings or Settings()
    _logging_in_worker()
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
    away = outage.Outage(site.store.engine, settings.database_outage_log_seconds)
    app.openapi = lambda: api.openapi_document(app)
    for method, path, handler in ROUTES:
        if hasattr(handler, "openapi"):  # the JSON API's (web/api.py): in /openapi.json
            app.add_api_route(path, handler, methods=[method], **handler.openapi)
        else:
            app.add_route(path, handler, methods=[method], include_in_schema=False)
    app.mount("/static/vendor", VendorFiles(settings.vendor_dir), name="vendor")
    warning = missing_warning(settings.vendor_dir, site.vendor)
    if warning:
        log.warning(warning)
    app.mount("/static", CachedStatic(directory=str(STATIC)), name="static")

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return _error(request, 404, str(exc))

    @app.exception_handler(BadPeriod)
    async def bad_period(request: Request, exc: BadPeriod):
        return _error(request, 400, str(exc))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge):
        return _error(request, 413, str(exc), {"Connection": "close"})

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed):
        return _error(request, 403, f"CSRF check failed: {exc}")

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _error(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(DailyPapersError)
    async def bad_request(request: Request, exc: DailyPapersError):
        return _error(request, 400, str(exc))

    @app.exception_handler(SQLAlchemyError)
    async def database_unusable(request: Request, exc: SQLAlchemyError):
        # Here, not in the catch-all below: Starlette re-raises what reaches that one (uvicorn
        # then logs its traceback) and a page for it would look up the visitor in the database.
        kind = database_away(exc)
        if kind is None:
            raise exc  # a bug: the catch-all below answers 500 and logs it
        away.refused(kind, exc)
        headers = {"Retry-After": str(outage.retry_after(kind)), "Cache-Control": "no-store"}
        if request.url.path == "/healthz":  # its own JSON shape, which load balancers may read
            return JSONResponse({"ok": False, "ready": False, "error": outage.message(kind)}, status_code=503, headers=headers)
        return _error(request, 503, outage.message(kind), headers, user=None)

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
    # Outermost first: security headers on every answer; CORS grants and HEAD for the API and feeds
    # (web/readonly.py); gzip for answers over 1 KB to clients that take it, unless compressed
    # already (cached answers, web/httpcache.py; fonts and images: Starlette's default exclusions);
    # CSRF protection.
    csrf = with_csrf(app, site.secret, secure=secure)
    compressed = httpcache.GzipWhenAccepted(csrf)
    # Outermost of all: the size and type of a request's body are settled before anything reads it.
    wrapped = RequestLimits(SecurityHeaders(ReadOnlyAccess(compressed)), max_body=settings.max_body_kb * 1024)
    if settings.base_url_per_request:
        wrapped = RequestBaseURL(wrapped)
    return _Outer(wrapped, app)


def _logging_in_worker() -> None:
    """The site's own log lines in a web process that uvicorn spawned (`serve`/`up` with several
    workers): uvicorn configures its own loggers there, not the root one, so without this the
    site's warnings would print bare and its INFO lines (the database back, indexes caught up)
    not at all. Same format as the commands' (cli/site.py), at the level uvicorn was given."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.getLogger("uvicorn.error").getEffectiveLevel(),
                            format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)


class _Outer:
    """The middleware-wrapped ASGI callable, still exposing the FastAPI app (for tests and `state`)."""

    def __init__(self, asgi, app: FastAPI):
        self._asgi = asgi
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)
