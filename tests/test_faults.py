"""Fault injection: the scaled-out deployment (two web processes, two queue workers and the
scheduler on a PostgreSQL cluster and a Redis server of the suite's own) under a light load of
members voting, commenting, subscribing and reading, while its infrastructure fails the way an
operator meets it: PostgreSQL restarted and stopped for 10 s, Redis stopped while jobs are due, a
web process and a worker SIGKILLed, a web process stopped with SIGTERM, the data folder's disk full.

Each case asserts: no acknowledged write lost, none doubled (stored counts equal their rows), the
site back within a stated time after the fault ends (measured and written to
test-artifacts/faults.json and faults.md), no job run stuck queued or running, and each process's log
of the case bounded and free of tracebacks. The harness is tests/faulthelp.py."""

from __future__ import annotations

import datetime as dt
import signal
import time
from contextlib import contextmanager

import httpx
import psutil
import pytest
from sqlalchemy import func, select

import faulthelp as fh
from dailypapers.store.schema import JobRun, Paper, utcnow
from digesthelp import SMTPServer
from services import fill, private_postgres, private_redis, small_disk, wait_for

pytestmark = [pytest.mark.slow]

PAPERS = 300  # the site's corpus
PER_CASE = 40  # papers each case's load votes and comments on (its own, so cases do not blame each other)
BOUND_S = 5.0  # the site answers again within this long after the database comes back
JOBS_BOUND_S = fh.LEASE + 20.0  # due and interrupted job runs done within this long after the fault ends
LOG_KB = 32  # what one process may log during one case
WARMUP_S = 2.0  # load before the fault

RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not fh.CORPUS.exists():
        pytest.skip(f"test data not found: {fh.CORPUS} (the shared data folder is absent)")
    root = tmp_path_factory.mktemp("faults")
    with private_postgres(root / "pg") as pg, private_redis(root / "redis") as redis, SMTPServer() as smtp:
        db_url = pg.url.replace("postgresql://", "postgresql+psycopg://")
        dep = fh.Deployment(root / "site", db_url, redis.url, smtp.url)
        path, ids = fh.corpus(root, PAPERS)
        from dailypapers.jobs.ingest import ingest_job

        ingest_job(dep.store).run([str(path)])  # creates the schema first
        dep.web("web-a"), dep.web("web-b"), dep.worker("worker-a"), dep.worker("worker-b")
        dep.ensure()
        dep.pg, dep.redis, dep.papers, dep.root_dir = pg, redis, ids, root
        dep.slices = iter(range(0, PAPERS, PER_CASE))
        try:
            yield dep
        finally:
            dep.close()
            fh.save_results(RESULTS)


class Case:
    """One fault under load: `recovery_s` is set by the case; `problems` collects what failed."""

    def __init__(self, name: str, ledger: fh.Ledger, papers: list[str]):
        self.name, self.ledger, self.papers = name, ledger, papers
        self.recovery_s: float | None = None
        self.bound_s = BOUND_S
        self.problems: list[str] = []
        self.extra: dict = {}

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def clean_answers(self, start: float = 0.0, end: float = float("inf"), port: int | None = None) -> None:
        """Every request in the window answered (any status but a 500) or cleanly refused (nobody
        listening): none cut off mid-request, none answered 500."""
        results = self.ledger.results(start, end, port)
        bad = {r: n for r, n in results.items() if r.startswith("5") and r != "503" or r in {e.__name__ for e in fh.DROPPED}}
        self.expect(not bad, f"answers: {bad} among {dict(results)}")


@contextmanager
def case(dep: fh.Deployment, name: str, *, jobs: bool = True, max_kb: float = LOG_KB):
    """Start what is not running, put the load on, let the case inject its fault, then check."""
    if jobs and "scheduler" not in dep.procs:
        dep.scheduler()
    dep.ensure()
    marks = dep.log_marks()
    since = utcnow() - dt.timedelta(seconds=1)
    start = next(dep.slices)
    c = Case(name, fh.Ledger(), dep.papers[start:start + PER_CASE])
    try:
        with fh.Load(lambda: [p.port for p in dep.webs() if p.alive()], c.papers, c.ledger):
            time.sleep(WARMUP_S)
            yield c
            acked = c.ledger.writes()
            try:  # the site takes writes again after the fault
                wait_for(lambda: c.ledger.writes() > acked, 10, "a write acknowledged after the fault", every=0.1)
            except AssertionError as exc:
                c.problems.append(f"{exc}: {dict(c.ledger.results())}")
        c.expect(c.recovery_s is not None and c.recovery_s <= c.bound_s,
                 f"recovery: {c.recovery_s} s (bound {c.bound_s} s)")
        c.problems += fh.lost_or_doubled(dep.store, c.ledger, c.papers)
        if jobs:
            stuck: list[str] = []

            def settled():
                stuck[:] = fh.stuck_runs(dep.store, since)
                return not stuck

            try:
                wait_for(settled, JOBS_BOUND_S, "job runs to settle", every=1.0)
            except AssertionError:
                c.problems += stuck
        logs, sizes = fh.log_problems(dep.logs_since(marks), max_kb)
        c.problems += logs
        if c.problems:
            fh.save_logs(name, dep.logs_since(marks))
    finally:
        RESULTS[name] = {
            "recovery_s": None if c.recovery_s is None else round(c.recovery_s, 3), "bound_s": c.bound_s,
            "writes": c.ledger.writes(), "requests": sum(c.ledger.results().values()),
            "log_kb": locals().get("sizes", {}), "problems": c.problems, **c.extra,
        }
    assert not c.problems, f"{name}:\n" + "\n".join(c.problems)


