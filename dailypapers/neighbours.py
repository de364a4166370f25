"""Similar papers computed ahead of time: each embedded paper's nearest papers, stored in the store.

A paper page then reads one row instead of searching the vector index (a few milliseconds of CPU
per view, which capped uncached paper pages at a few hundred a second). The index job computes the
neighbours of newly embedded papers; a daily refresh recomputes all, so older papers learn of newer
neighbours within a day."""

from __future__ import annotations

from ..ranking.similar import pick
from ..store import embeddings as embedding_store
from ..store import similar as similar_store
from ..store.engine import Store

KEEP = 10  # neighbours stored per paper; pages show 6


def refresh(store: Store, *, everything: bool = False, limit: int | None = None, batch: int = 500) -> int:
    """Compute and store the neighbours of stale papers (or of every embedded paper); returns how many."""
    from .embeddings import DIM, MODEL_KEY
    from .vectors import VectorIndex

    index = VectorIndex.for_store(store, MODEL_KEY, DIM)
    index.sync(store)
    snap = index.current()
    if not len(snap):
        return 0
    with store.session() as session:
        ids = sorted(embedding_store.paper_ids(session, MODEL_KEY)) if everything else similar_store.stale(session, MODEL_KEY, limit)
    done = 0
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        vectors = snap.vectors_of(part)
        rows = []
        for pid in part:
            vector = vectors.get(pid)
            if vector is None:
                continue
            rows.append((pid, pick(snap.search(vector, KEEP + 1, exclude={pid}), KEEP, exclude=pid)))
        with store.session() as session, session.begin():
            similar_store.put_many(session, MODEL_KEY, rows)
        done += len(rows)
    return done
