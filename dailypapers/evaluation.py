"""Search quality on a BEIR benchmark: read the dataset, run full-text, semantic and hybrid search
over it with the site's own ranking code in temporary indexes, and score nDCG@10, Recall@10,
Recall@100 and MRR@10. `dailypapers eval` prints what this measures; bench/eval/ tunes with it."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import DailyPapersError


@dataclass
class BeirSet:
    """A retrieval benchmark in the BEIR layout: documents, queries with judgments."""

    name: str
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]  # query id -> text, only the judged ones
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def load_beir(folder: Path) -> BeirSet:
    """Read corpus.jsonl[.gz], queries.jsonl[.gz] and every qrels/*.tsv of a BEIR folder."""
    folder = Path(folder)
    corpus = next((p for p in (folder / "corpus.jsonl", folder / "corpus.jsonl.gz") if p.is_file()), None)
    queries_file = next((p for p in (folder / "queries.jsonl", folder / "queries.jsonl.gz") if p.is_file()), None)
    qrel_files = sorted((folder / "qrels").glob("*.tsv"))
    if corpus is None or queries_file is None or not qrel_files:
        raise DailyPapersError(f"{folder}: not a BEIR folder (needs corpus.jsonl[.gz], queries.jsonl and qrels/*.tsv)")
    doc_ids, titles, texts = [], [], []
    with _open_text(corpus) as f:
        for line in f:
            if line.strip():
                doc = json.loads(line)
                doc_ids.append(str(doc["_id"]))
                titles.append(doc.get("title") or "")
                texts.append(doc.get("text") or "")
    qrels: dict[str, dict[str, int]] = {}
    for path in qrel_files:
        with open(path, encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) < 3 or row[0] == "query-id":
                    continue
                if int(row[2]) > 0:
                    qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with _open_text(queries_file) as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                if str(q["_id"]) in qrels:
                    queries[str(q["_id"])] = q.get("text") or ""
    qrels = {q: rel for q, rel in qrels.items() if q in queries}
    return BeirSet(folder.name, doc_ids, titles, texts, queries, qrels)


def split_of(query_id: str) -> str:
    """A stable half of the queries: "tune" or "test" (by a hash of the id), for honest tuning."""
    import hashlib

    return "tune" if hashlib.blake2b(query_id.encode(), digest_size=1).digest()[0] % 2 == 0 else "test"


@dataclass
class EvalResult:
    """Metrics of one method over one benchmark."""

    method: str
    metrics: dict[str, float]
    queries: int
    ms_per_query: float


def evaluate_beir(
    dataset: BeirSet,
    settings,
    *,
    cache_dir: Path,
    weights: list[float] | None = None,
    split: str = "all",
    sample: int | None = None,
    on_progress=None,
) -> list[EvalResult]:
    """Score full text, semantic and hybrid search over a BEIR set with the site's own ranking code,
    in temporary indexes (the corpus vectors are cached in `cache_dir`, so reruns skip embedding)."""
    import random
    import tempfile
    import time

    from .index.embedding_runs import embed_cached
    from .index.embeddings import load_embedder
    from .index.model import DIM, MODEL_KEY, paper_text
    from .index.fulltext import FullTextIndex
    from .index.queries import Filters
    from .index.query import MAX_QUERY_CHARS, parse
    from .index.vectors import VectorIndex
    from .ranking.hybrid import evaluate
    from .search import Engines, rank

    qids = [q for q in dataset.queries if split == "all" or split_of(q) == split]
    if sample is not None and sample < len(qids):
        qids = sorted(random.Random(0).sample(qids, sample), key=qids.index)
    embedder = load_embedder(settings)
    doc_vectors = embed_cached(
        embedder,
        [paper_text(t, x) for t, x in zip(dataset.titles, dataset.texts, strict=True)],
        cache_dir,
        on_chunk=on_progress,
    )
    all_qids = list(dataset.queries)
    query_vectors = embed_cached(embedder, [dataset.queries[q] for q in all_qids], cache_dir)
    row_of = {q: i for i, q in enumerate(all_qids)}
    results = []
    with tempfile.TemporaryDirectory(prefix="dailypapers-eval-") as tmp:
        fulltext = FullTextIndex(Path(tmp) / "fulltext")
        rows = [
            {"id": i, "arxiv_id": doc_id, "title": title, "abstract": text}
            for i, (doc_id, title, text) in enumerate(zip(dataset.doc_ids, dataset.titles, dataset.texts, strict=True))
        ]
        for start in range(0, len(rows), 20000):
            fulltext.add_rows(rows[start : start + 20000])
        vectors = VectorIndex(Path(tmp) / "vectors", MODEL_KEY, DIM)
        import numpy as np

        vectors.build(np.arange(len(rows), dtype=np.int64), doc_vectors)
        methods = [("fulltext", "fulltext", None), ("semantic", "semantic", None)]
        methods += [(f"hybrid w={w:g}" if weights else "hybrid", "hybrid", w) for w in (weights or [settings.search_dense_weight])]
        for label, mode, weight in methods:
            engines = Engines(fulltext, vectors, None, weight=weight if weight is not None else 0.5, candidates=100)
            runs = {}
            started = time.perf_counter()
            for qid in qids:
                # Benchmark queries are prose, not our query language: read as plain words.
                text = dataset.queries[qid][:MAX_QUERY_CHARS]
                ranking = rank(engines, parse(text, syntax=False), Filters(), mode=mode, depth=100, vector=query_vectors[row_of[qid]])
                runs[qid] = [dataset.doc_ids[pid] for pid, _ in ranking.ranked[:100]]
            took = (time.perf_counter() - started) * 1000 / max(len(qids), 1)
            results.append(EvalResult(label, evaluate(runs, {q: dataset.qrels[q] for q in qids}), len(qids), took))
    return results
