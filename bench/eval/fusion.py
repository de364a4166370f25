"""Our score fusion against reciprocal-rank fusion, on the same pooled candidates of the site's ranking.

    python bench/eval/fusion.py [DATASET_DIR ...]   (default: scifact, cacm, title-to-abstract)

RRF (k = 60) ranks by the sum of 1 / (k + rank) over the BM25 list and the dense list; ours is the
site's (`ranking/hybrid.py`). Corpus vectors come from `dailypapers eval`'s cache in bench/.cache/eval;
title-to-abstract is scored on 4,000 sampled queries.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import DATA, ROOT, beir_with_vectors  # noqa: E402

from dailypapers.config import Settings  # noqa: E402
from dailypapers.index.fulltext import FullTextIndex  # noqa: E402
from dailypapers.index.model import DIM, MODEL_KEY  # noqa: E402
from dailypapers.index.queries import Filters  # noqa: E402
from dailypapers.index.query import parse  # noqa: E402
from dailypapers.index.vectors import VectorIndex  # noqa: E402
from dailypapers.ranking.hybrid import evaluate  # noqa: E402
from dailypapers.search import Engines, rank  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


def rrf(lists: list[list[int]], k: int = 60) -> list[int]:
    scores: dict[int, float] = {}
    for ranked in lists:
        for position, pid in enumerate(ranked):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + position + 1)
    return [pid for pid, _ in sorted(scores.items(), key=lambda s: -s[1])]


def compare(folder: Path, sample: int | None) -> None:
    data, qids, docs, queries = beir_with_vectors(folder)
    row = {q: i for i, q in enumerate(qids)}
    if sample is not None and sample < len(qids):
        qids = sorted(random.Random(1).sample(qids, sample), key=row.get)
    with tempfile.TemporaryDirectory() as tmp:
        fulltext = FullTextIndex(Path(tmp) / "fulltext")
        rows = [{"id": i, "arxiv_id": d, "title": t, "abstract": x} for i, (d, t, x) in enumerate(zip(data.doc_ids, data.titles, data.texts))]
        for start in range(0, len(rows), 20000):
            fulltext.add_rows(rows[start : start + 20000])
        vectors = VectorIndex(Path(tmp) / "vectors", MODEL_KEY, DIM)
        vectors.build(np.arange(len(rows)), docs)
        engines = Engines(fulltext, vectors, None, weight=Settings().search_dense_weight, candidates=100)
        ours, theirs = {}, {}
        for q in qids:
            r = rank(engines, parse(data.queries[q], syntax=False), Filters(), depth=100, vector=queries[row[q]])
            ours[q] = [data.doc_ids[p] for p, _ in r.ranked[:100]]
            by_words = sorted(r.from_words, key=lambda p: -r.bm25[p])
            by_meaning = sorted(r.from_meaning, key=lambda p: -r.dense[p])
            theirs[q] = [data.doc_ids[p] for p in rrf([by_words, by_meaning])[:100]]
    judged = {q: data.qrels[q] for q in qids}
    for name, runs in (("score fusion (ours)", ours), ("reciprocal-rank fusion", theirs)):
        cells = " | ".join(f"{v:.4f}" for v in evaluate(runs, judged).values())
        print(f"| {data.name} ({len(qids):,} queries) | {name} | {cells} |", flush=True)


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or [DATA / "scifact", DATA / "cacm", CACHE / "arxiv-title-abstract"]
    print("| benchmark | fusion | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    for folder in folders:
        compare(folder, 4000 if "title-abstract" in folder.name else None)


if __name__ == "__main__":
    main()
