"""Web throughput with the 74,728-paper corpus loaded: wrk (a second process, loopback, 32
connections) against `dailypapers serve` on the default SQLite store.

    python bench/web.py [--seconds 15] [--runs 3] [--workers 2] [--only 'paper pages']

Needs `wrk` (apt-get install wrk). Paper pages rotate over every paper of the corpus in random
order (about 480 MB of pages against a page cache of DAILYPAPERS_PAGE_CACHE_MB, 64 MB, per
process), so they miss the page cache and are rendered from the database.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import CACHE, CORPUS, ROOT, corpus_store, machine, median, need, today


def corpus_db() -> Path:
    """A SQLite store with the whole corpus, its embeddings and similar papers, built once and reused
    (see `common.corpus_store`)."""
    from dailypapers.config import Settings

    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / "web-corpus.db"
    corpus_store(Settings(database_url=f"sqlite:///{db}", data_dir=CACHE / "web-data")).dispose()
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, timeout: float = 120) -> None:
    """Until the server answers /healthz with 200: up, and its indexes caught up with the store."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base} did not come up")


def parse_wrk(text: str) -> dict:
    def seconds(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s|m))", text, re.M))
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    for k, v in lat.items():
        m = re.match(r"([\d.]+)(us|ms|s|m)", v)
        out[f"p{k}_ms"] = seconds(m.group(1), m.group(2)) * 1000
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["errors"] = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    out["requests"] = int(re.search(r"(\d+) requests in", text).group(1))
    return out


ROTATE = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
local counter = 0
setup = function(thread) thread:set("offset", counter * math.floor(#ids / 2)); counter = counter + 1 end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/papers/" .. ids[((i + offset) %% #ids) + 1] .. "?run=%s")
end
"""
# Each wrk thread starts half the corpus away from the other, and each run tags its requests
# (?run=N, which the page ignores): no request finds a page an earlier request put in the cache.


def wrk(url: str, seconds: int, script: Path | None = None) -> dict:
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    result = subprocess.run(cmd + [url], capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="Run only the targets whose name contains this (e.g. 'paper pages').")
    args = parser.parse_args()
    need(CORPUS)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    db = corpus_db()
    port = free_port()
    tmp = Path(tempfile.mkdtemp())
    env = dict(os.environ, DAILYPAPERS_DATABASE_URL=f"sqlite:///{db}", DAILYPAPERS_DATA_DIR=str(CACHE / "web-data"),
               DAILYPAPERS_VENDOR_DIR=str(ROOT / "node_modules"))
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port), "--workers", str(args.workers), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base)
        items = httpx.get(base + "/api/daily_papers", params={"month": "2026-05", "limit": 100}, timeout=30).json()
        assert items, "no papers in the corpus database"
        ids = [i["paper"]["id"] for i in items]
        # Every paper once per cycle, in random order: the pages miss the cache.
        import gzip
        import json

        with gzip.open(CORPUS) as f:
            all_ids = [json.loads(line)["id"] for line in f]
        random.seed(7)
        rotate = tmp / "ids.txt"
        rotate.write_text("\n".join(random.sample(all_ids, len(all_ids))))

        def rotating(run: int) -> Path:
            script = tmp / f"rotate-{run}.lua"
            script.write_text(ROTATE % (rotate, run))
            return script

        targets = [
            ("daily page /", base + "/", None),
            ("/api/daily_papers", base + "/api/daily_papers", None),
            (f"paper pages ({len(all_ids):,} rotating)", base + "/", rotating),
            ("one paper page", base + f"/papers/{ids[0]}", None),
        ]
        print(f"# web benchmark, {today()}, {machine()}; dailypapers serve --workers {args.workers} (uvicorn, httptools, uvloop), "
              f"SQLite; wrk -t2 -c32 -d{args.seconds}s on loopback")
        print("| target | requests/s | p50 ms | p99 ms | errors | runs |")
        print("|---|---|---|---|---|---|")
        for name, url, lua in targets:
            if args.only and args.only not in name:
                continue
            wrk(url, 3, lua and lua(0))  # warm-up
            runs = [wrk(url, args.seconds, lua and lua(run)) for run in range(1, args.runs + 1)]
            print(
                f"| {name} | {median([r['rps'] for r in runs]):,.0f} | {median([r['p50_ms'] for r in runs]):.1f} | "
                f"{median([r['p99_ms'] for r in runs]):.1f} | {sum(r['errors'] for r in runs)} | {args.runs} |",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
