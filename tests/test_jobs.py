"""Job scheduling and running: once per period, once per race, taken over from a dead worker."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from dailypapers.jobs import runner
from dailypapers.jobs.registry import JOBS, Job, job
from dailypapers.jobs.scheduler import Scheduler, due
from dailypapers.store import jobruns


@pytest.fixture
def counting_job():
    """A registered job that counts its runs and can be made slow."""
    state = {"runs": 0, "delay": 0.0}

    @job("test-counter", every_minutes=5)
    def counter(store):
        state["runs"] += 1
        time.sleep(state["delay"])
        return f"run {state['runs']}"

    yield state
    JOBS.pop("test-counter", None)


def test_periods():
    tz = ZoneInfo("Europe/Berlin")
    every = Job("x", lambda s: "", every_minutes=15)
    assert every.period(dt.datetime(2026, 11, 27, 10, 44, tzinfo=dt.UTC), tz) == "2026-11-27T11:30"
    daily = Job("y", lambda s: "", daily_at="06:30")
    # Before its time (06:00 in Berlin) the day before is still due: a run missed while everything
    # was down until after midnight is caught up.
    assert daily.period(dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC), tz) == "2026-11-26"
    assert daily.period(dt.datetime(2026, 11, 27, 5, 31, tzinfo=dt.UTC), tz) == "2026-11-27"
    assert daily.due_at("2026-11-27", tz) == dt.datetime(2026, 11, 27, 6, 30, tzinfo=tz)
    assert every.due_at("2026-11-27T11:30", tz) == dt.datetime(2026, 11, 27, 11, 30, tzinfo=tz)


def test_each_period_is_claimed_once_however_many_schedulers(store, counting_job):
    now = dt.datetime.now(dt.UTC)
    claims = [due(store, JOBS["test-counter"], now) for _ in range(5)]
    assert len([c for c in claims if c]) == 1
    schedulers = [Scheduler(store, names=["test-counter"]) for _ in range(3)]
    threads = [threading.Thread(target=s.run_pending) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The period claimed above was never run (claimed by hand); the schedulers found it claimed.
    assert counting_job["runs"] == 0


def test_in_process_jobs_run_side_by_side(store):
    """`dailypapers up` runs due jobs in threads of their own: a job stuck on the network does not
    hold up the digests, and it is not started again while it runs."""
    gate, seen = threading.Event(), []

    @job("test-slow", every_minutes=5)
    def slow(store):
        seen.append("slow")
        gate.wait(60)
        return "slow done"

    @job("test-quick", every_minutes=5)
    def quick(store):
        seen.append("quick")
        return "quick done"

    try:
        scheduler = Scheduler(store, names=["test-slow", "test-quick"])
        started = dict(s.split(":", 1) for s in scheduler.run_pending())
        assert set(started) == {"test-slow", "test-quick"}
        deadline = time.monotonic() + 30
        while jobruns.status(store, "test-quick", started["test-quick"]) != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert jobruns.status(store, "test-quick", started["test-quick"]) == "done"
        assert scheduler.running("test-slow") and jobruns.status(store, "test-slow", started["test-slow"]) == "running"
        assert scheduler.run_pending() == [] and seen.count("slow") == 1
        gate.set()
        scheduler.wait(30)
        assert not scheduler.running("test-slow") and jobruns.status(store, "test-slow", started["test-slow"]) == "done"
    finally:
        gate.set()
        JOBS.pop("test-slow", None)
        JOBS.pop("test-quick", None)


def test_racing_workers_run_a_job_once(store, counting_job):
    counting_job["delay"] = 0.3
    jobruns.claim(store, "test-counter", "p1")
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(runner.execute(store, "test-counter", "p1")[0])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counting_job["runs"] == 1
    assert sorted(outcomes).count(runner.RAN) == 1 and set(outcomes) <= {runner.RAN, runner.BUSY, runner.DONE}
    assert runner.execute(store, "test-counter", "p1")[0] == runner.DONE
    assert jobruns.status(store, "test-counter", "p1") == "done"


def test_a_dead_workers_run_is_taken_over_after_its_lease(settings, counting_job):
    from dailypapers.store.engine import Store

    store = Store(settings.model_copy(update={"job_lease_seconds": 10}))
    jobruns.claim(store, "test-counter", "p2")
    assert jobruns.take(store, "test-counter", "p2", dt.timedelta(seconds=10))  # a worker took it, then died
    assert runner.execute(store, "test-counter", "p2")[0] == runner.BUSY  # its heartbeat is fresh
    from sqlalchemy import update

    from dailypapers.store.schema import JobRun

    with store.session() as session, session.begin():
        session.execute(update(JobRun).where(JobRun.period == "p2").values(heartbeat_at=dt.datetime(2000, 1, 1)))
    outcome, _ = runner.execute(store, "test-counter", "p2")
    assert outcome == runner.RAN and counting_job["runs"] == 1
    with store.session() as session:
        assert session.query(JobRun).filter_by(period="p2").one().attempts == 2
    store.dispose()


def test_a_failed_run_is_recorded_and_can_run_again(store):
    calls = []

    @job("test-flaky", every_minutes=5)
    def flaky(s):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("upstream down")
        return "ok"

    try:
        with pytest.raises(RuntimeError):
            runner.execute(store, "test-flaky", "p3")
        assert jobruns.status(store, "test-flaky", "p3") == "failed"
        assert runner.execute(store, "test-flaky", "p3") == (runner.RAN, "ok")
    finally:
        JOBS.pop("test-flaky", None)


def test_jobs_run_from_the_shell(cli_env):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "run", "cleanup"], env=cli_env, capture_output=True, text=True)
    assert r.returncode == 0 and "expired sessions" in r.stdout
    listed = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "list"], env=cli_env, capture_output=True, text=True)
    assert "cleanup" in listed.stdout and "done" in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "run", "nope"], env=cli_env, capture_output=True, text=True)
    assert bad.returncode == 1 and "no job 'nope'" in bad.stderr


def test_cleanup_removes_long_unconfirmed_subscriptions(store):
    import datetime as dt

    from sqlalchemy import update

    from dailypapers.digest.links import new_secret
    from dailypapers.store import subscriptions as sub_store
    from dailypapers.store.schema import Subscription

    with store.session() as session, session.begin():
        old = sub_store.create_pending(session, "old@example.org", sub_store.Preferences(), new_secret())
        sub_store.create_pending(session, "new@example.org", sub_store.Preferences(), new_secret())
        kept = sub_store.create_pending(session, "kept@example.org", sub_store.Preferences(), new_secret())
        sub_store.confirm(session, kept, dt.datetime(2024, 1, 1))
        session.execute(update(Subscription).where(Subscription.id.in_([old, kept])).values(created_at=dt.datetime(2024, 1, 1)))
    assert "1 unconfirmed subscriptions removed" in JOBS["cleanup"].run(store)
    with store.session() as session:
        assert sorted(s.email for s in session.query(Subscription)) == ["kept@example.org", "new@example.org"]
