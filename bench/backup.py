"""`dailypapers db backup` of the 74,728-paper SQLite store (papers, embeddings, similar papers):
seconds per backup and size, and what a writer committing meanwhile sees.

    python bench/backup.py [--runs 3]

The store is the one the web benchmark uses (built once by `common.corpus_store`). During each
backup a thread commits one small write after another through the store, as the site would, and
the benchmark reports how many it committed and its slowest commit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import CACHE, machine, median, today
from web import corpus_db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from dailypapers.config import Settings
    from dailypapers.store import kv
    from dailypapers.store.backup import backup
    from dailypapers.store.engine import Store

    db = corpus_db()
    url = f"sqlite:///{db}"
    store = Store(Settings(database_url=url, data_dir=CACHE / "web-data"))
    print(f"# db backup, {today()}, {machine()}; {db.stat().st_size / 2**20:,.0f} MB SQLite store; median of {args.runs}")
    print("| run | seconds | backup MB | papers | writes committed meanwhile | slowest write ms |")
    print("|---|---|---|---|---|---|")
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            stop = threading.Event()
            waits: list[float] = []

            def writer():
                while not stop.is_set():
                    t = time.perf_counter()
                    with store.session() as session, session.begin():
                        kv.set_value(session, "bench-backup-writer", str(t))
                    waits.append(time.perf_counter() - t)

            thread = threading.Thread(target=writer)
            thread.start()
            subprocess.run(["sync"], check=False)
            start = time.perf_counter()
            made = backup(url, Path(tmp) / "backup.db")
            took = time.perf_counter() - start
            stop.set()
            thread.join()
            seconds.append(took)
            print(f"| {run} | {took:.2f} | {made.size / 2**20:,.0f} | {made.papers:,} | {len(waits):,} | "
                  f"{max(waits) * 1000:.1f} |", flush=True)
    print(f"median: {median(seconds):.2f} s")
    store.dispose()


if __name__ == "__main__":
    sys.exit(main())
