"""Search latency, vector recall and the embedding runtimes, on the real 74,728 papers and 400 real queries.

    python bench/search.py [--sections embed,latency,syntax,recall,tfidf,scale] [--scale 1000000] [--random-vectors]

latency: the full search service (`dailypapers.search.search`: query parsing, the query's embedding
  with its cache emptied before each query, BM25 and dense candidates, fusion, facets, loading the
  page's 20 papers from SQLite, snippets), over the 400 paperlantern queries, after one warm-up pass.
syntax: the search page's call for queries in arXiv's syntax (author names, ids, operators).
recall: recall@10 of the IVF vector index against the exact scan, for several probe counts.
tfidf: arxiv-sanity-lite's method on the same queries (its TfidfVectorizer settings, a sparse dot
  product against every paper), the baseline ratio.
scale: a synthetic 1,000,000-paper scale-up: the corpus repeated in tantivy, the real vectors plus
  perturbed copies in the vector index; hybrid ranking with the query embedding (no store: the page
  load is the same 20 rows at any size).
embed: papers/s of each embedding runtime on 256 real papers, and cosine to sentence-transformers.

Needs the title-to-abstract vectors cached by `dailypapers eval` (see bench/eval/title_abstract.py):
they are the 74,728 abstracts' embeddings, stored here as each paper's vector. `--random-vectors`
stores seeded random vectors instead (for latency on a machine without that cache; recall and the
scale-up need the real ones).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, CORPUS, DATA, corpus_store, machine, need, percentile, today  # noqa: E402

QUERIES = DATA / "paperlantern-queries"


def queries() -> list[str]:
    out = []
    for path in sorted(need(QUERIES).glob("*.json")):
        out += [q["search_query"] for q in json.loads(path.read_text()).values()]
    return out


def settings():
    from dailypapers.config import Settings

    return Settings(
        database_url=f"sqlite:///{CACHE / 'bench.db'}",
        data_dir=CACHE / "data",
        models_dir=CACHE / "models",
    )


def bench_store(random: bool = False):
    """The benchmark store: the corpus ingested once, the cached vectors (or random ones) stored as
    embeddings."""
    return corpus_store(settings(), similar=False, random=random)


def summarize(name: str, ms: list[float]) -> str:
    return f"| {name} | {percentile(ms, 50):.1f} | {percentile(ms, 90):.1f} | {percentile(ms, 99):.1f} | {len(ms)} |"


def section_latency(store, texts) -> dict:
    from dailypapers import search as S
    from dailypapers.index.queries import Filters
    from dailypapers.index.query import parse

    engines = S.engines_for(store)
    S.index_new_papers(store)  # the vector index from the stored vectors (built once)
    for text in texts:  # warm-up: page cache, model, index readers
        S.search(store, S.SearchQuery(text=text))
    full, api, ranking, embed, hybrid_ms = [], [], [], [], []
    for text in texts:
        engines._query_cache.clear()
        started = time.perf_counter()
        S.rank(engines, parse(text), Filters())
        hybrid_ms.append((time.perf_counter() - started) * 1000)
        engines._query_cache.clear()
        started = time.perf_counter()
        S.search(store, S.SearchQuery(text=text, limit=20))
        full.append((time.perf_counter() - started) * 1000)
        engines._query_cache.clear()
        started = time.perf_counter()
        S.search(store, S.SearchQuery(text=text, limit=20, facets=False))
        api.append((time.perf_counter() - started) * 1000)
        engines._query_cache.clear()
        started = time.perf_counter()
        vector = engines.query_vector(parse(text).plain)
        embed.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        S.rank(engines, parse(text), Filters(), vector=vector)
        ranking.append((time.perf_counter() - started) * 1000)
    filtered = []
    for text in texts[:100]:
        engines._query_cache.clear()
        started = time.perf_counter()
        S.search(store, S.SearchQuery(text=text + " cat:cs.CL", limit=20, sort="date"))
        filtered.append((time.perf_counter() - started) * 1000)
    print("| what | p50 ms | p90 ms | p99 ms | queries |")
    print("|---|---|---|---|---|")
    print(summarize("hybrid search: query embedding + BM25 + IVF + fusion (rank)", hybrid_ms))
    print(summarize("search page, hybrid (embedding, 20 papers, snippets, facets)", full))
    print(summarize("search without facets (the JSON API's call)", api))
    print(summarize("  query embedding alone (one thread)", embed))
    print(summarize("  rank with the query's vector given (no embedding)", ranking))
    print(summarize("search page, hybrid, cat:cs.CL and sort by date", filtered))
    return {"p50": percentile(hybrid_ms, 50), "p99": percentile(hybrid_ms, 99)}


def syntax_queries(texts: list[str]) -> dict[str, list[str]]:
    """Queries in arXiv's syntax built from the real corpus and the 400 queries: author names in
    three forms, arXiv ids alone and with words, and boolean queries."""
    import re

    names, ids = [], []
    with gzip.open(CORPUS, "rt") as f:
        for i, line in enumerate(f):
            if i % 373 == 0:
                record = json.loads(line)
                ids.append(record["id"])
                name = record["authors"][0]
                parts = name.split()
                if len(parts) >= 2:
                    names.append((name, " ".join(p[0] + "." for p in parts[:-1]) + " " + parts[-1], parts[-1]))
    words = [re.findall(r"[a-z]{4,}", t.lower()) for t in texts]
    words = [w for w in words if len(w) >= 4]
    return {
        'au:"First Last"': [f'au:"{n}"' for n, _, _ in names[:200]],
        "F. M. Last (a name alone)": [i for _, i, _ in names[:200]],
        "au:Last plus two words": [f"au:{last} {w[0]} {w[1]}" for (_, _, last), w in zip(names[:200], words)],
        "arXiv:id alone": [f"arXiv:{i}v1" for i in ids[:200]],
        "id with the query's words": [f"https://arxiv.org/abs/{i} {t}" for i, t in zip(ids[:200], texts)],
        "(a OR b) c ANDNOT ti:d -e": [f"({w[0]} OR {w[1]}) {w[2]} ANDNOT ti:{w[3]} -{w[-1]}" for w in words[:200]],
    }


def section_syntax(store, texts) -> None:
    from dailypapers import search as S

    engines = S.engines_for(store)
    print("| query kind | p50 ms | p90 ms | p99 ms | queries |")
    print("|---|---|---|---|---|")
    for name, batch in syntax_queries(texts).items():
        for text in batch:  # warm-up
            S.search(store, S.SearchQuery(text=text, limit=20))
        ms = []
        for text in batch:
            engines._query_cache.clear()
            started = time.perf_counter()
            S.search(store, S.SearchQuery(text=text, limit=20))
            ms.append((time.perf_counter() - started) * 1000)
        print(summarize(name, ms))


def section_recall(store, texts) -> None:
    from dailypapers import search as S

    engines = S.engines_for(store)
    snap = engines.vectors.current()
    vectors = np.concatenate([np.asarray(snap.vectors)[~snap.dead], snap.tail_vectors])
    ids = np.concatenate([snap.ids[~snap.dead], snap.tail_ids])
    qv = engines.query_embedder().embed(texts)
    exact = []
    for q in qv:
        s = vectors @ q
        exact.append(set(ids[np.argpartition(-s, 10)[:10]].tolist()))
    lists = snap.state["lists"]
    from dailypapers.index.vectors import default_probes

    print(f"IVF over {len(ids):,} real vectors, {lists} lists (default probes {default_probes(lists)}):")
    print("| probes | recall@10 vs exact | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for probes in sorted({8, 16, 32, default_probes(lists), 96, 128}):
        rec, ms = [], []
        for q, truth in zip(qv, exact, strict=True):
            started = time.perf_counter()
            got = snap.search(q, 10, probes=probes)
            ms.append((time.perf_counter() - started) * 1000)
            rec.append(len({p for p, _ in got} & truth) / 10)
        print(f"| {probes} | {np.mean(rec):.3f} | {percentile(ms, 50):.2f} | {percentile(ms, 99):.2f} |")
    ms = []
    for q in qv:
        started = time.perf_counter()
        s = vectors @ q
        np.argpartition(-s, 10)[:10]
        ms.append((time.perf_counter() - started) * 1000)
    print(f"| exact scan | 1.000 | {percentile(ms, 50):.2f} | {percentile(ms, 99):.2f} |")


def section_tfidf(texts, hybrid_p50: float | None) -> None:
    """arxiv-sanity-lite: TfidfVectorizer with its settings over title + abstract, then for a query
    the sparse dot product with every paper and the top results."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    with gzip.open(need(CORPUS), "rt") as f:
        docs = [(lambda p: p["title"] + " " + p["abstract"])(json.loads(line)) for line in f]
    started = time.perf_counter()
    v = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode", lowercase=True,
        analyzer="word", stop_words="english", token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
    )
    X = v.fit_transform(docs).tocsr()
    fit = time.perf_counter() - started
    for text in texts[:20]:
        (X @ v.transform([text]).T).toarray()
    ms = []
    for text in texts:
        started = time.perf_counter()
        scores = (X @ v.transform([text]).T).toarray().ravel()
        np.argsort(-scores)[:20]
        ms.append((time.perf_counter() - started) * 1000)
    print(f"TF-IDF fitted in {fit:.0f} s ({X.shape[1]:,} features)")
    print("| what | p50 ms | p90 ms | p99 ms | queries |")
    print("|---|---|---|---|---|")
    print(summarize("arxiv-sanity-lite TF-IDF scan", ms))
    if hybrid_p50:
        print(f"ratio TF-IDF p50 / hybrid search p50: {percentile(ms, 50) / hybrid_p50:.2f}")