def site_back(dep: fh.Deployment, since: float) -> float:
    """Seconds from `since` until every web process answers /healthz with 200 again."""
    return max(fh.recovery(f"{p.base}/healthz", since) for p in dep.webs())


def unavailable(dep: fh.Deployment, c: Case) -> None:
    """While the database is away: /healthz and a page answer 503 with Retry-After."""
    for path in ("/healthz", "/papers/" + c.papers[0], "/api/papers/" + c.papers[1]):
        try:
            r = httpx.get(dep.webs()[0].base + path, timeout=5)
            c.expect(r.status_code == 503 and "retry-after" in r.headers,
                     f"outage: {path} answered {r.status_code} (Retry-After: {r.headers.get('retry-after')})")
        except httpx.HTTPError as exc:
            c.problems.append(f"outage: {path}: {type(exc).__name__}")


# --- the cases, in the order they run (the scheduler first starts during the Redis outage) ------


def test_redis_stopped_while_jobs_due(site):
    """Redis goes away; the scheduler starts then (every due job claimed, none can be enqueued)
    and a `jobs enqueue` fails; when Redis is back every due job runs, once, and no claim stays."""
    with case(site, "redis-stopped") as c:
        site.procs["scheduler"].kill_all()  # started by case(): it starts again during the outage
        site.redis.stop()
        site.procs["scheduler"].start()  # its first pass finds today's jobs due
        failed = site.cli("jobs", "enqueue", "index", check=False)
        c.expect(failed.returncode != 0 and "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1,
                 f"jobs enqueue without Redis: exit {failed.returncode}, {failed.stderr[-300:]!r}")
        time.sleep(8)
        site.redis.start()
        back = time.monotonic()
        c.recovery_s = site_back(site, back)
        c.clean_answers()


def test_postgres_restarted(site):
    with case(site, "postgres-restarted") as c:
        site.pg.restart("fast")
        c.recovery_s = site_back(site, time.monotonic())
        c.clean_answers()


def test_postgres_stopped_10s(site):
    with case(site, "postgres-stopped-10s") as c:
        site.pg.stop("fast")
        time.sleep(3)
        unavailable(site, c)
        time.sleep(7)
        site.pg.start()
        c.recovery_s = site_back(site, time.monotonic())
        c.clean_answers()


def test_web_process_killed(site):
    """SIGKILL one web process: the other answers every request meanwhile; the killed one,
    started again, serves within the bound."""
    web_a, web_b = site.procs["web-a"], site.procs["web-b"]
    with case(site, "web-killed") as c:
        killed = time.monotonic()
        web_a.signal(signal.SIGKILL)
        web_a.wait(10)
        c.recovery_s = fh.recovery(f"{web_b.base}/healthz", killed)  # the site, through the other process
        time.sleep(2)
        web_a.start()
        c.extra["restart_s"] = round(fh.recovery(f"{web_a.base}/healthz", time.monotonic(), timeout=60), 3)
        c.clean_answers(killed, port=web_b.port)
        c.expect(c.ledger.results(killed, port=web_b.port)["200"] > 0, "web-b answered nothing after the kill")


