"""The query planner: how a text query is ranked. The BM25 top candidates (the full-text index) and
the nearest papers to the embedding of the query's positive words (the vector index) are pooled;
every candidate gets its exact BM25 and its exact cosine; `ranking/hybrid.py` mixes the two.
Everything but the plain words (phrases, fields, authors, operators, exclusions) and the form's
filters restrict both sides: the dense side scores a small restricted set exactly, and over-fetches
nearest neighbours checked against the restrictions when the set is large."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..index.matches import Matches
from ..index.queries import Filters
from ..index.query import ParsedQuery
from ..ranking import hybrid
from .engines import POOL, Engines

EXACT_FILTER_LIMIT = 5000  # a filtered set this small is scored exactly by the dense side


@dataclass
class Ranking:
    """The pooled candidates of a text query, best first, with each side's raw scores."""

    ranked: list[tuple[int, float]]
    bm25: dict[int, float]  # exact BM25 of every candidate that matches the words
    dense: dict[int, float]  # exact cosine of every candidate that has a vector
    semantic: bool
    from_words: set[int] = field(default_factory=set)  # the BM25 candidates
    from_meaning: set[int] = field(default_factory=set)  # the nearest-vector candidates

    def found_by(self, pid: int) -> str:
        """How a candidate was found: "both", "fulltext" or "semantic"."""
        words, near = pid in self.from_words, pid in self.from_meaning
        return "both" if words and near else "fulltext" if words else "semantic"


def rank(
    engines: Engines,
    parsed: ParsedQuery,
    filters: Filters,
    *,
    mode: str = "hybrid",
    depth: int | None = None,
    vector: np.ndarray | None = None,
) -> Ranking:
    """Rank papers for a query with text: BM25 candidates and dense candidates pooled, both scores
    exact for every candidate, fused (or one side alone for mode "fulltext" / "semantic").
    `vector` is the query's embedding when the caller has it (evaluation); else it is computed."""
    return rank_matches(engines, engines.fulltext.matches(parsed, filters), mode=mode, depth=depth, vector=vector)


def rank_matches(
    engines: Engines, matches: Matches, *, mode: str = "hybrid", depth: int | None = None, vector: np.ndarray | None = None
) -> Ranking:
    """`rank` for a query already opened on the full-text index (the search service has one)."""
    depth = depth or engines.candidates
    snap = engines.snapshot() if mode != "fulltext" else None

    def dense_side():
        query_vector = vector if vector is not None else engines.query_vector(matches.parsed.plain)
        if query_vector is None:
            return None, {}
        return query_vector, _dense_candidates(matches, snap, query_vector, depth)

    # The embedding and the nearest vectors are found on the pool while BM25 runs here (at 1M
    # papers each takes 10 to 20 ms).
    pending = POOL.submit(dense_side) if snap is not None else None
    bm25: dict[int, float] = matches.scores(depth) if mode != "semantic" else {}
    from_words, from_meaning = set(bm25), set()
    dense: dict[int, float] = {}
    if pending is not None:
        vector, dense = pending.result()
        from_meaning = set(dense)
        if vector is not None and mode == "hybrid":
            missing = [i for i in dense if i not in bm25]
            if missing:  # dense candidates meet the restrictions already
                bm25.update(matches.scores_of(missing))
            only_bm25 = [i for i in bm25 if i not in dense]
            dense.update(snap.score(vector, only_bm25))
    ranked = hybrid.ranked(bm25, dense, engines.weight, mode)
    return Ranking(ranked, bm25, dense, bool(dense), from_words, from_meaning)


def _dense_candidates(matches: Matches, snap, vector, depth) -> dict[int, float]:
    """The nearest papers to the query vector among those meeting the restrictions: scored exactly
    when the restricted set is small, else nearest neighbours checked against the restrictions,
    over-fetched by the share the restrictions let through."""
    if not matches.restricted:
        return dict(snap.search(vector, depth))
    allowed = matches.allowed()
    if allowed == 0:
        return {}
    if allowed <= EXACT_FILTER_LIMIT:
        scores = snap.score(vector, matches.allowed_ids(allowed))
        return dict(sorted(scores.items(), key=lambda s: -s[1])[:depth])
    share = allowed / max(len(snap), 1)
    fetch = int(min(max(depth / share * 2, depth), 20 * EXACT_FILTER_LIMIT))
    near = snap.search(vector, fetch)
    passing = matches.allowed_among([pid for pid, _ in near])
    return dict([(pid, score) for pid, score in near if pid in passing][:depth])
