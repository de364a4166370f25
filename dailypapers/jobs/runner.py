"""Running one claimed job: take the run, keep its heartbeat, record how it ended. Shared by the
in-process scheduler and the queue workers."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from ..store import jobruns
from ..store.engine import Store
from .registry import JOBS

log = logging.getLogger(__name__)

DONE, BUSY, RAN = "done-before", "busy", "ran"


class Heartbeat:
    """Renews a run's heartbeat in the store while the work goes on."""

    def __init__(self, store: Store, name: str, period: str, every: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(store, name, period, every), daemon=True)

    def _beat(self, store, name, period, every) -> None:
        while not self._stop.wait(every):
            try:
                jobruns.heartbeat(store, name, period)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("heartbeat of %s (%s) failed", name, period, exc_info=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def execute(store: Store, name: str, period: str) -> tuple[str, str]:
    """Run job `name` for `period` unless it is done or alive elsewhere: returns (outcome, summary)
    with outcome RAN, DONE (finished before) or BUSY (another live worker has it). A failure is
    recorded as failed (and may be taken again) before the exception propagates."""
    job = JOBS[name]
    lease = dt.timedelta(seconds=store.settings.job_lease_seconds)
    jobruns.claim(store, name, period)  # a run started from the shell or a queue message it has not seen
    if not jobruns.take(store, name, period, lease):
        current = jobruns.status(store, name, period)
        return (DONE if current == "done" else BUSY), f"{name} ({period}) is {current}"
    try:
        with Heartbeat(store, name, period, every=max(1.0, lease.total_seconds() / 4)):
            summary = job.run(store)
    except Exception as exc:
        log.exception("job %s (%s) failed", name, period)
        jobruns.finished(store, name, period, "failed", f"{type(exc).__name__}: {exc}")
        raise
    jobruns.finished(store, name, period, "done", summary)
    log.info("job %s (%s): %s", name, period, summary)
    return RAN, summary
