"""`dailypapers worker` survives the death of one of its processes, and stops cleanly on SIGTERM.

A real `dailypapers worker --processes 2` on the real Redis (its own queue namespace) and a SQLite
store: one worker process is SIGKILLed (as the out-of-memory killer would); the worker logs it in
one line and starts a new process while the other keeps running, and a job enqueued afterwards
runs. SIGTERM to the worker then stops every process and it exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import psutil
import pytest
from sqlalchemy import select

from support import ROOT
from dailypapers.config import Settings
from dailypapers.store.engine import Store
from dailypapers.store.schema import JobRun
from helpers import need_redis
from services import wait_for


@pytest.fixture
def worker_env(tmp_path):
    redis = need_redis()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        DAILYPAPERS_DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite'}",
        DAILYPAPERS_DATA_DIR=str(tmp_path / "data"),
        DAILYPAPERS_QUEUE_URL=redis,
        DAILYPAPERS_QUEUE_NAMESPACE=f"test-{uuid.uuid4().hex[:8]}",
        DAILYPAPERS_QUEUE_HEARTBEAT_SECONDS="4",
        DAILYPAPERS_BASE_URL="http://papers.test",
        DAILYPAPERS_SEARCH_SEMANTIC="0",
        DAILYPAPERS_ONLINE="0",
    )
    env.pop("DAILYPAPERS_DEBUG", None)
    return env


def children(proc: subprocess.Popen) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(proc.pid).children()}
    except psutil.NoSuchProcess:
        return set()


def run_status(store: Store, name: str) -> list[str]:
    with store.session() as session:
        return list(session.execute(select(JobRun.status).where(JobRun.name == name)).scalars())


def test_killed_process_is_logged_and_replaced_then_sigterm_stops_all(worker_env, tmp_path):
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "dailypapers", "worker", "--processes", "2", "--threads", "1"],
                                  env=worker_env, stdout=log, stderr=log, start_new_session=True)
    store = Store(Settings(database_url=worker_env["DAILYPAPERS_DATABASE_URL"], data_dir=tmp_path / "checks"))
    try:
        first = wait_for(lambda: len(kids := children(worker)) == 2 and kids, 60, "two worker processes")
        victim, other = sorted(first)
        os.kill(victim, signal.SIGKILL)

        new = wait_for(lambda: (kids := children(worker) - first) or None, 30, "a new worker process")
        assert worker.poll() is None, log_path.read_text()
        assert other in children(worker)  # the other process kept running
        lines = [line for line in log_path.read_text().splitlines() if str(victim) in line and "SIGKILL" in line]
        assert len(lines) == 1, log_path.read_text()
        assert "worker process" in lines[0] and "Traceback" not in log_path.read_text()

        # Both processes take jobs: jobs enqueued now all run (one of them at least on the new process).
        subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "enqueue", "cleanup"], env=worker_env, check=True,
                       capture_output=True, timeout=60)
        wait_for(lambda: run_status(store, "cleanup") == ["done"], 60, "the cleanup job to run")
        assert children(worker) == new | {other}

        every = {p.pid for p in psutil.Process(worker.pid).children(recursive=True)}
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log_path.read_text()
        assert not [pid for pid in every if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        store.dispose()


def test_crash_loop_gives_up_and_stops_the_others(caplog):
    """A process that dies right after every start is started again after doubling pauses; after
    a few such deaths in a row the supervisor stops the healthy ones and exits non-zero, for its
    service manager to take over."""
    from dailypapers.jobs import supervise

    survivors = []

    def command(number: int) -> list[str]:
        if number == 1:
            return [sys.executable, "-c", "import sys; sys.exit(3)"]
        return [sys.executable, "-c", "import time; time.sleep(120)"]

    supervisor = supervise.Supervisor(2, command, stop_timeout=5, first_pause=0.01)
    original_start = supervisor._start

    def start(slot):
        original_start(slot)
        if slot.number == 2:
            survivors.append(slot.proc)

    supervisor._start = start
    with caplog.at_level("INFO", logger="dailypapers.worker"):
        assert supervisor.run() == 1
    deaths = [r.getMessage() for r in caplog.records if "exited with status 3" in r.getMessage()]
    assert len(deaths) == supervise.GIVE_UP
    assert "giving up" in deaths[-1] and "starting it again" in deaths[0]
    assert len(survivors) == 1 and survivors[0].poll() is not None  # the healthy one was stopped, once started
