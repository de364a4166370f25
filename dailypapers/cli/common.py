"""What every command shares: the consoles, the settings, the store, and date options.

Command modules import from here (never from `app`, which imports them)."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from ..config import Settings
from ..errors import DailyPapersError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_settings: Settings | None = None


def settings() -> Settings:
    """The settings, read once per process; a bad one is a one-line error naming it."""
    global _settings
    if _settings is None:
        try:
            _settings = Settings()
        except Exception as exc:  # pydantic's ValidationError: show the first problem only
            first = exc.errors()[0] if hasattr(exc, "errors") else None  # type: ignore[attr-defined]
            where = ".".join(str(p) for p in first["loc"]) if first else ""
            raise DailyPapersError(f"bad setting {where}: {first['msg'] if first else exc}") from exc
    return _settings


def open_store():
    """The store of the configured database (created or upgraded on first use)."""
    from ..store.engine import Store

    return Store(settings())


def parse_day(value: str | None, name: str = "date") -> dt.date | None:
    """A YYYY-MM-DD option's value as a date (None stays None)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DailyPapersError(f"--{name}: not a date in the form YYYY-MM-DD: {value!r}") from None


def enqueuer(settings):
    """Where due jobs go: the queue when one is configured, else None (run in-process)."""
    if not settings.queue_url:
        return None
    from ..jobs import queue

    return queue.enqueuer()
