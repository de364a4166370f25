"""A running job's heartbeat: renewed in the store while the work goes on, so other workers see the
run is alive (jobs/runner.py for whole jobs, the ingest-inbox job for each file it takes)."""

from __future__ import annotations

import logging
import threading

from ..errors import one_line
from ..store import jobruns
from ..store.engine import Store

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews a run's heartbeat in the store while the work goes on."""

    def __init__(self, store: Store, name: str, period: str, every: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(store, name, period, every), daemon=True)

    def _beat(self, store, name, period, every) -> None:
        while not self._stop.wait(every):
            try:
                jobruns.heartbeat(store, name, period)
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("heartbeat of %s (%s) failed: %s", name, period, one_line(exc))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
