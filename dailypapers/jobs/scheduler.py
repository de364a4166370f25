"""Runs due jobs in this process (the single-machine mode of `dailypapers up`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

from ..store import jobruns
from ..store.engine import Store
from .registry import JOBS, Job

log = logging.getLogger(__name__)


def due(store: Store, job: Job, now: dt.datetime) -> str | None:
    """The period to run `job` for now, claimed in the store; None when not due or already claimed."""
    settings = store.settings
    daily_at = getattr(settings, job.setting) if job.setting else None
    period = job.period(now, ZoneInfo(settings.timezone), daily_at)
    if period is None:
        return None
    return period if jobruns.claim(store, job.name, period) else None


def run_now(store: Store, job: Job, period: str) -> str:
    """Run a claimed job and record how it ended."""
    jobruns.started(store, job.name, period)
    try:
        summary = job.run(store)
    except Exception as exc:  # noqa: BLE001 - recorded, logged, and the scheduler carries on
        log.exception("job %s (%s) failed", job.name, period)
        jobruns.finished(store, job.name, period, "failed", f"{type(exc).__name__}: {exc}")
        raise
    jobruns.finished(store, job.name, period, "done", summary)
    log.info("job %s (%s): %s", job.name, period, summary)
    return summary


class Scheduler:
    """A thread that checks every `tick` seconds which jobs are due and runs them one at a time."""

    def __init__(self, store: Store, *, tick: float = 20.0, names: list[str] | None = None):
        self.store = store
        self.tick = tick
        self.names = names or list(JOBS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dailypapers-scheduler", daemon=True)

    def start(self) -> "Scheduler":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_pending(self) -> list[str]:
        ran = []
        for name in self.names:
            job = JOBS[name]
            period = due(self.store, job, dt.datetime.now(dt.UTC))
            if period is None:
                continue
            try:
                run_now(self.store, job, period)
            except Exception:  # noqa: BLE001 - logged in run_now
                pass
            ran.append(f"{name}:{period}")
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - e.g. the database briefly unreachable
                log.exception("scheduler pass failed")
            self._stop.wait(max(1.0, self.tick - (time.monotonic() - started)))
