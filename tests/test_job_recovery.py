"""No job run stays queued or running for good, and runs of a job never overlap (issue 12).

Outages are made with a Redis server of the test's own (tests/services.py), never the machine's;
the workers are real `dramatiq dailypapers.jobs.queue` processes, as `dailypapers worker` runs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from support import env_for, make_settings
from dailypapers.jobs import runner
from dailypapers.jobs.registry import JOBS, job
from dailypapers.jobs.scheduler import Scheduler, due
from dailypapers.store import jobruns
from dailypapers.store.engine import Store
from dailypapers.store.schema import JobRun
from services import private_redis, wait_for

LONG_AGO = dt.datetime(2000, 1, 1)


def age(store, name: str, period: str, **values) -> None:
    """Make a run look old: claimed (and last seen, or beating) long ago."""
    values = values or {"created_at": LONG_AGO}
    with store.session() as session, session.begin():
        session.execute(update(JobRun).where(JobRun.name == name, JobRun.period == period).values(**values))


def rows(store, name: str) -> list[dict]:
    with store.session() as session:
        return [dict(r) for r in session.execute(select(JobRun.__table__).where(JobRun.name == name)).mappings()]


@pytest.fixture
def queue_site(sqlite_url, tmp_path):
    """A store, a private Redis, and a way to start real queue workers on them."""
    with private_redis(tmp_path / "redis") as redis_server:
        settings = make_settings(sqlite_url, tmp_path, queue_url=redis_server.url, queue_namespace=f"t{uuid.uuid4().hex[:8]}")
        store = Store(settings)  # creates the schema
        env = dict(env_for(settings), DAILYPAPERS_QUEUE_URL=settings.queue_url, DAILYPAPERS_QUEUE_NAMESPACE=settings.queue_namespace)
        workers: list[subprocess.Popen] = []

        def worker(log_name: str = "worker.log") -> subprocess.Popen:
            out = open(tmp_path / log_name, "wb")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen([sys.executable, "-m", "dramatiq", "dailypapers.jobs.queue", "--processes", "1",
                                     "--threads", "2", "--queues", "dailypapers"], env=env, stdout=out, stderr=out,
                                    start_new_session=True)
            workers.append(proc)
            return proc

        from dailypapers.jobs.queue import enqueuer

        try:
            yield {"store": store, "redis": redis_server, "settings": settings, "env": env, "worker": worker,
                   "send": enqueuer(settings), "tmp": tmp_path}
        finally:
            for proc in workers:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(30)
            store.dispose()


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushall()


def test_lost_messages_and_dead_runs_are_handed_over_again_and_run_once(queue_site):
    store, send = queue_site["store"], queue_site["send"]
    scheduler = Scheduler(store, names=["cleanup"], enqueue=send)
    (started,) = scheduler.run_pending()
    period = started.split(":", 1)[1]
    _redis_flush(queue_site["redis"].url)  # Redis lost the message (a restart without persistence)
    # A run whose worker died while the database was away: its end was never recorded, its
    # message is gone too.
    jobruns.claim(store, "cleanup", "manual:dead")
    assert jobruns.take(store, "cleanup", "manual:dead", dt.timedelta(seconds=120))
    age(store, "cleanup", "manual:dead", heartbeat_at=LONG_AGO)

    assert scheduler.take_over_stuck() == ["cleanup:manual:dead"]  # the dead run at once
    assert scheduler.take_over_stuck() == []  # the lost claim only after the claim expiry
    age(store, "cleanup", period)
    assert scheduler.take_over_stuck() == [f"cleanup:{period}"]
    assert scheduler.run_pending() == []  # handed over once, not at every pass

    queue_site["worker"]()
    wait_for(lambda: {r["status"] for r in rows(store, "cleanup")} == {"done"}, 60, "the worker to run both")
    attempts = {r["period"]: r["attempts"] for r in rows(store, "cleanup")}
    assert attempts == {period: 1, "manual:dead": 2}
    assert jobruns.stuck(store, dt.timedelta(seconds=900), dt.timedelta(seconds=120)) == []


def test_in_process_scheduler_runs_stuck_runs_itself(store):
    runs = []

    @job("test-stuck", every_minutes=5)
    def stuck_job(s):
        runs.append(1)
        return "ran"

    try:
        jobruns.claim(store, "test-stuck", "old")  # claimed by an `up` killed before it started the run
        age(store, "test-stuck", "old")
        scheduler = Scheduler(store, names=["test-stuck"])
        assert scheduler.run_pending() == ["test-stuck:old"]  # and the current period once that has run
        scheduler.wait(30)
        assert jobruns.status(store, "test-stuck", "old") == "done" and runs == [1]
    finally:
        JOBS.pop("test-stuck", None)


def test_enqueue_with_the_queue_down_leaves_no_claim(queue_site):
    store, redis_server = queue_site["store"], queue_site["redis"]
    redis_server.stop()
    r = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "enqueue", "cleanup"], env=queue_site["env"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "the job queue is unreachable" in r.stderr and "nothing was queued" in r.stderr, r.stderr
    assert rows(store, "cleanup") == []
    scheduler = Scheduler(store, names=["cleanup"], enqueue=queue_site["send"])
    from dailypapers.jobs.queue import QueueUnavailable

    with pytest.raises(QueueUnavailable):  # the scheduler's loop logs it once until it changes
        scheduler.run_pending()
    assert rows(store, "cleanup") == []


def test_a_digest_due_during_a_queue_outage_runs_once_when_it_is_back(queue_site):
    store, redis_server, send = queue_site["store"], queue_site["redis"], queue_site["send"]
    # Whenever this runs, digest-daily has a period due: today's once its time has come, else yesterday's.
    scheduler = Scheduler(store, names=["digest-daily"], enqueue=send)
    redis_server.stop()
    from dailypapers.jobs.queue import QueueUnavailable

    for _ in range(3):  # passes during the outage
        with pytest.raises(QueueUnavailable):
            scheduler.run_pending()
    assert rows(store, "digest-daily") == []
    redis_server.start()  # back, empty
    (started,) = wait_for(lambda: _passes(scheduler), 30, "a pass to work again")
    assert scheduler.run_pending() == []
    queue_site["worker"]()
    wait_for(lambda: [r["status"] for r in rows(store, "digest-daily")] == ["done"], 60, "the digest run")
    assert [(r["period"], r["attempts"]) for r in rows(store, "digest-daily")] == [(started.split(":", 1)[1], 1)]


def _passes(scheduler):
    try:
        return scheduler.run_pending()
    except Exception:  # noqa: BLE001 - Redis still starting
        return None


def test_a_daily_run_missed_until_after_midnight_is_caught_up_once(store):
    tz = ZoneInfo(store.settings.timezone)
    missed = dt.datetime(2026, 11, 27, 2, 0, tzinfo=tz)  # back at 02:00; the 06:30 harvest of the 26th never ran
    assert due(store, JOBS["ingest-arxiv"], missed) == "2026-11-26"
    assert due(store, JOBS["ingest-arxiv"], missed + dt.timedelta(hours=1)) is None  # once
    assert due(store, JOBS["ingest-arxiv"], dt.datetime(2026, 11, 27, 6, 31, tzinfo=tz)) == "2026-11-27"


@pytest.fixture
def exclusive_jobs():
    """Two slow jobs that record how many of their runs go on at once: one exclusive (every job
    but ingest-inbox), one marked concurrent."""
    state = {"now": 0, "most": 0, "runs": 0, "concurrent_now": 0, "concurrent_most": 0}
    lock = threading.Lock()

    def body(prefix):
        def run(store):
            with lock:
                state[f"{prefix}now"] += 1
                state[f"{prefix}most"] = max(state[f"{prefix}most"], state[f"{prefix}now"])
                state["runs"] += not prefix
            time.sleep(0.4)
            with lock:
                state[f"{prefix}now"] -= 1
            return "ran"

        return run

    job("test-exclusive", every_minutes=5)(body(""))
    job("test-concurrent", every_minutes=5, concurrent=True)(body("concurrent_"))
    yield state
    JOBS.pop("test-exclusive", None)
    JOBS.pop("test-concurrent", None)


def test_runs_of_one_job_never_overlap(store, exclusive_jobs):
    outcomes: dict[str, str] = {}
    periods = [f"p{i}" for i in range(4)]

    def go(name, period):
        outcomes[f"{name}:{period}"] = runner.execute(store, name, period)[0]

    threads = [threading.Thread(target=go, args=(name, p)) for p in periods for name in ("test-exclusive", "test-concurrent")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exclusive = [outcomes[f"test-exclusive:{p}"] for p in periods]
    assert exclusive.count(runner.RAN) == 1 and exclusive.count(runner.BUSY) == 3, exclusive
    assert exclusive_jobs["most"] == 1
    assert exclusive_jobs["concurrent_most"] > 1  # ingest-inbox's kind: its runs share the work
    waiting = [p for p in periods if outcomes[f"test-exclusive:{p}"] == runner.BUSY]
    assert all(jobruns.status(store, "test-exclusive", p) == "queued" for p in waiting)  # retried later, not lost
    for p in waiting:
        assert runner.execute(store, "test-exclusive", p)[0] == runner.RAN
    assert exclusive_jobs["runs"] == 4


def test_a_second_index_run_waits_for_the_first(store):
    lease = dt.timedelta(seconds=store.settings.job_lease_seconds)
    jobruns.claim(store, "index", "2026-11-27T10:00")
    assert jobruns.take(store, "index", "2026-11-27T10:00", lease, exclusive=True)  # a long run embeds
    outcome, summary = runner.execute(store, "index", "2026-11-27T10:05")
    assert outcome == runner.BUSY and "another run of the job is in progress (2026-11-27T10:00" in summary
    assert jobruns.status(store, "index", "2026-11-27T10:05") == "queued"
    age(store, "index", "2026-11-27T10:00", heartbeat_at=LONG_AGO)  # its worker died: the next one may start
    assert jobruns.take(store, "index", "2026-11-27T10:05", lease, exclusive=True)


def test_jobs_run_from_the_shell_says_another_run_is_in_progress(store, cli_env):
    lease = dt.timedelta(seconds=store.settings.job_lease_seconds)
    jobruns.claim(store, "cleanup", "2026-11-27")
    assert jobruns.take(store, "cleanup", "2026-11-27", lease)
    r = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "run", "cleanup"], env=cli_env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("error: not started: cleanup (manual:") and r.stderr.count("\n") == 1, r.stderr
    assert "another run of the job is in progress (2026-11-27" in r.stderr
    assert [r["period"] for r in rows(store, "cleanup")] == ["2026-11-27"]  # no claim left behind


def test_jobs_list_shows_late_and_stuck(settings, tmp_path):
    now = dt.datetime.now(dt.UTC)
    two_hours_ago = (now - dt.timedelta(hours=2)).strftime("%H:%M")
    store = Store(settings.model_copy(update={"digest_time": two_hours_ago}))
    env = dict(env_for(settings), DAILYPAPERS_DIGEST_TIME=two_hours_ago, DAILYPAPERS_TIMEZONE="UTC")
    try:
        lease = dt.timedelta(seconds=120)
        jobruns.claim(store, "index", "2026-11-27T10:05")
        jobruns.take(store, "index", "2026-11-27T10:05", lease)
        age(store, "index", "2026-11-27T10:05", heartbeat_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20))
        jobruns.claim(store, "ingest-arxiv", "manual:lost")
        age(store, "ingest-arxiv", "manual:lost", created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1))
        runner.execute(store, "cleanup", "manual:now")
        runner.execute(store, "digest-weekly", "manual:now")
        dp = [sys.executable, "-m", "dailypapers", "jobs", "list"]
        listed = subprocess.run([*dp, "--check"], env=env, capture_output=True, text=True, timeout=120)
        plain = subprocess.run(dp, env=env, capture_output=True, text=True, timeout=120)
    finally:
        store.dispose()
    assert listed.returncode == 1 and plain.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    marks = {line.split()[0]: line for line in lines if line.strip() and line.split()[0] in JOBS}
    assert "STUCK" in marks["index"] and "STUCK" in marks["ingest-arxiv"]
    assert "LATE" in marks["digest-daily"] and "LATE" not in marks["digest-weekly"] and "LATE" not in marks["cleanup"]
    assert "done" in marks["cleanup"] and "running" in marks["index"]
    assert any(line.startswith("stuck: index (2026-11-27T10:05): running, heartbeat 20 min old") for line in lines), lines
    assert any(line.startswith("stuck: ingest-arxiv (manual:lost): queued 1 h 0 min ago") for line in lines), lines
    assert any(line.startswith("late: digest-daily: its run of") for line in lines), lines
    late = sum(line.startswith("late: ") for line in lines)
    assert lines[-1] == f"jobs: {late} late, 2 stuck"


def test_busy_is_one_info_line_on_a_worker(queue_site):
    """Expected contention: a message for a run another worker holds, and one for another period of a
    job that is running, wait without an error or a traceback, one INFO line per try."""
    store, send = queue_site["store"], queue_site["send"]
    lease = dt.timedelta(seconds=120)
    jobruns.claim(store, "cleanup", "p1")
    assert jobruns.take(store, "cleanup", "p1", lease)  # held by a live worker elsewhere
    send("cleanup", "p1")  # a redelivered message of that run
    send("cleanup", "p2")  # the next period
    log = queue_site["tmp"] / "worker.log"
    queue_site["worker"]()

    def busy_lines():
        text = log.read_text()
        return [line for line in text.splitlines() if "retried later" in line]

    found = wait_for(lambda: len(busy_lines()) >= 2 and busy_lines(), 60, "both messages to find their run busy")
    text = log.read_text()
    assert "ERROR" not in text and "Traceback" not in text, text
    assert all("[INFO]" in line for line in found), found
    assert any("job cleanup (p1) is running elsewhere; retried later" in line for line in found), found
    assert any("job cleanup (p2) waits: another run of the job is in progress (p1, started" in line for line in found), found
    assert jobruns.status(store, "cleanup", "p2") == "queued"
    jobruns.finished(store, "cleanup", "p1", "done", "by the other worker")  # now p2 may start
    wait_for(lambda: jobruns.status(store, "cleanup", "p2") == "done", 60, "the waiting run to run")


def test_a_message_redis_lost_is_sent_again_before_its_claim_expires(queue_site, monkeypatch):
    """Redis restarted without its memory: the scheduler sees the queue no longer holds a queued
    run's message and hands it over again at once (not after job_claim_seconds), once."""
    from dailypapers.jobs import scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "LOST_CHECK_SECONDS", 0.3)
    store = queue_site["store"]
    scheduler = Scheduler(store, names=["cleanup"], enqueue=queue_site["send"])
    (started,) = scheduler.run_pending()
    period = started.split(":", 1)[1]
    time.sleep(0.4)
    assert scheduler.resend_lost() == []  # the queue holds its message
    _redis_flush(queue_site["redis"].url)
    time.sleep(0.4)
    assert scheduler.resend_lost() == [f"cleanup:{period}"]
    time.sleep(0.4)
    assert scheduler.resend_lost() == []  # held again: sent once
    queue_site["worker"]()
    wait_for(lambda: jobruns.status(store, "cleanup", period) == "done", 60, "the worker to run it")
    assert [r["attempts"] for r in rows(store, "cleanup")] == [1]


