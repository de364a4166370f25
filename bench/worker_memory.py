"""Peak memory of a queue worker running the index job (issue 12).

A store of the corpus's first N papers (no embeddings yet) is copied fresh for each run; a real
`dailypapers worker --processes 1` on Redis is started, the index job is enqueued, and once the run
is done the peak resident set (VmHWM) of each worker process is read from /proc before the worker
is stopped. The figure is the job-running process's peak: the largest of the worker's processes.
Median of `--runs`.

    python bench/worker_memory.py [--papers 3000] [--runs 3] [--code PATH]

`--code` runs the worker from another checkout (the code before a change); the store is built
with this one. Needs Redis on 127.0.0.1:6379 and the shared corpus.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from common import CACHE, CORPUS, ROOT, machine, median, need, today

MODELS = ROOT / "test-artifacts" / "models"


def base_store(papers: int) -> Path:
    """The corpus's first `papers` papers in a SQLite store, built once."""
    db = CACHE / f"worker-memory-{papers}.sqlite"
    if db.exists():
        return db
    CACHE.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from dailypapers.config import Settings
    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store.engine import Store

    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "papers.jsonl.gz"
        with gzip.open(need(CORPUS), "rt") as src, gzip.open(subset, "wt") as dst:
            for number, line in enumerate(src):
                if number >= papers:
                    break
                dst.write(line)
        part = db.with_suffix(".part")
        part.unlink(missing_ok=True)
        store = Store(Settings(database_url=f"sqlite:///{part}", data_dir=Path(tmp) / "data", search_semantic=False))
        ingest_job(store).run([str(subset)])
        store.dispose()
        part.replace(db)
    return db


def peaks(root: psutil.Process) -> dict[int, int]:
    """VmHWM in bytes of the process and its descendants, by pid."""
    out = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out[proc.pid] = int(line.split()[1]) * 1024
        except OSError:
            pass
    return out


def status(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        try:
            return [r[0] for r in conn.execute("select status from job_runs where name = 'index'")]
        except sqlite3.OperationalError:
            return []


def one_run(store: Path, code: Path, tmp: Path, env_extra: dict) -> tuple[int, int, float]:
    """(peak RSS of the job's process, of the supervising process, seconds of the run)."""
    db = tmp / "site.sqlite"
    shutil.copy(store, db)
    env = dict(
        os.environ,
        PYTHONPATH=str(code),
        DAILYPAPERS_DATABASE_URL=f"sqlite:///{db}",
        DAILYPAPERS_DATA_DIR=str(tmp / "data"),
        DAILYPAPERS_QUEUE_URL="redis://127.0.0.1:6379/0",
        DAILYPAPERS_QUEUE_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}",
        DAILYPAPERS_BASE_URL="http://bench.invalid",
        DAILYPAPERS_ONLINE="0",
        **env_extra,
    )
    if MODELS.exists():
        env.setdefault("DAILYPAPERS_MODELS_DIR", str(MODELS))
    log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([sys.executable, "-m", "dailypapers", "worker", "--processes", "1", "--threads", "2"],
                              env=env, stdout=log, stderr=log, start_new_session=True, cwd=code)
    try:
        root = psutil.Process(worker.pid)
        deadline = time.monotonic() + 120
        while not root.children(recursive=True) and time.monotonic() < deadline:
            time.sleep(0.2)
        subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "enqueue", "index"], env=env, cwd=code,
                       check=True, capture_output=True)
        started = time.monotonic()
        while status(db) != ["done"]:
            if worker.poll() is not None or time.monotonic() - started > 1800:
                raise SystemExit(f"the worker failed; see {tmp / 'worker.log'}:\n" + (tmp / "worker.log").read_text()[-3000:])
            time.sleep(0.5)
        seconds = time.monotonic() - started
        found = peaks(root)
        parent = found.pop(worker.pid, 0)
        return max(found.values(), default=0), parent, seconds
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGTERM)
            try:
                worker.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose worker runs")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the worker (repeatable)")
    args = parser.parse_args()
    store = base_store(args.papers)
    extra = dict(item.split("=", 1) for item in args.env)
    results = []
    for number in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            job, parent, seconds = one_run(store, args.code.resolve(), Path(tmp), extra)
        results.append((job, parent, seconds))
        print(f"run {number + 1}: job process peak {job / 2**20:.0f} MiB, supervisor {parent / 2**20:.0f} MiB, "
              f"index run {seconds:.0f} s", flush=True)
    print(f"{today()}, {machine()}, {args.papers} papers, code {args.code}")
    print(f"median peak RSS of the job's process: {median([r[0] for r in results]) / 2**20:.0f} MiB; "
          f"of the supervising process: {median([r[1] for r in results]) / 2**20:.0f} MiB; "
          f"index run {median([r[2] for r in results]):.0f} s")


if __name__ == "__main__":
    main()
