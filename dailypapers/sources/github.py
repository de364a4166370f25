"""GitHub's REST API for a repository's stars: `GET {github_api_url}/repos/{owner}/{repo}`, politely.
Conditional requests (If-None-Match with the ETag of the last answer: a 304 costs no quota and keeps
the stars), the rate-limit headers honoured (X-RateLimit-Remaining/Reset; Retry-After on a secondary
limit), and an optional token, sent only in the Authorization header and never logged."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import SourceError

if TYPE_CHECKING:
    from .http import PoliteClient

REQUEST_INTERVAL = 0.5  # seconds between requests: GitHub asks clients not to fire them concurrently
SHORT_WAIT = 60.0  # a Retry-After up to this long is waited out; a longer one ends the run


@dataclass
class RepoAnswer:
    kind: str  # stars | unchanged (304) | gone (404/451) | limited (rate limit: wait until `reset_at`)
    stars: int | None = None
    etag: str | None = None
    reset_at: float | None = None  # epoch seconds when the quota comes back
    remaining: int | None = None  # requests left in the window, as GitHub said


def client(settings: Settings) -> "PoliteClient":
    from .http import PoliteClient

    return PoliteClient(settings, interval=REQUEST_INTERVAL, quiet=True)


def _headers(settings: Settings, etag: str | None) -> dict[str, str]:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if settings.github_token:
        headers["Authorization"] = f"Bearer {settings.github_token}"
    if etag:
        headers["If-None-Match"] = etag
    return headers


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_repo(settings: Settings, http: "PoliteClient", owner_repo: str, etag: str | None, *, sleep=time.sleep, now=time.time) -> RepoAnswer:
    """The repository's stars, or why not. Raises SourceError (one line) when GitHub cannot be read."""
    url = f"{settings.github_api_url.rstrip('/')}/repos/{owner_repo}"
    for attempt in range(2):
        response = http.get(url, headers=_headers(settings, etag))
        remaining = _int(response.headers.get("X-RateLimit-Remaining"))
        reset = _int(response.headers.get("X-RateLimit-Reset"))
        status = response.status_code
        if status == 304:
            return RepoAnswer("unchanged", etag=etag, remaining=remaining, reset_at=reset)
        if status == 200:
            try:
                stars = response.json().get("stargazers_count")
            except ValueError:
                stars = None
            if not isinstance(stars, int) or isinstance(stars, bool) or stars < 0:
                raise SourceError(f"{url} answered without stargazers_count")
            return RepoAnswer("stars", stars=stars, etag=response.headers.get("ETag"), remaining=remaining, reset_at=reset)
        if status in (404, 410, 451):
            return RepoAnswer("gone", remaining=remaining, reset_at=reset)
        if status in (403, 429):
            retry_after = _int(response.headers.get("Retry-After"))
            if retry_after is not None and retry_after <= SHORT_WAIT and attempt == 0:
                sleep(retry_after)
                continue
            if remaining == 0 or retry_after is not None or status == 429:
                until = reset if remaining == 0 and reset else now() + (retry_after or SHORT_WAIT)
                return RepoAnswer("limited", remaining=0, reset_at=float(until))
        raise SourceError(f"{url} answered HTTP {status}")
    raise SourceError(f"{url} still rate limited after waiting")
