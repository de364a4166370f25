"""One-line summaries and key phrases (issue 14): papers/s on the real corpus and the projected time
for all of it, plus how often the chosen phrases agree with the transformer's own choice.

    python bench/summaries.py [--papers 3000] [--embedded 300] [--runs 3] [--quality 60]

- compute: index/summaries.compute on `--embedded` papers with their real vectors (the embedding
  path: phrase vectors from the model's token table, MMR), and on `--papers` papers without (TF-IDF);
- end to end: `summarize_papers` over a fresh SQLite store holding the `--papers` papers, of which
  `--embedded` have a stored vector: reading, computing and writing, in committed batches;
- quality: for `--quality` papers, the share of chosen phrases among the ten candidates closest to
  the paper when the transformer embeds every candidate itself (what KeyBERT does; too slow for the
  whole corpus), against the same share for the TF-IDF choice.

Medians of `--runs` runs; the projection divides the corpus's 74,728 papers by the end-to-end rate."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import corpus_sample, machine, today  # noqa: E402

CORPUS_SIZE = 74_728


def sample(n: int) -> list[dict]:
    """n papers spread over the whole corpus."""
    return corpus_sample(n, max(1, CORPUS_SIZE // n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=3000)
    parser.add_argument("--embedded", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quality", type=int, default=60)
    parser.add_argument("--models-dir", default=None, help="where the model's ONNX export is cached")
    args = parser.parse_args()

    import numpy as np

    from dailypapers.config import Settings
    from dailypapers.index import keyphrases, summaries
    from dailypapers.index.embeddings import load_embedder
    from dailypapers.index.model import MODEL_KEY, paper_text
    from dailypapers.index.phrase_vectors import load
    from dailypapers.ingest.run import IngestJob
    from dailypapers.store import embeddings as embedding_store
    from dailypapers.store.engine import Store

    papers = sample(args.papers)
    base = Settings(models_dir=args.models_dir) if args.models_dir else Settings()
    started = time.perf_counter()
    phrases = load(base)
    print(f"phrase vectors ready in {time.perf_counter() - started:.1f}s (built once per model, then cached)")
    embedder = load_embedder(base, runtime="onnx-int8")
    some = papers[: args.embedded]
    vectors = embedder.embed([paper_text(p["title"], p["abstract"]) for p in some])
    df = keyphrases.DocumentFrequencies.of(f"{p['title']} {p['abstract']}" for p in papers[:5000])

    def rate(items, vecs, use) -> float:
        t = time.perf_counter()
        for i, p in enumerate(items):
            summaries.compute(p, vecs[i] if use else None, phrases if use else None, df)
        return len(items) / (time.perf_counter() - t)

    emb_rates = [rate(some, vectors, True) for _ in range(args.runs)]
    tfidf_rates = [rate(papers, None, False) for _ in range(args.runs)]
    print(f"compute, embedding path: {statistics.median(emb_rates):,.0f} papers/s (median of {args.runs}: {[round(r) for r in emb_rates]})")
    print(f"compute, TF-IDF path:    {statistics.median(tfidf_rates):,.0f} papers/s (median of {args.runs}: {[round(r) for r in tfidf_rates]})")

    end_rates = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "papers.jsonl"
            corpus.write_text("".join(json.dumps(p) + "\n" for p in papers))
            settings = Settings(database_url=f"sqlite:///{tmp}/b.db", data_dir=tmp, models_dir=base.models_dir)
            store = Store(settings)
            IngestJob(store).run([str(corpus)])
            with store.session() as session, session.begin():
                ids = dict(session.execute(__import__("sqlalchemy").text("SELECT arxiv_id, id FROM papers")).all())
                embedding_store.upsert_many(
                    session, MODEL_KEY, [(ids[p["id"]], "x", v) for p, v in zip(some, vectors) if p["id"] in ids]
                )
            t = time.perf_counter()
            done = summaries.summarize_papers(store)
            end_rates.append(done / (time.perf_counter() - t))
            store.dispose()
    end = statistics.median(end_rates)
    print(f"end to end ({args.papers} papers, {args.embedded} with vectors): {end:,.0f} papers/s "
          f"(median of {args.runs}: {[round(r) for r in end_rates]})")
    # The end-to-end run mixes both paths; its store overhead per paper plus the embedding path's
    # compute is what a corpus whose papers all have vectors costs.
    t_emb, t_tfidf = 1 / statistics.median(emb_rates), 1 / statistics.median(tfidf_rates)
    mixed = (args.embedded * t_emb + (args.papers - args.embedded) * t_tfidf) / args.papers
    overhead = max(0.0, 1 / end - mixed)
    print(f"store overhead {overhead * 1e3:.2f} ms/paper; projected for the whole corpus ({CORPUS_SIZE:,} papers, "
          f"every one with a vector): {CORPUS_SIZE * (t_emb + overhead) / 60:.1f} min; all by TF-IDF: "
          f"{CORPUS_SIZE * (t_tfidf + overhead) / 60:.1f} min")

    if args.quality:
        ours_hits, tfidf_hits = [], []
        for p, v in zip(some[: args.quality], vectors):
            cands = keyphrases.usable(keyphrases.candidates(p["title"], p["abstract"]), df)
            if not cands:
                continue
            exact = embedder.embed([c.surface for c in cands], batch_size=128)
            top10 = {cands[i].surface.lower() for i in np.argsort(-(exact @ v))[:10]}
            mine = summaries.key_phrases(p["title"], p["abstract"], v, phrases, df)
            tf = summaries.key_phrases(p["title"], p["abstract"], None, None, df)
            ours_hits.append(len({k.lower() for k in mine} & top10) / max(1, len(mine)))
            tfidf_hits.append(len({k.lower() for k in tf} & top10) / max(1, len(tf)))
        print(f"agreement with the transformer's top 10 ({len(ours_hits)} papers): phrase vectors "
              f"{statistics.mean(ours_hits):.2f}, TF-IDF {statistics.mean(tfidf_hits):.2f}")
    print(f"{today()}, {machine()}")


if __name__ == "__main__":
    main()
