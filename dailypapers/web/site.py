"""The state one web process shares between requests: store, settings, templates, limits, caches."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from zoneinfo import ZoneInfo

from starlette.requests import Request

from ..config import Settings
from ..store import kv
from ..store.engine import Store
from .render import make_environment
from .security import RateLimiter


class PageCache:
    """Rendered responses for anonymous visitors, valid while the store's content_version stands.

    The version is read at most every `check_every` seconds, so a change shows up within that
    bound in every process; between checks a hit costs a dict lookup."""

    def __init__(self, store: Store, *, size: int = 512, check_every: float = 0.25):
        self.store = store
        self.size = size
        self.check_every = check_every
        self._items: OrderedDict[str, tuple[str, object]] = OrderedDict()
        self._version: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def version(self) -> str:
        now = time.monotonic()
        if now - self._checked >= self.check_every:
            with self.store.session() as session:
                current = kv.read(session, kv.CONTENT_VERSION) or "0"
            self._checked = now
            if current != self._version:
                with self._lock:
                    self._items.clear()
                    self._version = current
        return self._version or "0"

    def get(self, key: str):
        version = self.version()
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value) -> None:
        version = self.version()
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._checked = 0.0


class Site:
    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store = store or Store(settings)
        self.tz = ZoneInfo(settings.timezone)
        self.secret = settings.secret_key or kv.get_or_create(self.store, "secret_key", lambda: _token(48))
        self.cache = PageCache(self.store, size=2048)
        self.limiter = RateLimiter(settings.rate_limit_storage, self.store)
        self.templates = make_environment(
            {"site_name": settings.site_name, "base_url": settings.base_url.rstrip("/"), "static": self.static_url}
        )
        self._static_versions: dict[str, str] = {}
        self.indexes_ready = lambda: True  # the app's index follower replaces it (web/app.py)

    def static_url(self, path: str) -> str:
        """/static/... with a content hash, so browsers may cache static files for a year."""
        version = self._static_versions.get(path)
        if version is None:
            import hashlib

            from .app import STATIC

            file = STATIC / path
            version = hashlib.blake2b(file.read_bytes(), digest_size=6).hexdigest() if file.is_file() else "0"
            self._static_versions[path] = version
        return f"/static/{path}?v={version}"

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def now(self) -> dt.datetime:
        """Naive UTC, as the store keeps times."""
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path


def _token(n: int) -> str:
    import secrets

    return secrets.token_urlsafe(n)


def site_of(request: Request) -> Site:
    return request.app.state.site
