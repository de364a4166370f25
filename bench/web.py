"""Web throughput with the 74,728-paper corpus loaded: wrk (a second process, loopback, 32
connections) against `dailypapers serve` on the default SQLite store.

    python bench/web.py [--seconds 15] [--runs 3] [--workers 2] [--only 'paper pages'] [--random-vectors]
    python bench/web.py --http [--compare ../other-checkout] [--papers-only]

Needs `wrk` (apt-get install wrk). Paper pages rotate over every paper of the corpus in random
order (about 480 MB of pages against a page cache of DAILYPAPERS_PAGE_CACHE_MB, 64 MB, per
process), so they miss the page cache and are rendered from the database.

`--http` measures what HTTP caching costs and saves on the daily page and /api/daily_papers: each
without Accept-Encoding, with `Accept-Encoding: gzip` (as browsers send), and revalidated with the
ETag of the last answer (If-None-Match: a 304, when the server gives tags). `--compare PATH` also
serves the code of another checkout (PATH, e.g. the main branch) on the same database, with its own
index folder, and alternates the runs between the two servers, so the ratio comes from one session.
`--papers-only` uses a store holding only the papers (no embeddings: no eval cache needed; semantic
search off), which is all the daily page and the API read.
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


def corpus_db(papers_only: bool = False, random_vectors: bool = False) -> tuple[Path, Path]:
    """A SQLite store with the whole corpus, its embeddings and similar papers (or, papers only, just
    the papers), built once and reused (see `common.corpus_store`); and its data folder."""
    from dailypapers.config import Settings

    CACHE.mkdir(parents=True, exist_ok=True)
    name = "web-corpus-papers" if papers_only else ("web-corpus-random" if random_vectors else "web-corpus")
    db, data = CACHE / f"{name}.db", CACHE / name.replace("corpus", "data")
    corpus_store(Settings(database_url=f"sqlite:///{db}", data_dir=data), embeddings=not papers_only, random=random_vectors).dispose()
    return db, data


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


def wrk(url: str, seconds: int, script: Path | None = None, headers: dict | None = None) -> dict:
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    result = subprocess.run(cmd + [url], capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


class Server:
    """`dailypapers serve` from the code at `code` (a checkout's root), on the benchmark store."""

    def __init__(self, code: Path, db: Path, data: Path, workers: int, papers_only: bool):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(code), DAILYPAPERS_DATABASE_URL=f"sqlite:///{db}",
                   DAILYPAPERS_DATA_DIR=str(data), DAILYPAPERS_VENDOR_DIR=str(ROOT / "node_modules"))
        if papers_only:
            env["DAILYPAPERS_SEARCH_SEMANTIC"] = "false"
        if code != ROOT:
            env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout as it was
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dailypapers", "serve", "--port", str(self.port), "--workers", str(workers), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=code,
        )

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes."""
        import psutil

        total = 0.0
        root = psutil.Process(self.proc.pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def http_targets(base: str) -> list[tuple[str, str, dict]]:
    """The daily page and the API: identity, gzip, and revalidation with the server's ETag (when it
    gives one)."""
    targets = []
    for name, path in (("daily page /", "/"), ("/api/daily_papers", "/api/daily_papers")):
        targets.append((f"{name}, identity", base + path, {}))
        targets.append((f"{name}, gzip", base + path, {"Accept-Encoding": "gzip"}))
        etag = httpx.get(base + path, headers={"Accept-Encoding": "gzip"}, timeout=30).headers.get("etag")
        targets.append((f"{name}, If-None-Match (304)", base + path, {"Accept-Encoding": "gzip", "If-None-Match": etag} if etag else None))
    return targets


def migrations_head(code: Path) -> str:
    """The newest Alembic revision of a checkout's migrations (the one no other revises)."""
    found = re.compile(r'^(down_revision|revision) = "([^"]+)"', re.M)
    revisions, revised = set(), set()
    for path in (code / "dailypapers" / "store" / "migrations" / "versions").glob("*.py"):
        for kind, value in found.findall(path.read_text()):
            (revisions if kind == "revision" else revised).add(value)
    [head] = revisions - revised
    return head


def store_for(code: Path, db: Path) -> Path:
    """The benchmark store as another checkout's code can open it: a copy stamped with that code's
    newest migration when this code's is newer (Alembic refuses a revision it does not know; the
    tables and columns the other code lacks are left there and go unread)."""
    head = migrations_head(code)
    if head == migrations_head(ROOT):
        return db
    import sqlite3

    copy = db.with_name(f"{db.stem}-at-{head}{db.suffix}")
    if not copy.exists() or copy.stat().st_mtime < db.stat().st_mtime:
        with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
            source.backup(target)
            target.execute("UPDATE alembic_version SET version_num = ?", (head,))
    return copy


