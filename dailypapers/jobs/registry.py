"""The background jobs: plain functions of the store, registered once with their schedule.

`dailypapers up` runs them in-process on their schedule; `dailypapers jobs run NAME` runs one once.
A job's run for a period is claimed in the store (job_runs, unique on name and period) before it
starts, so however many schedulers run, each period's run happens once.

Runs of one job never overlap: a run starts only while no other run of the same job (another
period, or one started by hand) is running with a fresh heartbeat (see jobruns.take); the second
waits (a queue message is retried later, `jobs run` says so and stops). The exception, marked
`concurrent`: ingest-inbox, whose runs share the inbox and take each file as a run of its own
(ingest-file, keyed by the file's content), so several workers import different files at once.
Different jobs do run side by side (digest-daily and digest-retry: each digest is still sent once,
see digest/send.py)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..store.engine import Store

log = logging.getLogger(__name__)


# Set when the process running jobs in its threads is shutting down (Scheduler.stop): long jobs
# end at their next safe point instead of being cut off mid-step by the interpreter's exit.
SHUTTING_DOWN = threading.Event()


class Quiet(str):
    """A job's summary when the run found nothing to do: recorded with the run like any other, but
    logged only at debug level, so an idle site does not log a line a minute saying so."""


class Unreachable(str):
    """A job's summary when an upstream it needs could not be reached (an offline instance): the
    run is recorded as failed and logged as one warning line, without a traceback and without the
    exception a queue worker would retry; with retry_failed off, the next period catches up."""


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Store], str]  # returns a one-line summary
    every_minutes: int | None = None  # run every N minutes...
    daily_at: str | None = None  # ...or once a day at HH:MM (site time zone)
    setting: str | None = None  # the setting that holds daily_at, if configurable
    help: str = ""
    # ...or when asked: run as soon as this cheap check says there is work (polled by the scheduler)
    pending: Callable[[Store], bool] | None = None
    concurrent: bool = False  # runs of this job may overlap (see the module's docstring)
    # A failed run is tried again within its period (off: the next period catches up, as the
    # hf-mirror job does, so an offline site logs its failure once a day).
    retry_failed: bool = True

    def period(self, now: dt.datetime, tz: ZoneInfo, daily_at: str | None = None) -> str | None:
        """The latest period due at `now` (aware): the one `now` falls in for a job run every N
        minutes; for a daily job today once its time has come, else yesterday. So a daily run
        missed while the scheduler, the database or the queue was away (say from 07:00 to past
        midnight) is still claimed, once, when they are back, until the next day's time comes.
        None for a job run when asked."""
        local = now.astimezone(tz)
        if self.every_minutes:
            minute = (local.hour * 60 + local.minute) // self.every_minutes * self.every_minutes
            return f"{local:%Y-%m-%d}T{minute // 60:02d}:{minute % 60:02d}"
        if self.pending is not None:
            return None
        hour, minute = _hhmm(daily_at or self.daily_at or "00:00")
        day = local.date() if (local.hour, local.minute) >= (hour, minute) else local.date() - dt.timedelta(days=1)
        return day.isoformat()

    def due_at(self, period: str, tz: ZoneInfo, daily_at: str | None = None) -> dt.datetime:
        """When the run of `period` (one of `period`'s answers) became due (aware)."""
        if self.every_minutes:
            return dt.datetime.fromisoformat(period).replace(tzinfo=tz)
        hour, minute = _hhmm(daily_at or self.daily_at or "00:00")
        return dt.datetime.combine(dt.date.fromisoformat(period), dt.time(hour, minute), tzinfo=tz)


def _hhmm(at: str) -> tuple[int, int]:
    hour, minute = (int(x) for x in at.split(":"))
    return hour, minute


JOBS: dict[str, Job] = {}


def job(
    name: str,
    *,
    every_minutes: int | None = None,
    daily_at: str | None = None,
    setting: str | None = None,
    pending: Callable[[Store], bool] | None = None,
    concurrent: bool = False,
    retry_failed: bool = True,
):
    def register(fn: Callable[[Store], str]) -> Callable[[Store], str]:
        help_text = ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        JOBS[name] = Job(name, fn, every_minutes, daily_at, setting, help_text, pending, concurrent, retry_failed)
        return fn

    return register


@job("ingest-arxiv", daily_at="06:30", setting="ingest_time")
def ingest_arxiv(store: Store) -> str:
    """Harvest the configured arXiv categories since the last successful harvest (or 3 days)."""
    from .ingest import ingest_job
    from ..store import kv

    if not store.settings.online:
        return "skipped: DAILYPAPERS_ONLINE is off"
    with store.session() as session:
        last = kv.read(session, "last_arxiv_harvest")
    since = dt.date.fromisoformat(last) - dt.timedelta(days=1) if last else dt.date.today() - dt.timedelta(days=3)
    report = ingest_job(store).run([f"arxiv:{','.join(store.settings.categories)}"], since=since)
    with store.session() as session, session.begin():
        kv.set_value(session, "last_arxiv_harvest", dt.date.today().isoformat())
    return report.summary()


def _fetch_pending(store: Store) -> bool:
    from ..ingest.lookup import pending

    return pending(store)


@job("fetch-papers", pending=_fetch_pending)
def fetch_papers(store: Store) -> str:
    """Fetch from arXiv the papers the store lacks that members submitted or imported, or visitors asked for."""
    from ..errors import SourceError
    from ..ingest.lookup import work

    report = work(store)
    if report.unreachable:
        raise SourceError(f"{report.unreachable}; {report.summary()}")
    if not (report.fetched or report.featured or report.refused or report.looked_up or report.waiting or report.failed):
        return Quiet("nothing to fetch")
    return report.summary()


@job("hf-mirror", daily_at="07:00", retry_failed=False)
def hf_mirror(store: Store) -> str:
    """Mirror hf.co/papers: import yesterday's and today's Hugging Face daily papers as featured (and days missed since the last success)."""
    from ..errors import SourceError
    from ..ingest.hf_mirror import mirror

    if not store.settings.hf_mirror:
        return Quiet("skipped: DAILYPAPERS_HF_MIRROR is off")
    if not store.settings.online:
        return Quiet("skipped: DAILYPAPERS_ONLINE is off")
    today = dt.datetime.now(ZoneInfo(store.settings.timezone)).date()
    try:
        return mirror(store, today).summary()
    except SourceError as exc:
        return Unreachable(f"Hugging Face could not be read: {exc}")


@job("github-stars", every_minutes=60)
def github_stars(store: Store) -> str:
    """Record the code repositories papers link to, and read GitHub repositories' stars (conditional requests, within GitHub's rate limit)."""
    from ..ingest.stars import backfill, refresh

    if not store.settings.online:
        scanned = backfill(store)  # links are found offline too
        return Quiet(f"links of {scanned} papers recorded; stars skipped: DAILYPAPERS_ONLINE is off")
    report = refresh(store)
    return Quiet(report.summary()) if report.idle else report.summary()


@job("ingest-inbox", every_minutes=1, concurrent=True)
def ingest_inbox(store: Store) -> str:
    """Ingest the files dropped into the inbox folder, each by one worker, then move them to done/."""
    import hashlib

    from .ingest import ingest_job
    from ..store import jobruns
    from .heartbeat import Heartbeat

    inbox = store.settings.inbox_dir or Path(store.settings.data_dir) / "inbox"
    files = sorted(p for p in Path(inbox).glob("*") if p.is_file() and not p.name.startswith("."))
    lease = dt.timedelta(seconds=store.settings.job_lease_seconds)
    done_dir = Path(inbox) / "done"
    summaries = []
    for path in files:
        # Each file is its own run (keyed by its content), so workers share the inbox and a file
        # whose worker died is taken over once its heartbeat is stale; ingest is idempotent.
        key = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()[:32]
        jobruns.claim(store, "ingest-file", key)
        if not jobruns.take(store, "ingest-file", key, lease):
            continue
        try:
            with Heartbeat(store, "ingest-file", key, every=max(1.0, lease.total_seconds() / 4)):
                report = ingest_job(store).run([str(path)])
        except Exception as exc:
            jobruns.finished(store, "ingest-file", key, "failed", f"{path.name}: {exc}")
            raise
        jobruns.finished(store, "ingest-file", key, "done", f"{path.name}: {report.summary()}")
        done_dir.mkdir(exist_ok=True)
        if path.exists():
            path.replace(done_dir / path.name)
        summaries.append(f"{path.name}: {report.summary()}")
    return "; ".join(summaries) or Quiet("inbox empty")


@job("index", every_minutes=5)
def index_papers(store: Store) -> str:
    """Bring the search indexes up to date with the store: full text, then embeddings, then the
    papers' one-line summaries and key phrases (each a bounded number per run, so a large backfill
    does not hold up the other jobs; later runs continue it)."""
    from .. import neighbours
    from ..index.update import index_new_papers

    report = index_new_papers(store, limit=store.settings.index_job_limit or None, should_stop=SHUTTING_DOWN.is_set)
    if SHUTTING_DOWN.is_set():
        return f"{report.summary()}; stopped early: the process is shutting down (the next run continues)"
    similar = neighbours.refresh(store) if store.settings.search_semantic else 0
    summary = f"{report.summary()}; similar papers of {similar} papers computed"
    idle = not (report.fulltext or report.embedded or report.vectors or report.summarized or similar)
    return Quiet(summary) if idle else summary


@job("thumbnails", every_minutes=5)
def thumbnails(store: Store) -> str:
    """Make the card pictures of featured papers that lack one (HF's thumbnail, or the PDF's first page), a few a run."""
    from ..errors import SourceError
    from ..ingest.thumbnails import make_thumbnails

    if not store.settings.online:
        return Quiet("skipped: DAILYPAPERS_ONLINE is off")
    report = make_thumbnails(store, should_stop=SHUTTING_DOWN.is_set)
    if report.unreachable:
        raise SourceError(report.summary())
    return report.summary() if report.made or report.failed else Quiet(report.summary())


@job("similar-refresh", daily_at="04:00")
def similar_refresh(store: Store) -> str:
    """Recompute every paper's similar papers, so older papers learn of newer neighbours."""
    from .. import neighbours

    if not store.settings.search_semantic:
        return "skipped: semantic search is off"
    return f"similar papers of {neighbours.refresh(store, everything=True)} papers recomputed"


FETCH_REQUESTS_KEPT_DAYS = 30  # a member sees how their queued submissions ended for a month


@job("cleanup", daily_at="03:00")
def cleanup(store: Store) -> str:
    """Delete expired login sessions, rate-limit counters, long-unconfirmed subscriptions and old fetch requests."""
    from ..store import fetches
    from ..store import subscriptions as sub_store
    from ..store import users as user_store
    from ..store.ratelimit import StoreStorage
    from ..store.schema import utcnow

    # Pending subscriptions are kept a week past their link's expiry, so a late click still says why.
    unconfirmed_before = utcnow() - dt.timedelta(hours=store.settings.digest_confirm_hours) - dt.timedelta(days=7)
    with store.session() as session, session.begin():
        sessions = user_store.purge_expired_sessions(session)
        pending = sub_store.purge_unconfirmed(session, unconfirmed_before)
        fetched = fetches.purge_finished(session, utcnow() - dt.timedelta(days=FETCH_REQUESTS_KEPT_DAYS))
    limits = StoreStorage(store).purge_expired()
    return (
        f"{sessions} expired sessions, {limits} rate-limit counters, {fetched} old fetch requests "
        f"and {pending} unconfirmed subscriptions removed"
    )


def _send_digests(store: Store, cadences: tuple[str, ...], *, quiet_when_idle: bool = False) -> str:
    from ..digest.send import send_digests

    reports = [send_digests(store, cadence) for cadence in cadences]
    summary = "; ".join(r.summary() for r in reports)
    counts = ("sent", "deferred", "failed", "suspended", "resent_after_interruption", "unknown", "busy")
    if quiet_when_idle and not any(getattr(r, name) for r in reports for name in counts) and not any(r.stopped for r in reports):
        return Quiet(summary)
    return summary


@job("digest-daily", daily_at="08:00", setting="digest_time")
def digest_daily(store: Store) -> str:
    """Email the daily digests (weekdays: the previous weekday's papers, Monday's with the weekend)."""
    return _send_digests(store, ("daily",))


@job("digest-weekly", daily_at="08:00", setting="digest_time")
def digest_weekly(store: Store) -> str:
    """Email the weekly digests of the previous ISO week, on DAILYPAPERS_DIGEST_WEEKDAY (or later that week)."""
    return _send_digests(store, ("weekly",))


@job("mail-outbox", every_minutes=1)
def mail_outbox(store: Store) -> str:
    """Send the confirmation and account emails waiting in the outbox: retries with backoff, and interrupted sends."""
    from ..digest.outbox import send_due

    report = send_due(store)
    return Quiet(report.summary()) if report.idle else report.summary()


@job("digest-retry", every_minutes=15)
def digest_retry(store: Store) -> str:
    """Retry deferred digests and finish runs that were interrupted (each digest still goes out once)."""
    return _send_digests(store, ("daily", "weekly"), quiet_when_idle=True)
