"""Hugging Face's daily papers read live: `{HF_ENDPOINT}/api/daily_papers?date=YYYY-MM-DD`, a day at a
time, politely (HF allows 500 requests in 5 minutes: one every hf_request_interval seconds, 0.6 by
default; 429 and 5xx answers are retried with backoff, Retry-After honoured). Each day's answer is
parsed by hf_daily, the same reader as a saved response (`dailypapers ingest FILE.json`)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import SourceError
from . import hf_daily
from .common import Item

if TYPE_CHECKING:
    from .http import PoliteClient

MAX_DAYS = 3660  # one target spans at most ten years of days: a typo's range fails at once
PAGE_SIZE = 100  # items asked for per request (HF's largest page); a day rarely holds more than 60
MAX_PAGES = 10


def parse_target(spec: str) -> list[dt.date]:
    """'hf:2026-11-20' -> that day; 'hf:2026-11-20..2026-11-27' -> every day of the range, inclusive."""
    body = spec.split(":", 1)[1].strip() if ":" in spec else spec.strip()
    first, sep, last = body.partition("..")
    try:
        start = dt.date.fromisoformat(first.strip())
        end = dt.date.fromisoformat(last.strip()) if sep else start
    except ValueError:
        raise SourceError(f"{spec}: name a day or a range of days, hf:2026-11-20 or hf:2026-11-20..2026-11-27") from None
    if end < start:
        raise SourceError(f"{spec}: the range ends ({end}) before it starts ({start})")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise SourceError(f"{spec}: {count:,} days; import at most {MAX_DAYS:,} days at a time")
    return [start + dt.timedelta(days=i) for i in range(count)]


def client(settings: Settings, *, quiet: bool = False) -> "PoliteClient":
    """An HTTP client paced for Hugging Face."""
    from .http import PoliteClient

    return PoliteClient(settings, interval=settings.hf_request_interval, quiet=quiet)


def day_url(settings: Settings) -> str:
    return settings.hf_endpoint.rstrip("/") + "/api/daily_papers"


def fetch_day(settings: Settings, http: "PoliteClient", day: dt.date) -> list[Item]:
    """Every item HF lists for `day` (records, and rejections for items that cannot be read).
    Raises SourceError with one line when HF cannot be read."""
    url = day_url(settings)
    items: list[Item] = []
    for page in range(MAX_PAGES):
        params = {"date": day.isoformat(), "limit": str(PAGE_SIZE)}
        if page:
            params["p"] = str(page)
        response = http.get(url, params=params)
        if response.status_code >= 400:
            raise SourceError(f"{url}?date={day} answered HTTP {response.status_code}")
        body = response.content
        if not body.lstrip().startswith(b"["):
            raise SourceError(f"{url}?date={day} did not answer a JSON list")
        got = list(hf_daily.parse(io.BytesIO(body)))
        items.extend(got)
        if len(got) < PAGE_SIZE:
            break
    return items


def fetch_days(settings: Settings, days: list[dt.date], *, quiet: bool = False) -> Iterator[tuple[dt.date, list[Item]]]:
    """(day, its items) for each day, in order, through one paced client."""
    with client(settings, quiet=quiet) as http:
        for day in days:
            yield day, fetch_day(settings, http, day)