def compare_http(args, db: Path, data: Path) -> None:
    """--http [--compare PATH]: this checkout's server against another's, runs alternated."""
    codes = [("this", ROOT)] + ([("other", Path(args.compare).resolve())] if args.compare else [])
    servers = {}
    try:
        for label, code in codes:
            # Each server keeps its own search indexes: two processes never write one index folder.
            servers[label] = Server(code, store_for(code, db), data if label == "this" else data.with_name(data.name + "-compare"),
                                    args.workers, args.papers_only)
        for server in servers.values():
            wait_up(server.base, timeout=900)
        targets = {label: http_targets(server.base) for label, server in servers.items()}
        sizes = {label: {path: "/".join(httpx.get(servers[label].base + path, headers={"Accept-Encoding": enc}).headers["content-length"]
                                        for enc in ("identity", "gzip"))
                         for path in ("/", "/api/daily_papers")} for label in servers}
        print(f"# web HTTP benchmark, {today()}, {machine()}; dailypapers serve --workers {args.workers}, SQLite"
              f"{' (papers only)' if args.papers_only else ''}; wrk -t2 -c32 -d{args.seconds}s on loopback; "
              f"runs alternated between {', '.join(f'{k}={v}' for k, v in codes)}")
        print(f"# bytes on the wire, identity/gzip: {sizes}")
        # Server CPU per request (all its processes, user + system) varies far less than requests/s
        # when other work shares the cores.
        head = " | ".join(f"{label} requests/s | {label} server CPU µs/request | {label} p99 ms" for label in servers)
        print(f"| target | {head} |" + (" requests/s this/other | CPU this/other |" if args.compare else ""))
        print("|---" * (1 + 3 * len(servers) + 2 * bool(args.compare)) + "|")
        for i, (name, _, _) in enumerate(targets["this"]):
            if args.only and args.only not in name:
                continue
            results = {label: [] for label in servers}
            for label in servers:  # warm-up
                _, url, headers = targets[label][i]
                if headers is not None:
                    wrk(url, 3, None, headers)
            for _ in range(args.runs):
                for label, server in servers.items():
                    _, url, headers = targets[label][i]
                    if headers is not None:
                        before = server.cpu_seconds()
                        result = wrk(url, args.seconds, None, headers)
                        result["cpu_us"] = (server.cpu_seconds() - before) / max(1, result["requests"]) * 1e6
                        results[label].append(result)
            cells, rps = [], {}
            for label in servers:
                runs = results[label]
                if not runs:
                    cells.append("(no ETag) | | ")
                    continue
                rps[label] = median([r["rps"] for r in runs])
                errors = sum(r["errors"] for r in runs)
                cells.append(f"{rps[label]:,.0f} | {median([r['cpu_us'] for r in runs]):,.0f} | {median([r['p99_ms'] for r in runs]):.1f}"
                             + (f" ({errors} errors)" if errors else ""))
            if args.compare and len(rps) == 2:
                cpu = {label: median([r["cpu_us"] for r in results[label]]) for label in servers}
                ratio = f" {rps['this'] / rps['other']:.2f} | {cpu['this'] / cpu['other']:.2f} |"
            else:
                ratio = " | |" if args.compare else ""
            print(f"| {name} | {' | '.join(cells)} |{ratio}", flush=True)
    finally:
        for server in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="Run only the targets whose name contains this (e.g. 'paper pages').")
    parser.add_argument("--http", action="store_true", help="The HTTP caching targets: identity, gzip, 304.")
    parser.add_argument("--compare", help="With --http: also serve this other checkout's code and alternate the runs.")
    parser.add_argument("--papers-only", action="store_true", help="A store of the papers alone (no embeddings).")
    parser.add_argument(
        "--random-vectors", action="store_true",
        help="Seeded random vectors instead of the eval cache's (a machine without that cache; serving costs the same).",
    )
    args = parser.parse_args()
    need(CORPUS)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    db, data = corpus_db(args.papers_only, args.random_vectors)
    if args.http:
        compare_http(args, db, data)
        return
    server = Server(ROOT, db, data, args.workers, args.papers_only)
    base = server.base
    tmp = Path(tempfile.mkdtemp())
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
            ("listings /new", base + "/new", None),
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
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
