"""Hybrid ranking: BM25 and embedding cosine over one candidate set, each min-max normalized per
query, mixed with a tuned weight; and the retrieval metrics it is judged by.

Why not reciprocal-rank fusion: RRF throws the scores away, so a weak dense ranking pulls a clear BM25
winner down (on the title-to-abstract task the issue measured MRR@10 falling from 0.89 to 0.69).
Scores, normalized over the union of both candidate lists, keep a decisive BM25 match on top while
letting the dense model decide among lexically similar papers. Every candidate gets both scores (the
callers compute the exact BM25 of dense-only candidates and the exact cosine of BM25-only ones), so
at weight 0 this is BM25 and at weight 1 the dense ranking. The weight was tuned on train splits
(see BENCHMARKS.md, issue 4). Pure functions: same inputs, same ranking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def normalize(scores: Mapping[int, float]) -> dict[int, float]:
    """Min-max to [0, 1] over the candidates; all equal (or one) -> all 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return {k: 1.0 for k in scores}
    span = hi - lo
    return {k: (v - lo) / span for k, v in scores.items()}


def fuse(bm25: Mapping[int, float], dense: Mapping[int, float], weight: float) -> list[tuple[int, float]]:
    """Rank the union of both candidate sets by (1 - weight) * BM25 + weight * cosine, normalized.

    A candidate missing from `bm25` did not match the words (BM25 0); one missing from `dense` has
    no vector yet (a paper ingested since the last index job) and counts its BM25 in place of the
    cosine, so fresh papers rank by their words alone. Ties go to the higher BM25, then the lower id."""
    ids = set(bm25) | set(dense)
    if not ids:
        return []
    b = normalize({i: bm25.get(i, 0.0) for i in ids})
    d = normalize({i: dense[i] for i in ids if i in dense})
    scored = [(i, (1.0 - weight) * b[i] + weight * d.get(i, b[i])) for i in ids]
    scored.sort(key=lambda s: (-s[1], -bm25.get(s[0], 0.0), s[0]))
    return scored


def by_score(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """One side's candidates, best first (ties: the lower id)."""
    return sorted(scores.items(), key=lambda s: (-s[1], s[0]))


def ranked(bm25: Mapping[int, float], dense: Mapping[int, float], weight: float, mode: str = "hybrid") -> list[tuple[int, float]]:
    """The candidates in the order a search mode gives: "fulltext" by BM25, "semantic" by cosine,
    "hybrid" fused (see `fuse`). Without cosines (no model, no vectors) every mode ranks by BM25."""
    if mode == "fulltext" or not dense:
        return by_score(bm25)
    if mode == "semantic":
        return by_score(dense)
    return fuse(bm25, dense, weight)


# --- metrics -----------------------------------------------------------------------------------------


def ndcg_at(ranked: list[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain of the first k results (graded relevance)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the first k results."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def mrr_at(ranked: list[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant result within the first k, else 0."""
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


METRICS = {
    "nDCG@10": lambda r, rel: ndcg_at(r, rel, 10),
    "Recall@10": lambda r, rel: recall_at(r, rel, 10),
    "Recall@100": lambda r, rel: recall_at(r, rel, 100),
    "MRR@10": lambda r, rel: mrr_at(r, rel, 10),
}


def evaluate(runs: Mapping[str, list[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Mean of each metric over the judged queries (a query with no run counts as all zeros)."""
    out = {}
    for name, metric in METRICS.items():
        values = [metric(runs.get(q, []), rel) for q, rel in qrels.items()]
        out[name] = sum(values) / len(values) if values else 0.0
    return out
