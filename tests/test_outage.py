"""The site while its database is away: a real `dailypapers up` (web server, scheduler and index
follower in one process) on a private PostgreSQL cluster that the test stops, starts and restarts.

Every page and API answer is 503 with Retry-After (never a 500, never a closed connection), the log
says once that the database went away, sums up while it stays away and says when it is back, with
no traceback and a few KB at most; the first request after the database is back succeeds."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from support import DATA, ROOT, make_settings, site_env
from services import free_port, private_postgres, wait_for
from webhelp import csrf_from, make_user

HF_DAY = DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_first3items.json"
PAPER = "2410.17243"
WEB_PROCESSES = 2
PAGES = ["/", f"/papers/{PAPER}", "/api/daily_papers", "/healthz", "/trending", f"/api/papers/{PAPER}"]


class Site:
    def __init__(self, url: str, log: Path, proc: subprocess.Popen, pg):
        self.url, self.log, self.proc, self.pg = url, log, proc, pg

    def log_since(self, offset: int) -> str:
        return self.log.read_bytes()[offset:].decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not HF_DAY.exists():
        pytest.skip(f"test data not found: {HF_DAY}")
    tmp = tmp_path_factory.mktemp("outage")
    # The cluster's folder lies outside pytest's: another pytest session starting on this machine
    # makes /tmp/pytest-of-<user> private again, and PostgreSQL runs as another user when we are root.
    pg_root = Path(tempfile.mkdtemp(prefix="dailypapers-outage-"))
    with private_postgres(pg_root / "pg") as pg:
        settings = make_settings(pg.url, tmp, search_semantic=False)
        from dailypapers.jobs.ingest import ingest_job
        from dailypapers.store.engine import Store

        store = Store(settings)
        ingest_job(store).run([str(HF_DAY)])
        store.dispose()
        make_user(settings)
        port = free_port()
        env = site_env(
            DAILYPAPERS_DATABASE_URL=pg.url,
            DAILYPAPERS_DATA_DIR=str(tmp / "data"),
            DAILYPAPERS_SECRET_KEY="outage-test",
            DAILYPAPERS_DATABASE_OUTAGE_LOG_SECONDS="1",
            PYTHONPATH=str(ROOT),
        )
        log = tmp / "up.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "up", "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", str(WEB_PROCESSES)],
                                    env=env, stdout=out, stderr=out, start_new_session=True)
        url = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return httpx.get(url + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert proc.poll() is None, log.read_text()
                return False

        try:
            wait_for(ready, 60, "the site to answer /healthz")
            yield Site(url, log, proc, pg)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    shutil.rmtree(pg_root, ignore_errors=True)


def signed_in(site: Site) -> tuple[httpx.Client, str]:
    """A client with a session, and a CSRF token (from the paper page's upvote form)."""
    client = httpx.Client(base_url=site.url, timeout=10, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": "alice", "password": "correct horse battery", "csrftoken": token, "next": "/"})
    assert r.status_code == 303, r.text
    return client, csrf_from(client.get(f"/papers/{PAPER}").text)


def test_stopped_database_answers_503_and_logs_three_kinds_of_line(site):
    client, token = signed_in(site)
    anonymous = httpx.Client(base_url=site.url, timeout=10)
    for path in PAGES:
        assert anonymous.get(path).status_code == 200, path
    start = site.log_size()
    site.pg.stop("fast")
    time.sleep(0.3)  # the page cache's last look at the store is older than its quarter second
    try:
        answers = []
        for i in range(200):
            path = PAGES[i % len(PAGES)]
            r = (client if i % 2 else anonymous).get(path)
            answers.append(r)
            assert r.status_code == 503, (path, r.status_code, r.text[:300])
            assert 1 <= int(r.headers["retry-after"]) <= 60, path
            if path == "/healthz":
                assert r.json()["ok"] is False and "database" in r.json()["error"]
            elif path.startswith("/api/"):
                assert r.headers["content-type"].startswith("application/json"), path
                assert set(r.json()) == {"error"} and "database" in r.json()["error"], path
            else:
                assert r.headers["content-type"].startswith("text/html"), path
                assert "try again" in r.text.lower(), path
        r = client.post(f"/papers/{PAPER}/upvote", data={"csrftoken": token})
        assert r.status_code == 503 and "retry-after" in r.headers, r.text[:300]
        r = client.post(f"/api/papers/{PAPER}/upvote", headers={"x-csrftoken": token})
        assert r.status_code == 503 and r.json()["error"], r.text[:300]
        assert anonymous.get("/static/app.css").status_code == 200  # static files are still served
        time.sleep(1.5)  # the index follower and the scheduler meet the outage too; a summary is due
        assert anonymous.get("/").status_code == 503
    finally:
        site.pg.start()
    began = time.monotonic()
    recovered = None
    while time.monotonic() - began < 5:
        r = anonymous.get(f"/papers/{PAPER}")
        if r.status_code == 200:
            recovered = time.monotonic() - began
            break
        time.sleep(0.02)
    assert recovered is not None and recovered < 1.0, recovered
    print(f"database back -> first 200 in {recovered * 1000:.0f} ms")
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200
    wait_for(lambda: "database is back" in site.log_since(start), 5, "the back line")
    time.sleep(1.5)  # the follower's and the scheduler's next passes
    logged = site.log_since(start)
    assert "Traceback" not in logged, logged[:3000]
    assert len(logged) < 4096, logged
    # Each of the two web processes that met the outage says so once, sums up, and says it is back.
    away = len(re.findall(r"WARNING dailypapers.web.outage: database unreachable: ", logged))
    assert 1 <= away <= WEB_PROCESSES, logged
    assert re.search(r"database still unreachable after \d+ s; [\d,]+ requests answered 503", logged), logged
    back = re.findall(r"INFO dailypapers.web.outage: database is back after [\d.]+ s; ([\d,]+) requests? answered 503", logged)
    assert len(back) == away and sum(int(n.replace(",", "")) for n in back) >= 203, logged
    assert site.proc.poll() is None


def test_restart_under_requests_never_answers_500(site):
    start = site.log_size()
    statuses: list[int | str] = []
    stop = threading.Event()

    def load(paths):
        with httpx.Client(base_url=site.url, timeout=10) as c:
            while not stop.is_set():
                for path in paths:
                    try:
                        statuses.append(c.get(path).status_code)
                    except httpx.HTTPError as exc:
                        statuses.append(type(exc).__name__)

    threads = [threading.Thread(target=load, args=(PAGES[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        site.pg.restart("fast")
        time.sleep(0.3)
        site.pg.restart("immediate")  # like a crash: the pooled connections die unannounced
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    bad = [s for s in statuses if s not in (200, 503)]
    assert not bad, f"{len(bad)} bad answers of {len(statuses)}: {sorted(set(map(str, bad)))}"
    with httpx.Client(base_url=site.url, timeout=10) as c:
        assert all(c.get(p).status_code == 200 for p in PAGES)
    logged = site.log_since(start)
    assert "Traceback" not in logged, logged[:3000]
    assert len(logged) < 4096, logged


def test_sqlite_locked_beyond_the_busy_timeout_answers_503(tmp_path, caplog):
    """Another process holding SQLite's write lock longer than the busy timeout: a write answers
    503 with Retry-After and one log line, no traceback; reads go on; the next write succeeds."""
    import sqlite3

    from support import client_for, site_settings
    from webhelp import log_in

    if not HF_DAY.exists():
        pytest.skip(f"test data not found: {HF_DAY}")
    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store.engine import Store

    db = tmp_path / "site.db"
    settings = site_settings(f"sqlite:///{db}", tmp_path, sqlite_busy_timeout=0.2)
    store = Store(settings)
    ingest_job(store).run([str(HF_DAY)])
    store.dispose()
    make_user(settings)
    client = client_for(settings)
    log_in(client)
    token = csrf_from(client.get(f"/papers/{PAPER}").text)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    caplog.clear()
    try:
        for _ in range(3):
            r = client.post(f"/api/papers/{PAPER}/upvote", headers={"x-csrftoken": token, "accept": "application/json"})
            assert r.status_code == 503 and r.headers["retry-after"], r.text
            assert "database" in r.json()["error"]
        assert client.get(f"/papers/{PAPER}").status_code == 200  # readers are not held up
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r = client.post(f"/api/papers/{PAPER}/upvote", headers={"x-csrftoken": token})
    assert r.status_code == 200 and r.json()["upvoted"], r.text
    lines = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(lines) == 1 and "database busy: OperationalError: database is locked" in lines[0].getMessage(), lines
    assert not any(rec.exc_info for rec in caplog.records)
