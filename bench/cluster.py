"""A mixed read load against deployments of the same corpus, from wrk in a second process:

  A1. the smallest box: `dailypapers serve --workers 1` on SQLite (one web process);
  A2. the single-machine default: `dailypapers serve` on SQLite (web processes = cores, at most 4);
  B.  the scaled-out shape on this one machine: PostgreSQL, two web processes, two queue workers
      (Dramatiq on Redis), each web process following the store for its search indexes.

    python bench/cluster.py [--seconds 60] [--warmup 60] [--postgres URL] [--malloc-arena-max N]

The load mixes feed pages, paper pages, search (page and API) and the JSON API over the 74,728-paper
corpus with its embeddings and similar papers (bench/web.py builds the SQLite store from the eval
cache, see `common.corpus_store`; this script copies it into PostgreSQL once). Reported: requests/s, p50/p99, errors, and the web
processes' heap after warm-up and at the end, and its growth over the measured run (MB/min, least
squares over samples every 5 s): flat means no growth. The servers run with the product's allocator
setting (DAILYPAPERS_MALLOC_ARENA_MAX, default 2) unless --malloc-arena-max says otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from common import CORPUS, DATA, ROOT, machine, need, today
from web import CACHE, corpus_db, free_port, parse_wrk, wait_up

MIX = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local counter = 0
setup = function(thread) thread:set("offset", counter * 7919); counter = counter + 1 end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[((i + offset) %% #paths) + 1])
end
"""


def request_mix(n: int = 20000) -> list[str]:
    """Paths in the proportions of a reader's visit: feeds, papers, search, API."""
    random.seed(11)
    with gzip.open(CORPUS) as f:
        papers = [json.loads(line) for line in f]
    days = sorted({p["listed"] for p in papers})
    ids = [p["id"] for p in papers]
    queries = []
    for name in ("computer_science_ai_search_queries.json", "computer_science_non_ai_search_queries.json"):
        data = json.loads((DATA / "paperlantern-queries" / name).read_text())
        queries += [item["search_query"] for item in data.values()]
    queries = [q for q in queries if q][:400]
    from urllib.parse import quote

    out = []
    for _ in range(n):
        r = random.random()
        if r < 0.15:
            out.append("/")
        elif r < 0.30:
            out.append(f"/date/{random.choice(days)}")
        elif r < 0.55:
            out.append(f"/papers/{random.choice(ids)}")
        elif r < 0.65:
            out.append(f"/search?q={quote(random.choice(queries))}")
        elif r < 0.75:
            out.append(f"/api/papers/search?q={quote(random.choice(queries))}&limit=10")
        elif r < 0.90:
            out.append(f"/api/daily_papers?date={random.choice(days)}")
        else:
            out.append(f"/api/papers/{random.choice(ids)}")
    return out


def web_memory(root: psutil.Process) -> list[tuple[int, int]]:
    """(heap, mapped files) of each web worker process under a `serve` parent, in MB: RssAnon, what
    the process allocated (a leak grows this), and RssFile, the pages of mapped files it has touched
    (the search indexes and libraries, which the kernel can drop and re-read)."""
    kids = [p for p in root.children(recursive=True) if "dailypapers" in " ".join(p.cmdline()) or "multiprocessing" in " ".join(p.cmdline())]
    out = []
    for proc in kids or [root]:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if ":" in line)
        kb = lambda name: int(fields.get(name, "0 kB").split()[0])  # noqa: E731
        if kb("RssAnon") + kb("RssFile") > 50 * 1024:  # the web workers, not the small supervisor
            out.append((kb("RssAnon") // 1024, kb("RssFile") // 1024))
    return out


def load(base: str, script: Path, seconds: int, server: subprocess.Popen, warmup: int) -> dict:
    """Warm up for `warmup` seconds (long enough to pass over the whole request mix, so the page
    caches, connection pools and index pages reach their working size), then load for `seconds`
    while sampling the web processes' memory every 5 seconds."""
    import threading

    root = psutil.Process(server.pid)
    subprocess.run(["wrk", "-t2", "-c32", f"-d{warmup}s", "--timeout", "10s", "-s", str(script), base], capture_output=True, check=True)
    start = time.monotonic()
    samples = [(0.0, web_memory(root))]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5):
            samples.append((time.monotonic() - start, web_memory(root)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script), base],
                            capture_output=True, text=True, check=True)
    done.set()
    sampler.join()
    samples.append((time.monotonic() - start, web_memory(root)))
    stats = parse_wrk(result.stdout)
    stats.update(samples=samples)
    return stats


