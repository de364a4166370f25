"""Ingest throughput on the real 74,728-paper arxiv-daily file, through the real CLI.

    python bench/ingest.py [--runs 3] [--postgres URL] [--code TREE ...]

Each run: a fresh database, `dailypapers ingest --no-index FILE` (fresh), then the same again
(everything unchanged). Prints medians of papers/s and the peak memory of the process tree.
With --code, the runs alternate between the source trees given (a checkout's root each, say an
old and a new commit's) and each tree gets its own line: a comparison on one machine in one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid

from common import CORPUS, ROOT, machine, median, need, run_measured, today

PAPERS = 74728


def fresh_database(kind: str, pg_url: str | None, tmp: str) -> tuple[str, callable]:
    if kind == "sqlite":
        path = os.path.join(tmp, f"bench-{uuid.uuid4().hex[:8]}.db")
        return f"sqlite:///{path}", lambda: [os.remove(p) for p in (path, path + "-wal", path + "-shm") if os.path.exists(p)]
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"dp_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def one_run(kind: str, pg_url: str | None, tmp: str, code: str) -> dict:
    url, drop = fresh_database(kind, pg_url, tmp)
    env = dict(os.environ, DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_DATA_DIR=os.path.join(tmp, "data"), PYTHONPATH=code)
    # -P: the package comes from `code` (PYTHONPATH), not from the current directory
    cmd = [sys.executable, "-P", "-m", "dailypapers", "ingest", "--no-index", "--no-progress", str(CORPUS)]
    try:
        subprocess_check(cmd[:4] + ["db", "upgrade"], env)  # migrations are not part of the ingest figure
        t1, m1, r1 = run_measured(cmd, env)
        assert r1.returncode == 0 and f"{PAPERS} new" in r1.stdout, r1.stdout + r1.stderr
        t2, m2, r2 = run_measured(cmd, env)
        assert r2.returncode == 0 and f"{PAPERS} unchanged" in r2.stdout, r2.stdout + r2.stderr
    finally:
        drop()
    return {"fresh_s": t1, "fresh_mem": m1, "again_s": t2, "again_mem": m2}


def subprocess_check(cmd, env):
    import subprocess

    subprocess.run(cmd, env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("DAILYPAPERS_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--code", nargs="+", default=[str(ROOT)], help="source trees to alternate between")
    args = parser.parse_args()
    need(CORPUS)
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    print(f"# ingest benchmark, {today()}, {machine()}")
    compare = len(args.code) > 1
    print(f"| database |{' code |' if compare else ''} fresh papers/s | re-ingest papers/s | peak memory (MB) | runs |")
    print(f"|---|{'---|' if compare else ''}---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            runs: dict[str, list[dict]] = {code: [] for code in args.code}
            for _ in range(args.runs):
                for code in args.code:  # alternated, so a change in the machine's load hits every tree alike
                    runs[code].append(one_run(kind, args.postgres, tmp, code))
            for code, done in runs.items():
                fresh = median([PAPERS / r["fresh_s"] for r in done])
                again = median([PAPERS / r["again_s"] for r in done])
                mem = max(max(r["fresh_mem"], r["again_mem"]) for r in done) / 2**20
                label = f" {code} |" if compare else ""
                print(f"| {kind} |{label} {fresh:,.0f} | {again:,.0f} | {mem:.0f} | {args.runs} |", flush=True)
            if compare:  # the spread, run by run, for judging what is noise
                for code, done in runs.items():
                    each = ", ".join(f"{PAPERS / r['fresh_s']:,.0f}/{PAPERS / r['again_s']:,.0f}" for r in done)
                    print(f"<!-- {kind} {code}: fresh/re-ingest papers/s per run: {each} -->", flush=True)


if __name__ == "__main__":
    main()