def section_scale(store, texts, total: int) -> None:
    from dailypapers import search as S
    from dailypapers.index.fulltext import FullTextIndex
    from dailypapers.index.queries import Filters
    from dailypapers.index.query import parse
    from dailypapers.index.vectors import VectorIndex, default_probes
    from dailypapers.store import papers as paper_store

    base = S.engines_for(store)
    snap = base.vectors.current()
    real_ids = np.concatenate([snap.ids[~snap.dead], snap.tail_ids])
    real = np.concatenate([np.asarray(snap.vectors)[~snap.dead], snap.tail_vectors])
    order = np.argsort(real_ids)
    real_ids, real = real_ids[order], real[order]
    with store.session() as session:
        rows = paper_store.rows_for_index(session, real_ids.tolist())
    rows.sort(key=lambda r: r["id"])
    copies = -(-total // len(rows))
    folder = Path(tempfile.mkdtemp(prefix="dp-scale-", dir=CACHE))
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    fulltext = FullTextIndex(folder / "fulltext")
    step = len(rows)
    for c in range(copies):
        batch = [dict(r, id=r["id"] + c * 10_000_000) for r in rows][: total - c * step]
        fulltext.add_rows(batch)
    ft_s = time.perf_counter() - started
    ids = np.concatenate([real_ids + c * 10_000_000 for c in range(copies)])[:total]
    parts = [real]
    for _ in range(1, copies):
        noisy = real + rng.normal(scale=0.02, size=real.shape).astype(np.float32)
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    vectors = np.concatenate(parts)[:total]
    del parts
    started = time.perf_counter()
    index = VectorIndex(folder / "vectors", "bench", vectors.shape[1])
    index.build(ids, vectors)
    vec_s = time.perf_counter() - started
    engines = S.Engines(fulltext, index, base.query_embedder(), weight=base.weight, candidates=base.candidates)
    for text in texts[:50]:
        S.rank(engines, parse(text), Filters())
    ms, rank_ms, words_ms, among_ms = [], [], [], []
    from dailypapers.index import fulltext as ft

    for text in texts:
        engines._query_cache.clear()
        started = time.perf_counter()
        S.rank(engines, parse(text), Filters())
        ms.append((time.perf_counter() - started) * 1000)
        query = ft.text_query(fulltext.index, parse(text))
        started = time.perf_counter()
        top = fulltext.top(query, 100)
        words_ms.append((time.perf_counter() - started) * 1000)
        others = [int(i) for i in ids[np.random.default_rng(len(text)).integers(0, total, 60)]]
        started = time.perf_counter()
        fulltext.among(query, others)
        among_ms.append((time.perf_counter() - started) * 1000)
        del top
    snap = index.current()
    qv = base.query_embedder().embed(texts[:100])
    rec, exact_ms = [], []
    for q in qv:
        started = time.perf_counter()
        s = vectors @ q
        truth = set(ids[np.argpartition(-s, 10)[:10]].tolist())
        exact_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        got = {p for p, _ in snap.search(q, 10)}
        rank_ms.append((time.perf_counter() - started) * 1000)
        rec.append(len(got & truth) / 10)
    print(f"{total:,} papers: full-text index built in {ft_s:.0f} s, vector index ({snap.state['lists']} lists) in {vec_s:.0f} s")
    print("| what | p50 ms | p90 ms | p99 ms | queries |")
    print("|---|---|---|---|---|")
    print(summarize(f"hybrid ranking at {total:,} (embedding included)", ms))
    print(summarize(f"  BM25 top 100 at {total:,}", words_ms))
    print(summarize(f"  BM25 of 60 given papers at {total:,}", among_ms))
    print(summarize(f"IVF search at {total:,} ({default_probes(snap.state['lists'])} probes)", rank_ms))
    print(summarize(f"exact float32 scan at {total:,}", exact_ms))
    print(f"IVF recall@10 against the exact scan at {total:,}: {np.mean(rec):.3f}")
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def section_embed() -> None:
    from dailypapers.index import embeddings as E
    from dailypapers.index.model import paper_text

    with gzip.open(need(CORPUS), "rt") as f:
        papers = [json.loads(next(f)) for _ in range(256)]
    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    reference = E.TorchEmbedder(device="cpu")
    reference.embed(texts[:8])
    started = time.perf_counter()
    ref = reference.embed(texts)
    rates = {"sentence-transformers (torch CPU)": len(texts) / (time.perf_counter() - started)}
    cos = {"sentence-transformers (torch CPU)": 1.0}
    for quantized in (False, True):
        for threads in (1, 0):
            e = E.OnnxEmbedder(CACHE / "models", quantized=quantized, threads=threads)
            e.embed(texts[:8])
            started = time.perf_counter()
            got = e.embed(texts)
            name = f"ONNX {'int8' if quantized else 'float32'}, {'1 thread' if threads == 1 else 'all cores'}"
            rates[name] = len(texts) / (time.perf_counter() - started)
            cos[name] = float((got * ref).sum(axis=1).mean())
    print("| runtime | papers/s | mean cosine to sentence-transformers |")
    print("|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.1f} | {cos[name]:.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="latency,recall,tfidf,scale,embed")
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--random-vectors", action="store_true",
                        help="seeded random vectors as the papers' embeddings, when the eval cache is absent (latency only)")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"# search benchmark, {today()}, {machine()}")
    texts = queries()
    store = bench_store(args.random_vectors) if sections & {"latency", "syntax", "recall", "tfidf", "scale"} else None
    result = None
    if "latency" in sections:
        print("\n## latency over 74,728 papers, 400 queries")
        result = section_latency(store, texts)
    if "syntax" in sections:
        print("\n## arXiv's query syntax: the search page's call")
        section_syntax(store, texts)
    if "tfidf" in sections:
        print("\n## baseline: arxiv-sanity-lite TF-IDF scan")
        section_tfidf(texts, result["p50"] if result else None)
    if "recall" in sections:
        print("\n## vector index recall")
        section_recall(store, texts)
    if "scale" in sections:
        print(f"\n## scale-up to {args.scale:,}")
        section_scale(store, texts, args.scale)
    if "embed" in sections:
        print("\n## embedding runtimes")
        section_embed()


if __name__ == "__main__":
    main()
