"""The background jobs: plain functions of the store, registered once with their schedule.

`dailypapers up` runs them in-process on their schedule; `dailypapers jobs run NAME` runs one once.
A job's run for a period is claimed in the store (job_runs, unique on name and period) before it
starts, so however many schedulers run, each period's run happens once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..store.engine import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Store], str]  # returns a one-line summary
    every_minutes: int | None = None  # run every N minutes...
    daily_at: str | None = None  # ...or once a day at HH:MM (site time zone)
    setting: str | None = None  # the setting that holds daily_at, if configurable
    help: str = ""

    def period(self, now: dt.datetime, tz: ZoneInfo, daily_at: str | None = None) -> str | None:
        """The period `now` (aware) falls in, or None when a daily job's time has not come today."""
        local = now.astimezone(tz)
        if self.every_minutes:
            minute = (local.hour * 60 + local.minute) // self.every_minutes * self.every_minutes
            return f"{local:%Y-%m-%d}T{minute // 60:02d}:{minute % 60:02d}"
        at = daily_at or self.daily_at or "00:00"
        hour, minute = (int(x) for x in at.split(":"))
        if (local.hour, local.minute) < (hour, minute):
            return None
        return local.strftime("%Y-%m-%d")


JOBS: dict[str, Job] = {}


def job(name: str, *, every_minutes: int | None = None, daily_at: str | None = None, setting: str | None = None):
    def register(fn: Callable[[Store], str]) -> Callable[[Store], str]:
        JOBS[name] = Job(name, fn, every_minutes, daily_at, setting, ((fn.__doc__ or "").strip().splitlines() or [""])[0])
        return fn

    return register


@job("ingest-arxiv", daily_at="06:30", setting="ingest_time")
def ingest_arxiv(store: Store) -> str:
    """Harvest the configured arXiv categories since the last successful harvest (or 3 days)."""
    from ..ingest.run import IngestJob
    from ..store import kv

    if not store.settings.online:
        return "skipped: DAILYPAPERS_ONLINE is off"
    last = kv.get(store, "last_arxiv_harvest")
    since = dt.date.fromisoformat(last) - dt.timedelta(days=1) if last else dt.date.today() - dt.timedelta(days=3)
    report = IngestJob(store).run([f"arxiv:{','.join(store.settings.categories)}"], since=since)
    kv.set_value(store, "last_arxiv_harvest", dt.date.today().isoformat())
    return report.summary()


@job("index", every_minutes=5)
def index_papers(store: Store) -> str:
    """Bring the search indexes up to date with the store (full text, then embeddings)."""
    from ..index.fulltext import FullTextIndex

    n = FullTextIndex.for_store(store).sync(store)
    summary = f"full text: {n} papers indexed"
    try:
        from ..search import index_new_papers
    except ImportError:
        return summary
    return f"{summary}; {index_new_papers(store)}"


@job("cleanup", daily_at="03:00")
def cleanup(store: Store) -> str:
    """Delete expired login sessions and rate-limit counters."""
    from ..store import users as user_store
    from ..store.ratelimit import StoreStorage

    with store.session() as session, session.begin():
        sessions = user_store.purge_expired_sessions(session)
    limits = StoreStorage(store).purge_expired()
    return f"{sessions} expired sessions and {limits} rate-limit counters removed"
