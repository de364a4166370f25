"""Similar papers: the nearest papers by embedding, computed ahead of time and stored.

A paper page then reads one row instead of searching the vector index (a few milliseconds of CPU
per view, which capped uncached paper pages at a few hundred a second). The index job computes the
neighbours of newly embedded papers; a daily refresh recomputes all, so older papers learn of newer
neighbours within a day. The stored lists are used when present, so the paper page and the API show
the same list; a paper the job has not reached yet gets them computed when asked (and is embedded on
the spot when it has no vector). Without a model, the papers sharing most of its words (BM25 on its
title and abstract's first words). Which neighbours count is ranking/similar.py's."""

from __future__ import annotations

from .index.model import paper_text
from .index.queries import words_query
from .ranking.similar import lexical_words, pick
from .store import embeddings as embedding_store
from .store import similar as similar_store
from .store.engine import Store
from .types import PaperCard

KEEP = 10  # neighbours stored per paper; pages show 6


def refresh(store: Store, *, everything: bool = False, limit: int | None = None, batch: int = 500) -> int:
    """Compute and store the neighbours of stale papers (or of every embedded paper); returns how many."""
    from .index.model import DIM, MODEL_KEY
    from .index.vectors import VectorIndex

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


def similar_to(engines, store, paper: PaperCard, limit: int) -> list[tuple[int, float]]:
    """(paper id, score) of the papers most like `paper` (its card), best first."""
    pid = paper.id
    with store.session() as session:
        stored = similar_store.neighbours(session, pid)
    # Stored lists hold the best KEEP above MIN_COSINE: enough unless more are asked for and it is full.
    if stored is not None and (limit <= len(stored) or len(stored) < KEEP):
        return stored[:limit]
    snap = engines.snapshot()
    if snap is not None:
        vector = snap.vectors_of([pid]).get(pid)
        if vector is None and engines.vectors is not None:
            with store.session() as session:
                vector = embedding_store.get_many(session, engines.vectors.model, [pid]).get(pid)
        if vector is None and engines.query_embedder() is not None:
            vector = engines.query_embedder().embed([paper_text(paper.title, paper.abstract)])[0]
        if vector is not None:
            return pick(snap.search(vector, limit + 1, exclude={pid}), limit, exclude=pid)
    query = words_query(engines.fulltext.schema, lexical_words(paper), ("title", "abstract"))
    if query is None:
        return []
    found = engines.fulltext.top(query, limit + 1)
    best = max((s for i, s in found if i != pid), default=0.0) or 1.0
    return pick([(i, s / best) for i, s in found], limit, exclude=pid, min_score=0.0)
