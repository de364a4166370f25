"""What answers queries in this process: one `Engines` per store (the full-text index, and the
vector index with the query embedder when semantic search is on), opened on first use and kept; and
the process-wide thread pool the search service overlaps its work on."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..index.fulltext import FullTextIndex
from ..store.engine import Store

log = logging.getLogger(__name__)

# The model, numpy's products and tantivy release the GIL, so work submitted here runs beside the
# request's own thread.
POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="dailypapers-dense")


@dataclass
class Engines:
    """What answers queries for one store in this process: the full-text index, and the vector index
    with the query embedder when semantic search is on. The embedder is loaded on the first query
    that has vectors to compare with, so a site without vectors never loads (or converts) the model."""

    fulltext: FullTextIndex
    vectors: object | None = None  # index.vectors.VectorIndex
    embedder: object | None = None  # index.embeddings.Embedder, or loaded from `settings` when needed
    weight: float = 0.5
    candidates: int = 100
    settings: object | None = None
    _query_cache: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def query_embedder(self):
        """The embedder for queries, or None when the model cannot be had (said once in the log)."""
        if self.embedder is None and self.settings is not None:
            from ..errors import ConfigError
            from ..index.embeddings import load_embedder

            with self._lock:
                if self.embedder is None and self.settings is not None:
                    try:
                        self.embedder = load_embedder(self.settings, for_queries=True)
                    except ConfigError as exc:
                        log.warning("semantic search is off: %s", exc)
                        self.settings = None
        return self.embedder

    def query_vector(self, text: str) -> np.ndarray | None:
        """The embedding of a query's text (the last 256 kept: paging repeats a query)."""
        if not text.strip() or self.query_embedder() is None:
            return None
        with self._lock:
            hit = self._query_cache.get(text)
            if hit is not None:
                self._query_cache.move_to_end(text)
                return hit
        vector = self.embedder.embed([text])[0]
        with self._lock:
            self._query_cache[text] = vector
            while len(self._query_cache) > 256:
                self._query_cache.popitem(last=False)
        return vector

    def snapshot(self):
        """The vector index's current snapshot, or None when there is nothing to search."""
        if self.vectors is None:
            return None
        snap = self.vectors.current()
        return snap if len(snap) else None


_engines: "weakref.WeakKeyDictionary[Store, Engines]" = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()


def engines_for(store: Store) -> Engines:
    """This process's engines for the store, opened (and, when missing, built) on first use."""
    with _engines_lock:
        engines = _engines.get(store)
        if engines is None:
            engines = _open_engines(store)
            _engines[store] = engines
    engines.fulltext.ensure(store)
    if engines.vectors is not None and not engines.vectors.usable:
        _rebuild_vectors_if_any(store, engines)
    return engines


def _open_engines(store: Store) -> Engines:
    settings = store.settings
    engines = Engines(
        FullTextIndex.for_store(store), weight=settings.search_dense_weight, candidates=settings.search_candidates
    )
    if settings.search_semantic:
        from ..index.model import DIM, MODEL_KEY
        from ..index.vectors import VectorIndex

        engines.vectors = VectorIndex.for_store(store, MODEL_KEY, DIM)
        engines.settings = settings
    return engines


_last_vector_check: dict[int, float] = {}


def _rebuild_vectors_if_any(store: Store, engines: Engines) -> None:
    """Rebuild a missing or damaged vector index from the stored vectors (checked at most once a
    minute when the store has none, so an unindexed site does not pay a query per search)."""
    key = id(engines)
    if time.monotonic() - _last_vector_check.get(key, -1e9) < 60:
        return
    _last_vector_check[key] = time.monotonic()
    from ..store import embeddings as embedding_store

    with store.session() as session:
        if embedding_store.count(session, engines.vectors.model) == 0:
            return
    engines.vectors.sync(store)
    _last_vector_check.pop(key, None)
