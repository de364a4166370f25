"""Running one claimed job: take the run, keep its heartbeat, record how it ended. Shared by the
in-process scheduler and the queue workers."""

from __future__ import annotations

import datetime as dt
import logging

from ..errors import expected, one_line
from ..store import jobruns
from ..store.engine import Store
from ..store.schema import utcnow
from .heartbeat import Heartbeat
from .registry import JOBS, Quiet, Unreachable

log = logging.getLogger(__name__)

DONE, BUSY, RAN = "done-before", "busy", "ran"


def execute(store: Store, name: str, period: str, *, log_failure: bool = True) -> tuple[str, str]:
    """Run job `name` for `period` unless it is done or alive elsewhere: returns (outcome, summary)
    with outcome RAN, DONE (finished before) or BUSY (another live worker has it). A failure is
    recorded as failed (and may be taken again) and logged (unless `log_failure` is off: the
    caller reports it) before the exception propagates: in one line when the world failed (see
    `expected`), with the traceback when the code did. A summary marked Quiet (nothing to do) is
    logged at debug level only."""
    job = JOBS[name]
    lease = dt.timedelta(seconds=store.settings.job_lease_seconds)
    jobruns.claim(store, name, period)  # a run started from the shell or a queue message it has not seen
    if not jobruns.take(store, name, period, lease, exclusive=not job.concurrent):
        return _not_taken(store, name, period, lease)
    try:
        with Heartbeat(store, name, period, every=max(1.0, lease.total_seconds() / 4)):
            summary = job.run(store)
    except Exception as exc:
        if log_failure and expected(exc):
            log.warning("job %s (%s) failed: %s", name, period, one_line(exc))
        elif log_failure:
            log.exception("job %s (%s) failed", name, period)
        jobruns.finished(store, name, period, "failed", one_line(exc))
        raise
    if isinstance(summary, Unreachable):
        jobruns.finished(store, name, period, "failed", summary)
        log.warning("job %s (%s) failed: %s", name, period, summary)
        return RAN, summary
    jobruns.finished(store, name, period, "done", summary)
    log.log(logging.DEBUG if isinstance(summary, Quiet) else logging.INFO, "job %s (%s): %s", name, period, summary)
    return RAN, summary


def _not_taken(store: Store, name: str, period: str, lease: dt.timedelta) -> tuple[str, str]:
    current = jobruns.status(store, name, period)
    if current == "done":
        return DONE, f"{name} ({period}) is done"
    if current == "running":
        return BUSY, f"{name} ({period}) is running elsewhere"
    other = jobruns.holder(store, name, period, lease)
    if current == "queued":
        jobruns.touch(store, name, period)  # waiting, not lost: the scheduler leaves it be
    if other is None:  # it ended between the two reads: the next try starts
        return BUSY, f"{name} ({period}) waits: another run of the job was just ending"
    return BUSY, f"{name} ({period}) waits: another run of the job is in progress ({other['period']}, {_since(other['started_at'])})"


def _since(when: dt.datetime | None) -> str:
    if when is None:
        return "just started"
    seconds = max(0, int((utcnow() - when).total_seconds()))
    return f"started {seconds // 60} min {seconds % 60} s ago" if seconds >= 60 else f"started {seconds} s ago"
