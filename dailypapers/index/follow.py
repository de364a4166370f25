"""Keeps one process's search indexes in step with the store, for web processes.

Every web process runs a follower: every DAILYPAPERS_INDEX_FOLLOW_SECONDS it brings the node's
full-text index and vector index up to date with what any process (an ingest, a worker's embedding
job, a submission) wrote to the store. Writers on one node take turns through the indexes' lock
files, so with several web processes on a node one does the work and the others find it done.
A paper stored anywhere is therefore found by every web process within about one interval plus
the readers' one-second refresh."""

from __future__ import annotations

import logging
import threading

from ..store.engine import Store

log = logging.getLogger(__name__)


def sync_once(store: Store) -> tuple[int, int]:
    """(papers full-text indexed, vectors indexed) by one pass."""
    from .fulltext import FullTextIndex

    texts = FullTextIndex.for_store(store).sync(store)
    vectors = 0
    if store.settings.search_semantic:
        from .model import DIM, MODEL_KEY
        from .vectors import VectorIndex

        vectors = VectorIndex.for_store(store, MODEL_KEY, DIM).sync(store)
    return texts, vectors


class IndexFollower:
    """Runs `sync_once` now and then every `every` seconds in a thread. `ready` is set once a pass
    has brought the indexes up to the store (a new node's first pass may take minutes)."""

    def __init__(self, store: Store, every: float):
        self.store = store
        self.every = every
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dailypapers-index-follower", daemon=True)

    def start(self) -> "IndexFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        from ..errors import expected, one_line

        failing: str | None = None  # the failure of the last pass, logged once until it changes
        while not self._stop.is_set():
            try:
                texts, vectors = sync_once(self.store)
                self.ready.set()
                if texts or vectors:
                    log.info("indexes follow the store: %d papers, %d vectors", texts, vectors)
                if failing is not None:
                    log.info("index follower passes work again")
                    failing = None
            except Exception as exc:  # noqa: BLE001 - the next pass tries again
                if not expected(exc):
                    log.warning("index follower pass failed", exc_info=True)
                elif one_line(exc) != failing:
                    failing = one_line(exc)
                    log.warning("index follower pass failed: %s (said once until it changes)", failing)
            self._stop.wait(self.every)
