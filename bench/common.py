"""Helpers for the benchmark scripts: the real corpus, the machine's description, medians."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DAILYPAPERS_TEST_DATA", ROOT.parent / "shared" / "data"))
CORPUS = DATA / "arxiv-daily" / "papers.jsonl.gz"
CACHE = ROOT / "bench" / ".cache"


def need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"benchmark data not found: {path} (the shared data folder is absent)")
    return path


def corpus_sample(n: int, step: int) -> list[dict]:
    """Every `step`-th paper of the real corpus, n of them (deterministic)."""
    with gzip.open(need(CORPUS), "rt") as f:
        return [json.loads(line) for line in itertools.islice(f, 0, step * n, step)]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def today() -> str:
    return dt.date.today().isoformat()


def median(values) -> float:
    return statistics.median(values)


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def tree_rss(proc) -> int | None:
    """The summed RSS of a psutil process and its children (a conservative peak: pages shared
    after fork count twice); None once the process is gone."""
    import psutil

    try:
        total = 0
        for p in [proc] + proc.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return None


def run_measured(cmd: list[str], env: dict, interval: float = 0.05) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run a command; return (seconds, peak tree RSS bytes, result), the RSS sampled every `interval`."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, done, peak = psutil.Process(proc.pid), threading.Event(), 0

    def sample() -> None:
        nonlocal peak
        while not done.is_set() and (total := tree_rss(watched)) is not None:
            peak = max(peak, total)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - start
    return elapsed, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def abstract_vectors():
    """The cached embeddings of the 74,728 abstracts, in corpus order: made once by `dailypapers eval`
    on the title-to-abstract set (bench/eval/title_abstract.py), about 50 minutes on 2 cores."""
    from dailypapers.evaluation import load_beir
    from dailypapers.index.embedding_runs import embed_cached
    from dailypapers.index.model import DIM, MODEL_KEY, paper_text

    data = load_beir(need(CACHE / "arxiv-title-abstract"))

    class CacheOnly:  # the eval's cache key, without a model: a missing chunk is an error
        model, runtime, dim = MODEL_KEY, "onnx-int8", DIM

        def embed(self, texts, batch_size=32):
            raise LookupError

    try:
        return embed_cached(CacheOnly(), [paper_text(t, x) for t, x in zip(data.titles, data.texts)], CACHE / "eval")
    except LookupError:
        sys.exit("the abstracts' vectors are not cached: run `python bench/eval/title_abstract.py`, then "
                 "`dailypapers eval bench/.cache/arxiv-title-abstract --cache-dir bench/.cache/eval` first")


def beir_with_vectors(folder: Path):
    """A BEIR set (dailypapers.evaluation.load_beir), its query ids in order, and the embeddings of
    its documents and its queries (cached in bench/.cache/eval, as `dailypapers eval` makes them)."""
    from dailypapers.config import Settings
    from dailypapers.evaluation import load_beir
    from dailypapers.index.embedding_runs import embed_cached
    from dailypapers.index.embeddings import load_embedder
    from dailypapers.index.model import paper_text

    embedder = load_embedder(Settings(models_dir=CACHE / "models", data_dir=CACHE / "data"))
    data = load_beir(folder)
    docs = embed_cached(embedder, [paper_text(t, x) for t, x in zip(data.titles, data.texts)], CACHE / "eval")
    qids = list(data.queries)
    return data, qids, docs, embed_cached(embedder, [data.queries[q] for q in qids], CACHE / "eval")


def random_vectors(count: int, dim: int = 384):
    """Seeded random unit vectors: stand-ins for the abstracts' embeddings where the eval cache is
    absent (making it takes 50 minutes on 2 cores); serving costs the same whatever they hold."""
    import numpy as np

    vectors = np.random.default_rng(0).standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def feature_corpus(store) -> None:
    """The corpus is arXiv's listings, which are not featured; the daily pages' benchmarks need full
    featured days, so every listed paper is featured on its listing day by a curator's hand (as
    `dailypapers papers feature --listed` does). Once: a store featured already is left alone."""
    from dailypapers.store import daily, kv, listings

    with store.session() as session, session.begin():
        if daily.count(session) >= 74728:
            return
        daily.feature_many(session, listings.pairs_between(session, None, None))
        kv.bump(session)


def corpus_store(settings, *, similar: bool = True, embeddings: bool = True, random: bool = False):
    """A benchmark store holding the whole corpus, built once and reused: the papers ingested the
    normal way, each paper's embedding taken from the eval cache (its abstract's vector, a stand-in
    that costs no 50-minute embedding run; serving costs the same whatever the vectors hold; with
    `random`, seeded random vectors instead, for a machine without that cache), stored
    under the paper's content hash so the index job counts it fresh, and, with `similar`, the similar
    papers the index job would have stored. Without `embeddings`, only the papers (for benchmarks of
    pages that need no vectors, on a machine without the eval cache)."""
    import gzip
    import json

    from dailypapers import neighbours
    from dailypapers.index.model import MODEL_KEY
    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store import embeddings as embedding_store
    from dailypapers.store import papers as paper_store
    from dailypapers.store import similar as similar_store
    from dailypapers.store.engine import Store

    store = Store(settings)
    with store.session() as session:
        if paper_store.count(session) < 74728:
            ingest_job(store).run([str(need(CORPUS))])
        have = embedding_store.count(session, MODEL_KEY)
    feature_corpus(store)
    if not embeddings:
        return store
    if have < 74728:
        vectors = random_vectors(74728) if random else abstract_vectors()
        with gzip.open(CORPUS, "rt") as f:
            arxiv_ids = [json.loads(line)["id"] for line in f]
        with store.session() as session:
            known = paper_store.existing(session, arxiv_ids)
        rows = [(known[a][0], known[a][2], vectors[i]) for i, a in enumerate(arxiv_ids)]
        for start in range(0, len(rows), 5000):
            with store.session() as session, session.begin():
                embedding_store.upsert_many(session, MODEL_KEY, rows[start : start + 5000])
    if similar:
        with store.session() as session:
            stale = len(similar_store.stale(session, MODEL_KEY))
        if stale:
            print(f"computing the similar papers of {stale:,} papers (once)", file=sys.stderr, flush=True)
            neighbours.refresh(store)
    return store
