"""What the jobs log when the network is down or there is nothing to do: one line per attempt of
an upstream request, never a traceback, and silence from runs that found nothing to do. Each test
runs a real job against an unreachable upstream (a closed port): from the shell, in-process as
`dailypapers up` runs it, and on a queue worker."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid

from support import MODELS, env_for, make_settings
from dailypapers.jobs import runner
from dailypapers.jobs.scheduler import Scheduler
from dailypapers.store import jobruns
from dailypapers.store.engine import Store
from digesthelp import free_port
from helpers import need_redis

RETRIES = 2  # so each run makes three attempts


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/oai"  # bound once, closed: nothing listens there


def upstream_lines(text: str, url: str) -> list[str]:
    return [line for line in text.splitlines() if url in line]


def test_a_job_run_from_the_shell_offline_logs_one_line_per_attempt(settings):
    url = closed_url()
    env = dict(env_for(settings), DAILYPAPERS_ARXIV_OAI_URL=url, DAILYPAPERS_HTTP_RETRIES=str(RETRIES))
    r = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "run", "ingest-arxiv"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = upstream_lines(r.stderr, url)
    assert len(lines) == RETRIES + 1, r.stderr
    assert "could not connect" in lines[-1] and f"gave up after {RETRIES + 1} attempts" in lines[-1]
    assert r.stderr.strip().splitlines() == lines  # nothing else


def _records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("dailypapers")]


def test_in_process_jobs_offline_log_one_line_per_attempt_and_try_again(db_url, tmp_path, caplog):
    """`dailypapers up` runs the harvest in-process: each failed run logs its upstream attempts one
    line each and its failure in one more, and a failed run is tried again after a while (the
    network may be back) instead of waiting for the next day."""
    url = closed_url()
    settings = make_settings(db_url, tmp_path, arxiv_oai_url=url, http_retries=RETRIES, ingest_time="00:00",
                             job_retry_seconds=0.5)
    store = Store(settings)
    caplog.set_level(logging.INFO)
    try:
        scheduler = Scheduler(store, names=["ingest-arxiv"])
        for attempt in (1, 2):
            started = scheduler.run_pending()
            assert len(started) == 1, (attempt, started)
            scheduler.wait(60)
            period = started[0].split(":", 1)[1]
            assert jobruns.status(store, "ingest-arxiv", period) == "failed"
            assert scheduler.run_pending() == []  # not at once: after job_retry_seconds
            time.sleep(0.6)
        records = _records(caplog)
        assert not [r for r in records if r.exc_info], "a traceback was logged"
        assert "Traceback" not in caplog.text
        lines = [r.getMessage() for r in records]
        assert len(lines) == 2 * (RETRIES + 1), lines
        assert sum("retrying in" in line for line in lines) == 2 * RETRIES
        failures = [line for line in lines if "failed" in line]
        assert len(failures) == 2 and all(f"gave up after {RETRIES + 1} attempts" in f for f in failures)
    finally:
        store.dispose()


def test_jobs_with_nothing_to_do_log_nothing(settings, caplog):
    """An idle site logs no line a minute saying that nothing happened: the inbox job, the index
    job and the digest retries record their runs, quietly."""
    store = Store(settings.model_copy(update={"search_semantic": False}))
    caplog.set_level(logging.INFO)
    try:
        for name in ("ingest-inbox", "index", "digest-retry"):
            outcome, summary = runner.execute(store, name, f"quiet-{name}")
            assert outcome == runner.RAN and summary
            assert jobruns.status(store, name, f"quiet-{name}") == "done"
        assert [r.getMessage() for r in _records(caplog) if r.levelno >= logging.INFO] == []
        assert "inbox empty" in [r["detail"] for r in jobruns.recent(store, 5)]
    finally:
        store.dispose()


def test_a_queue_worker_offline_logs_one_line_per_attempt(sqlite_url, tmp_path):
    """On a `dailypapers worker`, the queue retries a failed harvest: every attempt logs its
    upstream attempts and its failure, one line each, and neither our code nor Dramatiq prints a
    traceback."""
    need_redis()
    url = closed_url()
    settings = make_settings(sqlite_url, tmp_path)
    env = dict(env_for(settings), DAILYPAPERS_ARXIV_OAI_URL=url, DAILYPAPERS_HTTP_RETRIES=str(RETRIES),
               DAILYPAPERS_QUEUE_URL="redis://127.0.0.1:6379/0", DAILYPAPERS_QUEUE_NAMESPACE=f"test-{uuid.uuid4().hex[:8]}",
               DAILYPAPERS_MODELS_DIR=str(MODELS))
    dp = [sys.executable, "-m", "dailypapers"]
    assert subprocess.run([*dp, "db", "upgrade"], env=env, capture_output=True, timeout=120).returncode == 0
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([*dp, "worker", "--processes", "1", "--threads", "1"], env=env, stdout=out, stderr=out,
                                  start_new_session=True)
    store = Store(settings)
    try:
        queued = subprocess.run([*dp, "jobs", "enqueue", "ingest-arxiv"], env=env, capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stderr
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = [r for r in jobruns.recent(store, 5) if r["name"] == "ingest-arxiv"]
            if runs and runs[0]["attempts"] >= 2 and runs[0]["status"] == "failed":
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the worker did not try twice:\n{log.read_text()}")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        store.dispose()
    attempts = runs[0]["attempts"]
    text = log.read_text()
    assert "Traceback" not in text, text
    lines = upstream_lines(text, url)
    # Each attempt of the job: RETRIES retry lines and one failure line (a third run may have begun).
    failures = [line for line in lines if "failed" in line]
    assert attempts <= len(failures) <= attempts + 1, text
    assert len(lines) - len(failures) in range(len(failures) * RETRIES, (len(failures) + 1) * RETRIES + 1), text
    assert not [line for line in text.splitlines() if "Retrying message" in line or "unhandled exception" in line], text
    # The worker serves nothing, so the address its digests would link to is only a guess: it says so.
    assert "warning: DAILYPAPERS_BASE_URL is not set: digests sent from here link to http://127.0.0.1:8000" in text


def test_an_unreachable_database_is_said_once_not_every_pass(pg_server, tmp_path, caplog):
    """The scheduler of `up` and each web process's index follower try again every few seconds
    while the database is unreachable: one line when it starts failing, none at every pass."""
    from support import drop_pg_database, pg_database
    from dailypapers.index.follow import IndexFollower

    name = pg_database(pg_server)
    store = Store(make_settings(pg_server.url.set(database=name).render_as_string(hide_password=False), tmp_path))
    drop_pg_database(pg_server, name)  # the database goes away under the running site
    caplog.set_level(logging.INFO)
    scheduler = Scheduler(store, tick=0.05, poll=0.05).start()
    follower = IndexFollower(store, 0.05).start()
    time.sleep(1.5)
    scheduler.stop()
    follower.stop()
    records = _records(caplog)
    assert not [r for r in records if r.exc_info] and "Traceback" not in caplog.text
    said = [r.getMessage() for r in records]
    assert len([m for m in said if m.startswith("scheduler pass failed")]) == 1, said
    assert len([m for m in said if m.startswith("index follower pass failed")]) == 1, said
    assert f'database "{name}" does not exist' in said[0]
    store.dispose()
