"""The scaled-out deployment, for real: PostgreSQL, Redis, two web processes and two queue workers.

A few thousand papers of arxiv-daily arrive through the queue (the ingest-inbox job), are indexed
(full text and embeddings) and mailed as digests to a real SMTP server; one worker is SIGKILLed in
the middle of the indexing. Afterwards every paper, embedding and digest must exist exactly once,
and both web processes must find the papers by search."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import os
import signal
import subprocess
import sys
import uuid
from zoneinfo import ZoneInfo

import httpx
import psutil
import pytest
from sqlalchemy import func, select

from support import DATA, MODELS, ROOT, drop_pg_database, pg_database
from dailypapers.config import Settings
from dailypapers.store.engine import Store
from dailypapers.store.schema import DailyEntry, Delivery, Embedding, JobRun, Listing, Paper
from digesthelp import SMTPServer
from helpers import need_redis
import services
from services import free_port

pytestmark = [pytest.mark.slow]

PAPERS, FILES, SUBSCRIBERS = 2000, 4, 30


wait_for = functools.partial(services.wait_for, every=0.5)


@pytest.fixture
def cluster(request, tmp_path):
    need_redis()
    corpus = DATA / "arxiv-daily" / "papers.jsonl.gz"
    if not corpus.exists():
        pytest.skip(f"test data not found: {corpus}")
    admin = request.getfixturevalue("pg_server")
    name = pg_database(admin)
    db_url = admin.url.set(database=name).render_as_string(hide_password=False)
    procs: list[subprocess.Popen] = []
    smtp = SMTPServer().__enter__()
    env = dict(
        os.environ,
        DAILYPAPERS_DATABASE_URL=db_url,
        DAILYPAPERS_QUEUE_URL="redis://127.0.0.1:6379/0",
        DAILYPAPERS_QUEUE_NAMESPACE=f"test-{uuid.uuid4().hex[:8]}",
        DAILYPAPERS_QUEUE_HEARTBEAT_SECONDS="4",
        DAILYPAPERS_JOB_LEASE_SECONDS="12",
        DAILYPAPERS_INDEX_FOLLOW_SECONDS="2",
        DAILYPAPERS_INBOX_DIR=str(tmp_path / "inbox"),
        DAILYPAPERS_MODELS_DIR=str(MODELS),
        DAILYPAPERS_SMTP_URL=smtp.url,
        DAILYPAPERS_SECRET_KEY="cluster-test",
        DAILYPAPERS_ONLINE="0",
        DAILYPAPERS_EMBEDDING_THREADS="1",
        DAILYPAPERS_VENDOR_DIR=str(ROOT / "node_modules"),
    )
    env.pop("DAILYPAPERS_DEBUG", None)

    def start(role: str, *args: str) -> subprocess.Popen:
        proc_env = dict(env, DAILYPAPERS_DATA_DIR=str(tmp_path / role))  # each "host" has its own indexes
        log = open(tmp_path / f"{role}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "dailypapers", *args], env=proc_env, stdout=log, stderr=log,
                                start_new_session=True)
        proc.role = role  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    def cli(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "dailypapers", *args], env=dict(env, DAILYPAPERS_DATA_DIR=str(tmp_path / "cli")),
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("db", "upgrade")
    settings = Settings(database_url=db_url, data_dir=tmp_path / "checks", search_semantic=False)
    store = Store(settings)
    yield {"start": start, "cli": cli, "store": store, "smtp": smtp, "tmp": tmp_path, "env": env, "procs": procs}
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    store.dispose()
    smtp.__exit__(None, None, None)
    drop_pg_database(admin, name)


def count(store, table, *where) -> int:
    with store.session() as session:
        stmt = select(func.count()).select_from(table)
        for cond in where:
            stmt = stmt.where(cond)
        return session.execute(stmt).scalar_one()


def run_status(store, name) -> list[str]:
    with store.session() as session:
        return list(session.execute(select(JobRun.status).where(JobRun.name == name)).scalars())


def test_two_web_two_workers_one_killed(cluster):
    from dailypapers.digest.period import latest_due

    store, cli, start, tmp = cluster["store"], cluster["cli"], cluster["start"], cluster["tmp"]
    # Papers featured on the day the daily digest now covers, so the digests have something to say.
    due = latest_due("daily", dt.datetime.now(dt.UTC), ZoneInfo("UTC"), "08:00", "monday")
    inbox = tmp / "inbox"
    inbox.mkdir()
    titles = []
    with gzip.open(DATA / "arxiv-daily" / "papers.jsonl.gz") as src:
        for n in range(FILES):
            with gzip.open(inbox / f"part{n}.jsonl.gz", "wt") as out:
                for _ in range(PAPERS // FILES):
                    record = json.loads(next(src))
                    record["listed"] = due.start.isoformat()
                    titles.append((record["id"], record["title"]))
                    out.write(json.dumps(record) + "\n")

    # Subscribers, confirmed long ago, with topic alerts that the new papers match.
    from dailypapers.digest.links import new_secret
    from dailypapers.store import subscriptions as sub_store

    with store.session() as session, session.begin():
        for i in range(SUBSCRIBERS):
            prefs = sub_store.Preferences(cadence="daily", trending_count=5, topic_query="images" if i % 2 else "language models")
            sid = sub_store.create_pending(session, f"reader{i}@example.org", prefs, new_secret())
            sub_store.confirm(session, sid, dt.datetime(2024, 1, 1))

    worker_a = start("worker-a", "worker", "--processes", "1", "--threads", "2")
    web = [start(f"web-{x}", "serve", "--workers", "1", "--port", str(port), "--log-level", "warning")
           for x, port in (("a", free_port()), ("b", free_port()))]
    ports = [int(p.args[p.args.index("--port") + 1]) for p in web]

    for _ in range(FILES):  # one run per file: the runs share the inbox, each file taken once
        cli("jobs", "enqueue", "ingest-inbox")
    wait_for(lambda: count(store, Paper) == PAPERS and "running" not in run_status(store, "ingest-file"), 300, "the ingest")
    cli("jobs", "enqueue", "index")
    wait_for(lambda: count(store, Embedding) >= 64, 600, "embedding to start")  # the first batch is stored

    # Worker B joins; worker A dies in the middle of the indexing.
    worker_b = start("worker-b", "worker", "--processes", "1", "--threads", "2")
    assert "running" in run_status(store, "index")
    os.killpg(worker_a.pid, signal.SIGKILL)
    worker_a.wait(10)
    embedded_at_kill = count(store, Embedding)
    assert embedded_at_kill < PAPERS, "the index job finished before the kill; use more papers"
    wait_for(lambda: run_status(store, "index") == ["done"], 900, "worker B to take the index job over and finish it")

    cli("jobs", "enqueue", "digest-daily")
    wait_for(lambda: "done" in run_status(store, "digest-daily"), 300, "the digests")

    # Every paper, embedding, daily entry and digest exactly once.
    assert count(store, Paper) == PAPERS
    assert count(store, Listing) == PAPERS  # the corpus is arXiv listings
    assert count(store, Embedding) == PAPERS  # one vector per paper and model, the killed run resumed
    with store.session() as session:
        runs = session.execute(select(JobRun.attempts).where(JobRun.name == "index")).scalars().all()
    assert runs == [2]  # taken over once
    assert count(store, Delivery, Delivery.kind == "digest", Delivery.status == "sent") == SUBSCRIBERS
    received = cluster["smtp"].handler.count_by_recipient()
    assert len(received) == SUBSCRIBERS and set(received.values()) == {1}

    # Both web processes find a paper by full text and by meaning, each from its own indexes.
    arxiv_id, title = titles[PAPERS // 2]
    for port in ports:
        def found(port=port):
            r = httpx.get(f"http://127.0.0.1:{port}/api/papers/search", params={"q": title, "limit": 5}, timeout=30)
            return r.status_code == 200 and arxiv_id in [i["paper"]["id"] for i in r.json()]

        wait_for(found, 60, f"web process on port {port} to find {arxiv_id}")
        similar = httpx.get(f"http://127.0.0.1:{port}/api/papers/{arxiv_id}/similar", timeout=30).json()
        assert similar and arxiv_id not in [s["id"] for s in similar]

    # Every process that serves requests or runs jobs started with the allocator cap (glibc reads it
    # only at start-up): `serve` started itself again with it, the workers were exec'd with it.
    arenas = os.environ.get("MALLOC_ARENA_MAX", "2")
    for proc in [*web, worker_b]:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert all(p.environ().get("MALLOC_ARENA_MAX") == arenas for p in tree), proc.role
