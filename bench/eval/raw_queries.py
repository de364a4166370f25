"""Benchmark queries as typed, through the site's query language, against the same queries read as
plain words (what `dailypapers eval` measures).

    python bench/eval/raw_queries.py [DATASET_DIR ...]   (default: scifact, cacm)

People paste prose into the search box: quotes, parentheses, dashes, colons and capitals are then
read as the query language (index/query.py). This shows what that costs on real prose queries.
Corpus and query vectors come from `dailypapers eval`'s cache in bench/.cache/eval.
"""

from __future__ import annotations

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
from dailypapers.index.query import BadQuery, parse  # noqa: E402
from dailypapers.index.vectors import VectorIndex  # noqa: E402
from dailypapers.ranking.hybrid import evaluate  # noqa: E402
from dailypapers.search import Engines, rank  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


def compare(folder: Path) -> None:
    data, qids, docs, vectors = beir_with_vectors(folder)
    with tempfile.TemporaryDirectory() as tmp:
        fulltext = FullTextIndex(Path(tmp) / "fulltext")
        fulltext.add_rows([{"id": i, "arxiv_id": d, "title": t, "abstract": x} for i, (d, t, x) in enumerate(zip(data.doc_ids, data.titles, data.texts))])
        index = VectorIndex(Path(tmp) / "vectors", MODEL_KEY, DIM)
        index.build(np.arange(len(data.doc_ids)), docs)
        for mode in ("fulltext", "hybrid"):
            engines = Engines(fulltext, index, None, weight=Settings().search_dense_weight, candidates=100)
            for label, syntax in (("plain words", False), ("as typed", True)):
                runs, refused = {}, 0
                for i, q in enumerate(qids):
                    try:
                        parsed = parse(data.queries[q], syntax=syntax)
                    except BadQuery:
                        refused += 1
                        runs[q] = []
                        continue
                    ranked = rank(engines, parsed, Filters(), mode=mode, depth=100, vector=vectors[i]).ranked
                    runs[q] = [data.doc_ids[pid] for pid, _ in ranked[:100]]
                cells = " | ".join(f"{v:.4f}" for v in evaluate(runs, data.qrels).values())
                print(f"| {data.name} | {mode} | {label} | {cells} | {refused} |", flush=True)


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or [DATA / "scifact", DATA / "cacm"]
    print("| benchmark | method | queries read | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | refused |")
    print("|---|---|---|---|---|---|---|---|")
    for folder in folders:
        compare(folder)


if __name__ == "__main__":
    main()
