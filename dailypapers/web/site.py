"""The state one web process shares between requests: store, settings, templates, limits, caches."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from starlette.requests import Request

from ..config import Settings
from ..siteurl import from_host_header
from ..store import kv
from ..store.engine import Store
from . import vendor
from .render import STATIC, make_environment
from .security import RateLimiter


class PageCache:
    """Rendered responses for anonymous visitors, valid while the store's content_version stands.

    The version is read at most every `check_every` seconds, so a change shows up within that
    bound in every process; between checks a hit costs a dict lookup. The cache holds at most
    `budget` bytes of responses (least recently used go first), so a web process's memory stays
    bounded whatever mix of pages it serves: a day's JSON is hundreds of times a paper page.
    `changed_at()` says when the content last changed: the answers' Last-Modified."""

    ENTRY_OVERHEAD = 400  # bytes of key, headers and bookkeeping counted with each response

    def __init__(self, store: Store, *, budget: int = 64 * 2**20, check_every: float = 0.25):
        self.store = store
        self.budget = budget
        self.check_every = check_every
        self._items: OrderedDict[str, tuple[str, object, int]] = OrderedDict()
        self.bytes = 0
        self._version: str | None = None
        self._checked = 0.0
        self._started = time.time()
        self._changed = self._started
        self._lock = threading.Lock()

    def version(self) -> str:
        now = time.monotonic()
        if now - self._checked >= self.check_every:
            with self.store.session() as session:
                current, stamp = kv.read_stamped(session, kv.CONTENT_VERSION) or ("0", None)
            self._checked = now
            if stamp is not None:
                self._changed = max(self._started, stamp.replace(tzinfo=dt.UTC).timestamp())
            if current != self._version:
                with self._lock:
                    self._items.clear()
                    self.bytes = 0
                    self._version = current
        return self._version or "0"

    def changed_at(self) -> float:
        """When the content last changed, in seconds since the epoch (never before this process started)."""
        self.version()
        return self._changed

    def get(self, key: str):
        if not self.budget:
            return None
        version = self.version()
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value, size: int) -> None:
        """Keep `value`, which holds about `size` bytes (a response body's length)."""
        cost = size + len(key) + self.ENTRY_OVERHEAD
        if cost > self.budget // 4:  # one response never takes over the cache
            return
        version = self.version()
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[2]
            self._items[key] = (version, value, cost)
            self.bytes += cost
            while self.bytes > self.budget:
                _, (_, _, freed) = self._items.popitem(last=False)
                self.bytes -= freed

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0
            self._checked = 0.0


class Site:
    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store = store or Store(settings)
        self.tz = ZoneInfo(settings.timezone)
        self.secret = settings.secret_key or kv.get_or_create(self.store, "secret_key", lambda: _token(48))
        self.cache = PageCache(self.store, budget=settings.page_cache_mb * 2**20)
        self.limiter = RateLimiter(settings.rate_limit_storage, self.store)
        self.vendor = vendor.installed(settings.vendor_dir)  # which front-end packages the pages may use
        self.templates = make_environment(
            {"site_name": settings.site_name, "base_url": settings.base_url, "static": self.static_url,
             "vendor": self.vendor, "hf_votes": settings.hf_votes}
        )
        self._static_versions: dict[str, str] = {}
        self.indexes_ready = lambda: True  # the app's index follower replaces it (web/app.py)
        self.base_url_per_request = settings.base_url_per_request  # read on every cached answer

    def static_url(self, path: str) -> str:
        """/static/... with a content hash, so browsers may cache static files for a year."""
        version = self._static_versions.get(path)
        if version is None:
            import hashlib

            file = STATIC / path
            version = hashlib.blake2b(file.read_bytes(), digest_size=6).hexdigest() if file.is_file() else "0"
            self._static_versions[path] = version
        return f"/static/{path}?v={version}"

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def now(self) -> dt.datetime:
        """Naive UTC, as the store keeps times."""
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    @property
    def base_url(self) -> str:
        """The site's address for absolute links in the answer being built: DAILYPAPERS_BASE_URL,
        or the one derived from where the site listens, or, for a wildcard bind without either,
        the address this request asked for (RequestBaseURL). Emails use settings.base_url: never
        a request's."""
        return _request_base.get() or self.settings.base_url

    def url(self, path: str) -> str:
        return self.base_url + path


_request_base: ContextVar[str | None] = ContextVar("dailypapers_request_base", default=None)


class RequestBaseURL:
    """ASGI middleware for a site without a known address (a wildcard bind, no base URL): each
    request's well-formed Host header, with its scheme, is the base of the links in its answer
    (see Site.base_url; the page cache keeps answers apart by it)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), None)
        token = _request_base.set(from_host_header(scope.get("scheme", "http"), host))
        try:
            await self.app(scope, receive, send)
        finally:
            _request_base.reset(token)


def _token(n: int) -> str:
    import secrets

    return secrets.token_urlsafe(n)


def site_of(request: Request) -> Site:
    return request.app.state.site
