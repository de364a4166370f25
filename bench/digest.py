"""Digest delivery: 10,000 confirmed subscribers, a mix of trending and topic alerts with real
queries, over the 74,728-paper corpus, to a local aiosmtpd server in another process.

    python bench/digest.py [--runs 3] [--subscribers 10000]

Each run copies a prepared store (papers, upvotes, subscribers; no deliveries yet) and times the
real command, `dailypapers digest send --cadence daily --period 2026-06-30` (process start-up
included), until every digest is handed to the server. The server counts what it accepts; the
run fails unless every subscriber with something new got exactly one message.

The arXiv listing has no upvotes, so the prepared store gets some, through the real import path:
a Hugging Face daily_papers file written for the period's papers, with seeded random votes.
Subscribers: 40% trending only (top 10), 30% trending plus a topic alert, 30% a topic alert only
(a third of those also restricted to a category). Queries are the 400 paperlantern queries (at
most 300 characters, as the subscribe form allows). Topic alerts use the full-text side of search
(the benchmark store has no embeddings)."""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CACHE, CORPUS, DATA, ROOT, machine, median, need, today

DAY = dt.date(2026, 6, 30)
QUERIES = DATA / "paperlantern-queries"

SERVER = r"""
import asyncio, signal, sys, threading
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Count:
    def __init__(self): self.n = 0; self.rcpt = {}
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        for r in envelope.rcpt_tos: self.rcpt[r] = self.rcpt.get(r, 0) + 1
        return "250 OK"
handler = Count()
c = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
c.start()
print("ready", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
c.stop()
open(out, "w").write(f"{handler.n} {len(handler.rcpt)} {max(handler.rcpt.values(), default=0)}")
"""


def env_for(db: Path, data: Path, **extra) -> dict:
    env = dict(os.environ, DAILYPAPERS_DATABASE_URL=f"sqlite:///{db}", DAILYPAPERS_DATA_DIR=str(data),
               DAILYPAPERS_SEARCH_SEMANTIC="0", DAILYPAPERS_SECRET_KEY="bench", DAILYPAPERS_BASE_URL="https://papers.example.org")
    env.update(extra)
    return env


def corpus_db(data: Path) -> Path:
    """The corpus plus upvotes for the period's papers, built once."""
    db = CACHE / "digest-corpus.db"
    if db.exists():
        return db
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    items = []
    start = DAY - dt.timedelta(days=7)
    with gzip.open(need(CORPUS), "rt") as f:
        for line in f:
            p = json.loads(line)
            listed = dt.date.fromisoformat(p["listed"][:10])
            if start <= listed <= DAY and rng.random() < 0.35:
                items.append({
                    "paper": {"id": p["id"], "title": p["title"], "summary": p["abstract"],
                              "authors": [{"name": a} for a in (p["authors"] if isinstance(p["authors"], list) else [])],
                              "upvotes": int(rng.paretovariate(1.2)) + rng.randint(0, 3)},
                    "publishedAt": f"{listed}T12:00:00.000Z", "submittedOnDailyAt": f"{listed}T12:00:00.000Z",
                    "numComments": 0, "title": p["title"],
                })
    votes = CACHE / "digest-upvotes.json"
    votes.write_text(json.dumps(items))
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    env = env_for(tmp, data)
    subprocess.run([sys.executable, "-m", "dailypapers", "ingest", "--no-progress", str(CORPUS), str(votes)], env=env, check=True)
    # The corpus is arXiv's listings: feature them on their days, as the benchmark's feeds need.
    subprocess.run([sys.executable, "-m", "dailypapers", "papers", "feature", "--listed"], env=env, check=True)
    tmp.rename(db)
    return db


def queries() -> list[str]:
    out = []
    for name in ("computer_science_ai_search_queries.json", "computer_science_non_ai_search_queries.json"):
        for item in json.loads(need(QUERIES / name).read_text()).values():
            q = " ".join(item["search_query"].split())
            if len(q) <= 300:
                out.append(q)
    return out


def template_db(corpus: Path, data: Path, n: int) -> Path:
    """The corpus store with n confirmed subscribers whose last digest was the period before."""
    db = CACHE / f"digest-{n}.db"
    if db.exists():
        return db
    shutil.copy(corpus, db)
    sys.path.insert(0, str(ROOT))
    from dailypapers.config import Settings
    from dailypapers.digest.links import new_secret
    from dailypapers.digest.period import containing
    from dailypapers.store import subscriptions as sub_store
    from dailypapers.store.engine import Store

    store = Store(Settings(database_url=f"sqlite:///{db}", data_dir=data))
    rng = random.Random(7)
    texts = queries()
    cats = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.RO"]
    previous = containing("daily", DAY).previous().covered_until
    with store.session() as session, session.begin():
        ids = []
        for i in range(n):
            kind = rng.random()
            query = rng.choice(texts)
            if kind < 0.4:
                prefs = sub_store.Preferences(trending_count=10)
            elif kind < 0.7:
                prefs = sub_store.Preferences(trending_count=10, topic_query=query)
            else:
                prefs = sub_store.Preferences(trending_count=0, topic_query=query,
                                              topic_categories=(rng.choice(cats),) if rng.random() < 1 / 3 else ())
            sid = sub_store.create_pending(session, f"reader{i:05d}@example.org", prefs, new_secret())
            sub_store.confirm(session, sid, dt.datetime(2026, 6, 1))
            ids.append(sid)
        sub_store.advance(session, ids, previous)
    store.dispose()
    return db


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(template: Path, data: Path, work: Path) -> dict:
    db = work / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, db)
    port, counts = free_port(), work / "server-counts.txt"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(counts)], stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    env = env_for(db, data, DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=off")
    cmd = [sys.executable, "-m", "dailypapers", "digest", "send", "--cadence", "daily", "--period", DAY.isoformat(), "--no-progress"]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    server.terminate()
    server.wait()
    if done.returncode != 0:
        sys.exit(f"digest send failed: {done.stderr}")
    accepted, recipients, most = (int(x) for x in counts.read_text().split())
    summary = done.stdout.strip().splitlines()[0]
    sent = int(summary.split("sent ")[1].split(",")[0])
    if accepted != sent or recipients != sent or most != 1:
        sys.exit(f"the server accepted {accepted} messages for {recipients} addresses (at most {most} each); sent {sent}")
    return {"seconds": seconds, "sent": sent, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    data = CACHE / "digest-data"  # the full-text index lives here, shared by every run's copy
    corpus = corpus_db(data)
    template = template_db(corpus, data, args.subscribers)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            r = one_run(template, data, Path(tmp))
            print(f"run {i + 1}: {r['seconds']:.1f}s, {r['sent'] / r['seconds']:.0f} messages/s; {r['summary']}", flush=True)
            results.append(r)
    secs = median([r["seconds"] for r in results])
    print(f"\n{today()}, {machine()}")
    print("| subscribers | messages sent | skipped | seconds (median) | messages/s | runs |")
    print(f"| {args.subscribers:,} | {results[0]['sent']:,} | {args.subscribers - results[0]['sent']:,} | {secs:.1f} | "
          f"{results[0]['sent'] / secs:.0f} | {len(results)} |")


if __name__ == "__main__":
    main()
