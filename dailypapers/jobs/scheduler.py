"""Decides which jobs are due and starts them: in this process (the single-machine mode of
`dailypapers up`), or by enqueueing them for `dailypapers worker` processes (DAILYPAPERS_QUEUE_URL).

Any number of schedulers may run (say one per web host): a period is claimed in the store before
it is run or enqueued, so each job runs once per period.

Nothing stays queued or running for good. A claim whose enqueue failed (the queue unreachable) is
released at once, and claimed again at a later pass. A run that is stuck (queued but not seen by a
worker for `job_claim_seconds`: Redis lost its message; or running with a heartbeat older than
`job_lease_seconds`: its worker died, or its end could not be recorded while the database was
away) is taken over at the next pass: handed to the queue again, or run here. A daily job's
period stays due until the next day's time (see Job.period), so a run missed while everything was
down is claimed when it is back. A new period of a job is not claimed while a run of that job is
still live (runs of a job do not overlap; see jobs/registry.py)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

from ..errors import expected, one_line
from ..store import jobruns
from ..store.engine import Store
from . import runner
from .registry import JOBS, SHUTTING_DOWN, Job

log = logging.getLogger(__name__)


MAX_RETRY_WAIT = 3600.0
# How often a scheduler in queue mode checks that the queue still holds the messages of queued
# runs, and how long after a run was handed over it may be missing there before it counts as lost.
LOST_CHECK_SECONDS = 10.0


def retry_wait(settings, attempts: int) -> float:
    """Seconds before a failed run is tried again after its `attempts`-th try."""
    return min(settings.job_retry_seconds * 2 ** max(0, attempts - 1), MAX_RETRY_WAIT)


def due(store: Store, job: Job, now: dt.datetime, *, retry_failed: bool = False) -> str | None:
    """The period to run `job` for now, claimed in the store; None when not due or already claimed.
    With `retry_failed`, also the current period when its run failed and has waited long enough
    (the in-process mode; queue workers retry a failed message themselves)."""
    settings = store.settings
    daily_at = getattr(settings, job.setting) if job.setting else None
    period = job.period(now, ZoneInfo(settings.timezone), daily_at)
    if period is None:
        return None
    if jobruns.claim(store, job.name, period):
        return period
    if retry_failed and job.retry_failed:
        run = jobruns.get(store, job.name, period)
        if run and run["status"] == "failed" and run["finished_at"] is not None:
            again = run["finished_at"] + dt.timedelta(seconds=retry_wait(settings, run["attempts"]))
            if now.astimezone(dt.UTC).replace(tzinfo=None) >= again:
                return period
    return None


def manual_period(now: dt.datetime | None = None) -> str:
    """The period of a run started by hand (`dailypapers jobs run`): unique to the second."""
    now = now or dt.datetime.now(dt.UTC)
    return "manual:" + now.strftime("%Y-%m-%dT%H:%M:%S.%f")


class Scheduler:
    """A thread that checks every `tick` seconds which jobs are due, and hands them to the queue or
    runs them here. Here, each job runs in a thread of its own, so a slow one (an arXiv harvest
    waiting on the network, a backfill's embeddings) does not hold up the others (digests at their
    hour); a job whose last run is still going is not started again, and its next period is
    claimed only once that run has ended. Jobs run when asked (fetch-papers) are checked every
    `poll` seconds with their own cheap query, and started only when it finds work: a submission
    is picked up at once, and an idle site claims no runs."""

    def __init__(
        self, store: Store, *, tick: float = 20.0, poll: float | None = None, names: list[str] | None = None, enqueue=None
    ):
        self.store = store
        self.tick = tick
        self.poll = poll if poll is not None else store.settings.fetch_poll_seconds
        self.names = names or list(JOBS)
        self.enqueue = enqueue  # None: run in this process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dailypapers-scheduler", daemon=True)
        self._running: dict[str, threading.Thread] = {}
        self._next_lost_check = 0.0

    def start(self) -> "Scheduler":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop scheduling, ask the jobs running here to end at their next safe point (an index
        run between two batches) and wait for them, up to `timeout` seconds each: a job thread
        still inside the embedding model when the interpreter exits takes the process down with
        an abort instead of a clean exit."""
        self._stop.set()
        busy = any(thread.is_alive() for thread in self._running.values())
        if busy:
            SHUTTING_DOWN.set()
        try:
            self._thread.join(timeout)
            self.wait(timeout)
        finally:
            if busy:
                SHUTTING_DOWN.clear()  # a process that goes on (tests) runs its later jobs in full

    def run_pending(self) -> list[str]:
        """Take over stuck runs, then claim and start (or enqueue) every due job, and every job
        asked for that has work; returns "name:period" of each started."""
        started = self.take_over_stuck() + self.resend_lost()
        for name in self.names:
            if JOBS[name].pending is not None:
                continue
            if self.enqueue is None and self.running(name):
                continue
            if jobruns.live(self.store, name, self._lease, self._claim):
                continue  # its next period is claimed once that run has ended
            period = due(self.store, JOBS[name], dt.datetime.now(dt.UTC), retry_failed=self.enqueue is None)
            if period is None:
                continue
            self._start(name, period, claimed_now=True)
            started.append(f"{name}:{period}")
        return started + self.run_asked()

    @property
    def _lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.store.settings.job_lease_seconds)

    @property
    def _claim(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.store.settings.job_claim_seconds)

    def take_over_stuck(self) -> list[str]:
        """Hand each stuck run of these jobs to the queue again (or run it here, one per job at a
        time); returns "name:period" of each."""
        started = []
        for run in jobruns.stuck(self.store, self._claim, self._lease, names=[n for n in self.names if n in JOBS]):
            name, period = run["name"], run["period"]
            if self.enqueue is None and self.running(name):
                continue
            if not jobruns.requeue(self.store, name, period, self._claim, self._lease):
                continue  # another scheduler took it over
            if run["status"] == "queued":
                why = f"queued since {run['created_at']:%Y-%m-%d %H:%M} UTC and never started (its message was lost)"
            else:
                why = "running with a stale heartbeat (its worker died, or its end was not recorded)"
            log.info("job %s (%s) was stuck, %s: %s", name, period, why,
                     "handed to the queue again" if self.enqueue else "running it again here")
            self._start(name, period)
            started.append(f"{name}:{period}")
        return started

    def resend_lost(self) -> list[str]:
        """Hand to the queue again each queued run whose message the queue no longer holds (Redis
        restarted and lost its memory), without waiting for its claim to expire; checked at most
        every LOST_CHECK_SECONDS, for runs handed over at least that long ago. Queue mode only."""
        waiting = getattr(self.enqueue, "waiting", None)
        if waiting is None or time.monotonic() < self._next_lost_check:
            return []
        self._next_lost_check = time.monotonic() + LOST_CHECK_SECONDS
        before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=LOST_CHECK_SECONDS)
        candidates = jobruns.queued_since(self.store, before, names=[n for n in self.names if n in JOBS])
        if not candidates:
            return []
        held = waiting()
        started = []
        for run in candidates:
            name, period = run["name"], run["period"]
            if (name, period) in held or not jobruns.resend(self.store, name, period, run["seen"]):
                continue
            log.info("job %s (%s) was queued but the queue no longer holds its message (Redis lost it): handed to "
                     "the queue again", name, period)
            self._start(name, period)
            started.append(f"{name}:{period}")
        return started

    def run_asked(self) -> list[str]:
        """Start (or enqueue) each job run when asked whose check finds work, unless a run of it
        is still going (here) or queued or running with a fresh heartbeat (on the workers)."""
        started = []
        lease = dt.timedelta(seconds=self.store.settings.job_lease_seconds)
        for name in self.names:
            job = JOBS[name]
            if job.pending is None:
                continue
            if self.enqueue is None and self.running(name):
                continue
            if self.enqueue is not None and jobruns.live(self.store, name, lease, self._claim):
                continue
            if not job.pending(self.store):
                continue
            period = "asked:" + dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
            if not jobruns.claim(self.store, name, period):
                continue
            self._start(name, period, claimed_now=True)
            started.append(f"{name}:{period}")
        return started

    def _start(self, name: str, period: str, *, claimed_now: bool = False) -> None:
        if self.enqueue is not None:
            try:
                self.enqueue(name, period)
            except Exception:
                # A claim made now is released, so a later pass claims the period again; a run
                # taken over is left as not seen since its claim, so a later pass takes it over again.
                if claimed_now:
                    jobruns.release(self.store, name, period)
                else:
                    jobruns.unseen(self.store, name, period)
                raise
            return
        thread = threading.Thread(target=self._execute, args=(name, period), name=f"dailypapers-job-{name}", daemon=True)
        self._running[name] = thread
        thread.start()

    def running(self, name: str) -> bool:
        thread = self._running.get(name)
        return thread is not None and thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Until the jobs started here have ended (tests; a clean shutdown)."""
        for thread in list(self._running.values()):
            thread.join(timeout)

    def _execute(self, name: str, period: str) -> None:
        try:
            runner.execute(self.store, name, period)
        except Exception:  # noqa: BLE001 - recorded and logged by the runner
            pass

    def _loop(self) -> None:
        failing: str | None = None  # the failure of the last pass, logged once until it changes
        next_tick = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_tick:
                    next_tick = now + self.tick
                    self.run_pending()
                else:
                    self.run_asked()
            except Exception as exc:  # noqa: BLE001 - e.g. the database briefly unreachable
                if not expected(exc):
                    log.exception("scheduler pass failed")
                elif one_line(exc) != failing:
                    failing = one_line(exc)
                    log.warning("scheduler pass failed: %s (said once until it changes)", failing)
            else:
                if failing is not None:
                    log.info("scheduler passes work again")
                    failing = None
            self._stop.wait(max(0.05, min(next_tick, time.monotonic() + self.poll) - time.monotonic()))
