"""A polite HTTP client for upstream sources: one request per interval, retries with backoff,
a descriptive User-Agent. arXiv asks for at most one request every three seconds."""

from __future__ import annotations

import email.utils
import logging
import time

from collections.abc import Callable

import httpx

from ..config import Settings
from ..errors import SourceError

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}


class TooLarge(SourceError):
    """An answer bigger than the caller's cap (never retried)."""


class PoliteClient:
    """`pacer`, when given, is called before each request and waits for this client's turn instead
    of the client's own interval: store/pacing.SharedPace shares arXiv's 3 seconds between every
    job and process of a site. `interval`: seconds between requests (default arXiv's). `quiet`:
    retries are logged at debug level only, for jobs whose one failure line says it all (an offline
    instance's daily mirror)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep=time.sleep,
        clock=time.monotonic,
        pacer: Callable[[], None] | None = None,
        interval: float | None = None,
        quiet: bool = False,
    ):
        self.interval = settings.arxiv_request_interval if interval is None else interval
        self.pacer = pacer
        self.quiet = quiet
        self.retries = settings.http_retries
        self.backoff = settings.http_backoff
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self.requests = 0  # requests sent, retries included
        self.client = httpx.Client(
            timeout=settings.http_timeout,
            headers={"User-Agent": settings.user_agent},
            follow_redirects=True,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait_turn(self) -> None:
        if self.pacer is not None:
            self.pacer()
            return
        if self._last is not None:
            wait = self.interval - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        if value.strip().isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())

    def _fetch(self, url: str, params: dict | None, headers: dict | None, max_bytes: int | None) -> httpx.Response:
        if max_bytes is None:
            return self.client.get(url, params=params, headers=headers)
        with self.client.stream("GET", url, params=params, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if response.status_code < 400 and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(f"{url} is {int(declared) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB cap")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge(f"{url} is over the {max_bytes / 1e6:.1f} MB cap")
        # The body is decoded already: keep the headers but those that describe the wire encoding.
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)

    def get(self, url: str, params: dict | None = None, headers: dict | None = None, *, max_bytes: int | None = None) -> httpx.Response:
        """GET with pacing and retries; raises SourceError with one clear line when it gives up.
        With `max_bytes`, a body larger than that is not read past it: TooLarge (a SourceError)."""
        attempt = 0
        while True:
            self._wait_turn()
            self.requests += 1
            problem: str
            delay = self.backoff * (2**attempt)
            try:
                response = self._fetch(url, params, headers, max_bytes)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = f"could not connect ({exc.__class__.__name__})"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUS:
                    return response  # the caller decides: arXiv answers 400 with an Atom error entry
                problem = f"answered HTTP {response.status_code}"
                retry_after = self._retry_after(response)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, 600.0))
            if attempt >= self.retries:
                tries = f"; gave up after {attempt + 1} attempts" if attempt else ""
                raise SourceError(f"{url} {problem}{tries}")
            log.log(logging.DEBUG if self.quiet else logging.WARNING, "%s %s; retrying in %.1fs", url, problem, delay)
            self._sleep(delay)
            attempt += 1
