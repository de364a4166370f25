"""Whether the jobs keep up: each job's latest run, and which jobs are late or stuck
(`dailypapers jobs list`; a monitoring script runs `dailypapers jobs list --check`).

- stuck: a run queued for longer than `job_claim_seconds` without a worker seeing it (its message
  lost), or running with a heartbeat older than `job_lease_seconds` (its worker died, or its end
  could not be recorded). The scheduler takes stuck runs over at its next pass; a stuck run that
  stays listed means no scheduler runs.
- late: a scheduled job whose latest due run has not started `job_claim_seconds` after its time
  (no scheduler, or the database or the queue away), while no run of it is going on. For a job run
  every N minutes: no run claimed in the last N minutes plus that grace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..store import jobruns
from ..store.engine import Store
from ..store.schema import utcnow
from .registry import JOBS, Job


@dataclass
class JobHealth:
    job: Job
    schedule: str
    last: dict | None  # the latest run's row
    late: str | None = None  # why it is late
    stuck: list[dict] = field(default_factory=list)


def schedule(job: Job, settings) -> str:
    if job.pending is not None:
        return "when asked"
    if job.every_minutes:
        return f"every {job.every_minutes} min"
    return f"daily at {getattr(settings, job.setting) if job.setting else job.daily_at}"


def check(store: Store, now: dt.datetime | None = None) -> tuple[list[JobHealth], list[dict]]:
    """Each registered job's health, and the stuck runs of names no job has (ingest-file)."""
    settings = store.settings
    now = now or dt.datetime.now(dt.UTC)
    db_now = now.astimezone(dt.UTC).replace(tzinfo=None)
    tz = ZoneInfo(settings.timezone)
    claim = dt.timedelta(seconds=settings.job_claim_seconds)
    lease = dt.timedelta(seconds=settings.job_lease_seconds)
    latest = jobruns.latest(store)
    stuck = jobruns.stuck(store, claim, lease)
    report = []
    for job in JOBS.values():
        health = JobHealth(job, schedule(job, settings), latest.get(job.name), stuck=[r for r in stuck if r["name"] == job.name])
        health.late = _late(store, job, now, db_now, tz, claim, lease)
        report.append(health)
    return report, [r for r in stuck if r["name"] not in JOBS]


def _late(store, job: Job, now, db_now, tz, claim, lease) -> str | None:
    daily_at = getattr(store.settings, job.setting) if job.setting else None
    period = job.period(now, tz, daily_at)
    if period is None:
        return None
    if job.every_minutes:
        since = db_now - dt.timedelta(minutes=job.every_minutes) - claim
        why = f"no run claimed for over {job.every_minutes} min + {_minutes(claim)}"
    else:
        since = job.due_at(period, tz, daily_at).astimezone(dt.UTC).replace(tzinfo=None)
        if db_now - since < claim:
            return None
        why = f"its run of {period} was due {_ago(db_now - since)} ago and has not started"
    # Any run claimed since (a scheduled one, or one started by hand), or one still going on, will do.
    if jobruns.has_run(store, job.name, since) or jobruns.live(store, job.name, lease, claim):
        return None
    return why


def period_label(period: str) -> str:
    """A run's period, short: manual and asked-for runs by their minute."""
    kind, sep, when = period.partition(":")
    if sep and kind in ("manual", "asked"):
        return f"{kind} {when[:16].replace('T', ' ')}"
    return period


def _minutes(delta: dt.timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def ago(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago a naive UTC time of the store was, shortly ("3 min")."""
    if when is None:
        return ""
    return _ago((now or utcnow()) - when)


def took(run: dict) -> str:
    if run.get("started_at") is None:
        return ""
    end = run.get("finished_at") or (run.get("heartbeat_at") if run["status"] != "running" else utcnow())
    if end is None:
        return ""
    return _ago(end - run["started_at"])