def test_a_queue_outage_is_logged_once_by_a_worker(queue_site):
    """Dramatiq's consumers log a CRITICAL line and a restart line every 3 s while Redis is away;
    the worker says it once, and once when work goes on."""
    store, redis_server = queue_site["store"], queue_site["redis"]
    log = queue_site["tmp"] / "worker.log"
    queue_site["worker"]()
    queue_site["send"]("cleanup", "before")
    jobruns.claim(store, "cleanup", "before")
    wait_for(lambda: jobruns.status(store, "cleanup", "before") == "done", 60, "a first run")
    redis_server.stop()
    time.sleep(10)  # three or four restarts of each consumer
    redis_server.start()
    jobruns.claim(store, "cleanup", "after")
    wait_for(lambda: _try_send(queue_site["send"], "cleanup", "after"), 20, "Redis to take a message")
    wait_for(lambda: jobruns.status(store, "cleanup", "after") == "done", 60, "a run after the outage")
    wait_for(lambda: "reachable again" in log.read_text(), 10, "the line saying the queue is back")
    text = log.read_text()
    assert text.count("the job queue is unreachable") == 1, text
    assert "CRITICAL" not in text and "Restarting consumer" not in text and "Traceback" not in text, text


def _try_send(send, name: str, period: str) -> bool:
    from dailypapers.jobs.queue import QueueUnavailable

    try:
        send(name, period)
    except QueueUnavailable:
        return False
    return True
