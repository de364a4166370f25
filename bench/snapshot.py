"""Backfill rate of the arXiv metadata snapshot format (the Kaggle arxiv-metadata-oai-snapshot.json,
about 2.7 million papers), through the real CLI.

    python bench/snapshot.py [--papers 200000] [--postgres URL]

Only a 200-record sample of the snapshot is available offline, so the benchmark builds a file of
--papers records by repeating the sample's records under fresh ids (same sizes, versions, authors).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile

from common import CACHE, DATA, machine, need, run_measured, today

SAMPLE = DATA / "fixtures" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.sample200.json"


def build(n: int) -> str:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"snapshot-{n}.jsonl.gz"
    if path.exists():
        return str(path)
    records = [json.loads(line) for line in need(SAMPLE).read_text().splitlines() if line.strip()]
    with gzip.open(path, "wt", compresslevel=3) as out:
        for i in range(n):
            record = dict(records[i % len(records)])
            record["id"] = f"{1001 + i // 90000:04d}.{10000 + i % 90000:05d}"
            out.write(json.dumps(record) + "\n")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    path = build(args.papers)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/snap.db")]
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for kind, url in targets:
            env = dict(os.environ, DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_DATA_DIR=f"{tmp}/data")
            seconds, peak, result = run_measured([sys.executable, "-m", "dailypapers", "ingest", "--no-progress", "--no-index", path], env)
            assert result.returncode == 0, result.stderr
            rate = args.papers / seconds
            rows.append((kind, rate, peak / 2**20, 2_700_000 / rate / 60))
    print(f"# snapshot backfill, {today()}, {machine()}; {args.papers:,} records")
    print("| database | papers/s | peak memory (MB) | 2.7M papers would take (min) |")
    print("|---|---|---|---|")
    for kind, rate, mem, minutes in rows:
        print(f"| {kind} | {rate:,.0f} | {mem:.0f} | {minutes:.0f} |")


if __name__ == "__main__":
    main()
