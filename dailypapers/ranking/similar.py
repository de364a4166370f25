"""Similar papers: the nearest papers by embedding. The index job stores each embedded paper's
nearest papers ahead of time (index/neighbours.py), and those are used when present, so the paper
page and the API show the same list; a paper the job has not reached yet gets them computed when
asked (and is embedded on the spot when it has no vector). Without a model, the papers sharing most
of its words (BM25 on its title and abstract's first words)."""

from __future__ import annotations

import re

from ..index import fulltext as ft
from ..index.embeddings import paper_text

MIN_COSINE = 0.3  # below this, all-MiniLM-L6-v2 neighbours are unrelated papers, not similar ones
LEXICAL_WORDS = 48  # words of title and abstract that make the full-text fallback query
_WORD = re.compile(r"\w+")


def pick(neighbours: list[tuple[int, float]], limit: int, *, exclude: int, min_score: float = MIN_COSINE) -> list[tuple[int, float]]:
    """The best `limit` neighbours, without the paper itself and without weak ones; best first."""
    out = [(pid, score) for pid, score in neighbours if pid != exclude and score >= min_score]
    out.sort(key=lambda s: (-s[1], s[0]))
    return out[:limit]


def lexical_words(paper: dict) -> list[str]:
    """The words of the paper's title and the start of its abstract (the full-text fallback query)."""
    return _WORD.findall(f"{paper.get('title') or ''} {paper.get('abstract') or ''}".lower())[:LEXICAL_WORDS]


def similar_to(engines, store, paper: dict, limit: int) -> list[tuple[int, float]]:
    """(paper id, score) of the papers most like `paper` (a store row), best first."""
    from ..index.neighbours import KEEP
    from ..store import embeddings as embedding_store
    from ..store import similar as similar_store

    pid = paper["id"]
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
            vector = engines.query_embedder().embed([paper_text(paper["title"], paper["abstract"])])[0]
        if vector is not None:
            return pick(snap.search(vector, limit + 1, exclude={pid}), limit, exclude=pid)
    query = ft.words_query(engines.fulltext.schema, lexical_words(paper), ("title", "abstract"))
    if query is None:
        return []
    found = engines.fulltext.top(query, limit + 1)
    best = max((s for i, s in found if i != pid), default=0.0) or 1.0
    return pick([(i, s / best) for i, s in found], limit, exclude=pid, min_score=0.0)