def heap_growth(samples: list[tuple[float, list[tuple[int, int]]]]) -> list[float]:
    """Each web process's heap growth over the run, MB per minute (least-squares slope)."""
    import numpy as np

    counts = {len(mem) for _, mem in samples}
    if len(counts) != 1:
        return []  # a process came or went during the run: no per-process series
    t = np.array([at for at, _ in samples]) / 60
    return [float(np.polyfit(t, [mem[i][0] for _, mem in samples], 1)[0]) for i in range(counts.pop())]


def postgres_copy(sqlite_db: Path, admin_url: str) -> str:
    """A PostgreSQL database with the same papers and embeddings, built once."""
    from sqlalchemy import create_engine, text

    from dailypapers.config import Settings
    from dailypapers.store import embeddings as emb_store
    from dailypapers.store.engine import Store

    name = "dp_bench_cluster"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = dict(os.environ, DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_DATA_DIR=str(CACHE / "pg-data"))
    subprocess.run([sys.executable, "-m", "dailypapers", "ingest", "--no-progress", str(CORPUS)], env=env, check=True)
    # The corpus is arXiv's listings: feature them on their days, as the benchmark's feeds need.
    subprocess.run([sys.executable, "-m", "dailypapers", "papers", "feature", "--listed"], env=env, check=True)
    src = Store(Settings(database_url=f"sqlite:///{sqlite_db}", data_dir=CACHE / "web-data"))
    dst = Store(Settings(database_url=url, data_dir=CACHE / "pg-data"))
    with src.session() as s, dst.session() as d:
        from dailypapers.index.model import MODEL_KEY
        from dailypapers.store.schema import Embedding, Paper
        from sqlalchemy import select

        if emb_store.count(d, MODEL_KEY) < emb_store.count(s, MODEL_KEY):
            by_arxiv = dict(d.execute(select(Paper.arxiv_id, Paper.id)).all())
            rows = s.execute(select(Paper.arxiv_id, Embedding.content_hash, Embedding.vector)
                             .join(Paper, Paper.id == Embedding.paper_id).where(Embedding.model == MODEL_KEY)).all()
            import numpy as np

            for start in range(0, len(rows), 5000):
                batch = [(by_arxiv[a], h, np.frombuffer(v, dtype="<f4")) for a, h, v in rows[start : start + 5000]]
                with dst.session() as w, w.begin():
                    emb_store.upsert_many(w, MODEL_KEY, batch)
    from dailypapers import neighbours

    with dst.session() as d:
        from dailypapers.store import similar as similar_store

        missing = len(similar_store.stale(d, MODEL_KEY))
    if missing:
        neighbours.refresh(dst)  # the similar papers the index job would have stored
    src.dispose()
    dst.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=60, help="seconds of load before measuring")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", default="A1,A2,B", help="which deployments to run, comma-separated")
    parser.add_argument("--malloc-arena-max", type=int, help="DAILYPAPERS_MALLOC_ARENA_MAX for the servers (0: glibc's default)")
    args = parser.parse_args()
    need(CORPUS)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    db = corpus_db()
    tmp = Path(tempfile.mkdtemp())
    paths = tmp / "paths.txt"
    paths.write_text("\n".join(request_mix()))
    script = tmp / "mix.lua"
    script.write_text(MIX % paths)
    common = dict(os.environ, DAILYPAPERS_VENDOR_DIR=str(ROOT / "node_modules"), DAILYPAPERS_MODELS_DIR=str(CACHE / "models"),
                  DAILYPAPERS_ONLINE="0")
    common.pop("MALLOC_ARENA_MAX", None)  # the product's setting decides
    if args.malloc_arena_max is not None:
        common["DAILYPAPERS_MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
    arenas = common.get("DAILYPAPERS_MALLOC_ARENA_MAX", "2 (the default)")
    default_workers = min(4, os.cpu_count() or 1)
    results = []

    # A: the single machine on SQLite, one web process and then the default (one per core).
    env_a = dict(common, DAILYPAPERS_DATABASE_URL=f"sqlite:///{db}", DAILYPAPERS_DATA_DIR=str(CACHE / "web-data"))
    only = set(args.only.split(","))
    for name, workers in (("A1: SQLite, 1 web process", ["--workers", "1"]), (f"A2: SQLite, default `serve` ({default_workers} web processes)", [])):
        if name.split(":")[0] not in only:
            continue
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "dailypapers", "serve", "--port", str(port), *workers, "--log-level", "warning"],
                                  env=env_a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_up(f"http://127.0.0.1:{port}")
            results.append((name, load(f"http://127.0.0.1:{port}", script, args.seconds, server, args.warmup)))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)

    # B: PostgreSQL, two web processes, two workers on Redis.
    if "B" in only:
        url = postgres_copy(db, args.postgres)
        env_b = dict(common, DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_QUEUE_URL="redis://127.0.0.1:6379/0",
                     DAILYPAPERS_QUEUE_NAMESPACE=f"bench-{uuid.uuid4().hex[:6]}", DAILYPAPERS_RATE_LIMIT_STORAGE="redis://127.0.0.1:6379/1")
        # The node's indexes are built before it takes traffic, as a deployment would (docs/deployment.md).
        subprocess.run([sys.executable, "-m", "dailypapers", "index", "--no-progress"],
                       env=dict(env_b, DAILYPAPERS_DATA_DIR=str(CACHE / "pg-web")), check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        procs = [subprocess.Popen([sys.executable, "-m", "dailypapers", "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                                  env=dict(env_b, DAILYPAPERS_DATA_DIR=str(CACHE / "pg-web")), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)]
        for n in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "dailypapers", "worker", "--processes", "1", "--threads", "1"],
                                          env=dict(env_b, DAILYPAPERS_DATA_DIR=str(CACHE / f"pg-worker{n}")), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
        try:
            wait_up(f"http://127.0.0.1:{port}", timeout=600)  # the first start builds its indexes from the store
            results.append(("B: PostgreSQL, 2 web processes + 2 queue workers (Redis)", load(f"http://127.0.0.1:{port}", script, args.seconds, procs[0], args.warmup)))
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(20)
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"# cluster benchmark, {today()}, {machine()}; wrk -t2 -c32 -d{args.seconds}s on loopback, mixed reads "
          "(15% /, 15% /date, 25% paper pages, 10% /search, 10% API search, 15% API daily, 10% API paper)")
    print(f"warm-up {args.warmup} s first; malloc arenas per process: {arenas}; heap (RssAnon) of each web "
          "process in MB, sampled every 5 s of the measured run")
    print("| deployment | requests/s | p50 ms | p99 ms | errors | heap at start → end | growth MB/min | mapped files at start → end |")
    print("|---|---|---|---|---|---|---|---|")
    heap = lambda sample: " + ".join(str(a) for a, _ in sample)  # noqa: E731
    files = lambda sample: " + ".join(str(f) for _, f in sample)  # noqa: E731
    for name, r in results:
        first, last = r["samples"][0][1], r["samples"][-1][1]
        growth = " / ".join(f"{g:+.1f}" for g in heap_growth(r["samples"])) or "n/a"
        print(f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | "
              f"{heap(first)} → {heap(last)} | {growth} | {files(first)} → {files(last)} |")
    for name, r in results:
        print(f"heap samples, {name}: " + " | ".join(heap(sample) for _, sample in r["samples"]))


if __name__ == "__main__":
    main()