def test_worker_killed_during_ingest(site):
    """SIGKILL the worker process ingesting an inbox file: the other worker takes the run over
    once its lease expires, every paper of the file is stored once, and the killed worker's
    death is logged and it is restarted (or its command exits non-zero for its supervisor)."""
    worker_a, worker_b = site.procs["worker-a"], site.procs["worker-b"]
    inbox = site.root / "inbox"
    inbox.mkdir(exist_ok=True)
    extra = 1500
    with case(site, "worker-killed") as c:
        worker_b.signal(signal.SIGTERM)  # so that worker A takes the run
        worker_b.wait(30)
        with site.store.session() as s:
            before = s.execute(select(func.count()).select_from(Paper)).scalar_one()
        fh.corpus(inbox, extra, skip=PAPERS, name="big.jsonl.gz")
        site.cli("jobs", "enqueue", "ingest-inbox")

        def ingesting():
            with site.store.session() as s:
                running = s.execute(select(JobRun.id).where(JobRun.name == "ingest-file", JobRun.status == "running")).first()
                return running and s.execute(select(func.count()).select_from(Paper)).scalar_one() > before

        wait_for(ingesting, 60, "the ingest of the inbox file to start", every=0.1)
        children = psutil.Process(worker_a.pid).children(recursive=True)
        assert children, "worker A has no worker process"
        worker_b.start()
        killed = time.monotonic()
        for child in children:
            child.kill()

        def done():
            with site.store.session() as s:
                return s.execute(select(JobRun.status).where(JobRun.name == "ingest-file")).scalars().all() == ["done"]

        wait_for(done, JOBS_BOUND_S + 30, "the inbox file's run to be taken over and finished", every=0.5)
        c.recovery_s = time.monotonic() - killed
        c.bound_s = JOBS_BOUND_S
        with site.store.session() as s:
            c.expect(s.execute(select(func.count()).select_from(Paper)).scalar_one() == before + extra, "papers of the file missing")
            attempts = s.execute(select(JobRun.attempts).where(JobRun.name == "ingest-file")).scalars().all()
        c.expect(attempts == [2], f"the file's run tried {attempts} times, expected taken over once")
        c.expect((inbox / "done" / "big.jsonl.gz").exists(), "the file was not moved to done/")
        time.sleep(1)
        a_alive = worker_a.alive() and bool(psutil.Process(worker_a.pid).children(recursive=True))
        c.expect(a_alive or worker_a.popen.returncode not in (None, 0),
                 f"worker A after its worker process was killed: alive={worker_a.alive()}, exit {worker_a.popen.returncode}")
        c.expect(str(children[0].pid) in worker_a.log.read_text(errors="replace")[-20000:] or "killed" in worker_a.log.read_text(errors="replace")[-20000:].lower(),
                 "the death of worker A's process is not logged")
        c.clean_answers()


def test_web_sigterm_under_load(site):
    """SIGTERM a web process under load: it ends cleanly within 10 s (exit 0, or the signal
    re-raised after a graceful shutdown, as uvicorn does: supervisors count both as a clean stop),
    and every request sent to it is answered or cleanly refused (none cut off, none a 500)."""
    web_a, web_b = site.procs["web-a"], site.procs["web-b"]
    with case(site, "web-sigterm") as c:
        stopped = time.monotonic()
        web_a.signal(signal.SIGTERM)
        try:
            code = web_a.wait(10)
        except Exception:  # noqa: BLE001 - reported below
            code = None
        c.extra["exit_s"] = round(time.monotonic() - stopped, 3)
        c.expect(code in (0, -signal.SIGTERM), f"web-a exit status after SIGTERM: {code}")
        c.recovery_s = fh.recovery(f"{web_b.base}/healthz", stopped)
        web_a.start()
        c.extra["restart_s"] = round(fh.recovery(f"{web_a.base}/healthz", time.monotonic(), timeout=60), 3)
        c.clean_answers()


def test_data_folder_full(tmp_path):
    """One `serve` on SQLite in a data folder on a small tmpfs, filled to the last byte under
    load: no acknowledged write is lost (a write the disk refused is not acknowledged), no 500,
    and the site writes again within the bound once space is freed."""
    if not fh.CORPUS.exists():
        pytest.skip(f"test data not found: {fh.CORPUS} (the shared data folder is absent)")
    with small_disk(tmp_path / "disk", "48m") as disk, SMTPServer() as smtp:
        dep = fh.Deployment(tmp_path / "site", f"sqlite:///{disk / 'dailypapers.db'}", "", smtp.url)
        path, ids = fh.corpus(tmp_path, PAPERS)
        from dailypapers.jobs.ingest import ingest_job

        ingest_job(dep.store).run([str(path)])
        dep.web("web", data_dir=disk / "data")
        dep.papers, dep.slices = ids, iter([0])
        try:
            with case(dep, "disk-full", jobs=False) as c:
                fill(disk)
                full = time.monotonic()
                time.sleep(5)
                (disk / ".filler").unlink()
                freed = time.monotonic()
                c.recovery_s = fh.recovery(f"{dep.webs()[0].base}/healthz", freed)
                c.extra["answers_while_full"] = dict(c.ledger.results(full, freed))
                c.clean_answers()
        finally:
            dep.close()
            fh.save_results(RESULTS)
