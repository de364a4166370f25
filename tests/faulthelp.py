"""The harness of the fault-injection suite (tests/test_faults.py): the scaled-out deployment as
real processes (web, workers, scheduler) on a private PostgreSQL and Redis, a light load of members
whose acknowledged writes are kept in a ledger, and the checks every case ends with: no
acknowledged write lost, none doubled, recovery within a bound, no stuck job run, a bounded log."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from support import DATA, MODELS, ROOT, site_env
from dailypapers.config import Settings
from dailypapers.store.engine import Store
from dailypapers.store.schema import Comment, DailyEntry, JobRun, Paper, Subscription, Upvote, User
from services import free_port, wait_for

CORPUS = DATA / "arxiv-daily" / "papers.jsonl.gz"
LEASE = 10  # DAILYPAPERS_JOB_LEASE_SECONDS (its minimum): a dead worker's run is taken over after this
TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')
ARTIFACTS = ROOT / "test-artifacts"


def corpus(folder: Path, count: int, *, skip: int = 0, name: str = "papers.jsonl.gz") -> tuple[Path, list[str]]:
    """`count` papers of arxiv-daily (after the first `skip`) as a gzip file; their arXiv ids."""
    ids = []
    out = folder / name
    with gzip.open(CORPUS) as src, gzip.open(out, "wb", compresslevel=1) as dst:
        for line in itertools.islice(src, skip, skip + count):
            ids.append(json.loads(line)["id"])
            dst.write(line)
    return out, ids


# --- processes -----------------------------------------------------------------------------------


class Proc:
    """One process of the deployment (`dailypapers serve|worker|scheduler`), its output appended to
    its own log file (a restart keeps writing there)."""

    def __init__(self, role: str, args: list[str], env: dict, log: Path, port: int | None = None):
        self.role, self.args, self.env, self.log, self.port = role, args, env, log, port
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Proc":
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen([sys.executable, "-m", "dailypapers", *self.args], env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def kill_all(self) -> None:
        """SIGKILL the process and everything it started."""
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


class Deployment:
    """The site as the scaled-out deployment runs it: web processes (`serve`), queue workers
    (`worker`) and the scheduler (`scheduler`), all on one database and one Redis, each process
    with its own data folder (a host of its own) and log."""

    def __init__(self, root: Path, db_url: str, redis_url: str, smtp_url: str, **extra_env: str):
        self.root = root
        self.db_url = db_url
        root.mkdir(parents=True, exist_ok=True)
        self.env = site_env(
            DAILYPAPERS_DATABASE_URL=db_url,
            DAILYPAPERS_QUEUE_URL=redis_url,
            DAILYPAPERS_QUEUE_NAMESPACE=f"faults-{uuid.uuid4().hex[:8]}",
            DAILYPAPERS_QUEUE_HEARTBEAT_SECONDS="3",
            DAILYPAPERS_JOB_LEASE_SECONDS=str(LEASE),
            DAILYPAPERS_FETCH_POLL_SECONDS="1",
            DAILYPAPERS_INBOX_DIR=str(root / "inbox"),
            DAILYPAPERS_MODELS_DIR=str(MODELS),
            DAILYPAPERS_SMTP_URL=smtp_url,
            DAILYPAPERS_SECRET_KEY="fault-tests",  # semantic search stays off: the model would cost each process a gigabyte
            DAILYPAPERS_EMBEDDING_THREADS="1",
            DAILYPAPERS_RATE_LIMIT_SIGNUP="100000/minute",
            DAILYPAPERS_RATE_LIMIT_LOGIN="100000/minute",
            DAILYPAPERS_RATE_LIMIT_COMMENT="100000/minute",
            DAILYPAPERS_RATE_LIMIT_SUBSCRIBE="100000/minute",
            DAILYPAPERS_RATE_LIMIT_SUBSCRIBE_EMAIL="100000/minute",
            **extra_env,
        )
        if not redis_url:
            self.env.pop("DAILYPAPERS_QUEUE_URL")
        self.env.pop("DAILYPAPERS_BASE_URL", None)
        self.procs: dict[str, Proc] = {}
        self.settings = Settings(database_url=db_url, data_dir=root / "checks", search_semantic=False)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    def _proc(self, role: str, args: list[str], port: int | None = None, data_dir: Path | None = None) -> Proc:
        env = dict(self.env, DAILYPAPERS_DATA_DIR=str(data_dir or self.root / role))
        proc = Proc(role, args, env, self.root / f"{role}.log", port)
        self.procs[role] = proc
        return proc

    def web(self, role: str, port: int | None = None, data_dir: Path | None = None) -> Proc:
        port = port or free_port()
        return self._proc(role, ["serve", "--workers", "1", "--port", str(port), "--log-level", "warning"], port, data_dir)

    def worker(self, role: str) -> Proc:
        return self._proc(role, ["worker", "--processes", "1", "--threads", "2"])

    def scheduler(self, role: str = "scheduler") -> Proc:
        return self._proc(role, ["scheduler", "--tick", "1"])

    def webs(self) -> list[Proc]:
        return [p for p in self.procs.values() if p.port]

    def ensure(self, *roles: str, timeout: float = 60) -> None:
        """Start each of these processes (all when none named) that is not running, and wait until
        every web process answers /healthz with 200."""
        for role in roles or list(self.procs):
            if not self.procs[role].alive():
                self.procs[role].start()
        for proc in self.webs():
            if proc.alive() or proc.role in roles:
                wait_for(proc.ready, timeout, f"{proc.role} to answer /healthz")

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "dailypapers", *args], env=dict(self.env, DAILYPAPERS_DATA_DIR=str(self.root / "cli")),
                                capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if check:
            assert result.returncode == 0, f"dailypapers {' '.join(args)}: {result.stderr}"
        return result

    def log_marks(self) -> dict[str, int]:
        return {role: (p.log.stat().st_size if p.log.exists() else 0) for role, p in self.procs.items()}

    def logs_since(self, marks: dict[str, int]) -> dict[str, bytes]:
        out = {}
        for role, proc in self.procs.items():
            if proc.log.exists():
                with open(proc.log, "rb") as f:
                    f.seek(marks.get(role, 0))
                    out[role] = f.read()
        return out

    def close(self) -> None:
        for proc in self.procs.values():
            proc.kill_all()
        if self._store is not None:
            self._store.dispose()


# --- the load ------------------------------------------------------------------------------------

DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)  # a connection cut mid-request
REFUSED = (httpx.ConnectError, httpx.ConnectTimeout)  # nobody listening: a clean refusal


@dataclass
class Ledger:
    """What the server acknowledged (2xx/3xx), and how every request of the load ended."""

    upvotes: set = field(default_factory=set)  # (username, arxiv id)
    comments: set = field(default_factory=set)  # unique bodies
    subscriptions: set = field(default_factory=set)  # emails
    outcomes: list = field(default_factory=list)  # (monotonic time, port, kind, status or exception name)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def outcome(self, port: int, kind: str, result: str) -> None:
        with self.lock:
            self.outcomes.append((time.monotonic(), port, kind, result))

    def writes(self) -> int:
        return len(self.upvotes) + len(self.comments) + len(self.subscriptions)

    def results(self, start: float = 0.0, end: float = float("inf"), port: int | None = None) -> Counter:
        with self.lock:
            return Counter(r for t, p, _k, r in self.outcomes if start <= t <= end and (port is None or p == port))


class Load:
    """A few members, each on a thread of its own: sign up, then upvote, comment, subscribe an
    address and read pages and the API, spread over the web processes that are up. Every write
    the server acknowledged goes into the ledger; no write is ever retried (a retry of a write that
    did happen would be the client's double, not the server's)."""

    def __init__(self, ports, papers: list[str], ledger: Ledger, members: int = 4, pause: float = 0.03):
        self.ports = ports  # a callable: the ports to spread requests over now
        self.papers = papers
        self.ledger = ledger
        self.pause = pause
        self.tag = uuid.uuid4().hex[:6]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._member, args=(n,), daemon=True) for n in range(members)]

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)

    def _member(self, n: int) -> None:
        rng = random.Random(f"{self.tag}{n}")
        name = f"m{self.tag}{n}"
        client = httpx.Client(timeout=5, follow_redirects=False)
        token = None
        counter = itertools.count()
        papers = list(self.papers)
        rng.shuffle(papers)
        votes = iter(papers)  # each member upvotes each paper at most once: a vote acknowledged stays
        while not self._stop.is_set():
            ports = self.ports()
            if not ports:
                time.sleep(0.05)
                continue
            port = rng.choice(ports)
            base = f"http://127.0.0.1:{port}"
            kind = "read"
            try:
                if token is None:
                    kind = "signup"
                    page = client.get(f"{base}/signup")
                    self.ledger.outcome(port, "read", str(page.status_code))
                    found = TOKEN.search(page.text)
                    if not found:
                        continue
                    r = client.post(f"{base}/signup", data={"username": name, "password": "correct horse battery",
                                                            "csrftoken": found.group(1), "next": "/"})
                    if r.status_code == 400 and "taken" in r.text:  # our earlier try went through unanswered
                        r = client.post(f"{base}/login", data={"username": name, "password": "correct horse battery",
                                                               "csrftoken": found.group(1), "next": "/"})
                    if r.status_code == 303:
                        token = found.group(1)
                    self.ledger.outcome(port, kind, str(r.status_code))
                    continue
                roll = rng.random()
                paper = rng.choice(self.papers)
                if roll < 0.25:
                    kind = "upvote"
                    paper = next(votes, None)
                    if paper is None:
                        continue
                    r = client.post(f"{base}/api/papers/{paper}/upvote", headers={"x-csrftoken": token, "accept": "application/json"})
                    if r.status_code == 200:
                        with self.ledger.lock:
                            self.ledger.upvotes.add((name, paper))
                elif roll < 0.4:
                    kind = "comment"
                    body = f"comment {name} {next(counter)}"
                    r = client.post(f"{base}/papers/{paper}/comments", data={"body": body, "csrftoken": token})
                    if r.status_code == 303:
                        with self.ledger.lock:
                            self.ledger.comments.add(body)
                elif roll < 0.5:
                    kind = "subscribe"
                    email = f"{name}.{next(counter)}@example.org"
                    r = client.post(f"{base}/api/subscriptions", json={"email": email, "cadence": "daily"}, headers={"x-csrftoken": token})
                    if r.status_code == 202:
                        with self.ledger.lock:
                            self.ledger.subscriptions.add(email)
                else:
                    path = rng.choice(["/", f"/papers/{paper}", "/api/papers/search?q=learning&limit=5", f"/api/papers/{paper}", "/trending"])
                    r = client.get(f"{base}{path}")
                self.ledger.outcome(port, kind, str(r.status_code))
            except httpx.HTTPError as exc:
                self.ledger.outcome(port, kind, type(exc).__name__)
                if kind == "signup":
                    client.cookies.clear()
            time.sleep(self.pause)
        client.close()


def recovery(url: str, since: float, timeout: float = 60) -> float:
    """Seconds from `since` (monotonic: the outage's end) to the first successful answer of `url`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - since
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    return float("inf")


# --- the checks ----------------------------------------------------------------------------------


def lost_or_doubled(store: Store, ledger: Ledger, papers: list[str]) -> list[str]:
    """Every acknowledged write in the store once; the stored counts of `papers` (those the load
    wrote to) equal to their rows."""
    problems = []
    with store.session() as session:
        names = {u: n for u, n in session.execute(select(User.id, User.username))}
        ids = {p: a for p, a in session.execute(select(Paper.id, Paper.arxiv_id))}
        votes = {(names.get(u), ids.get(p)) for u, p in session.execute(select(Upvote.user_id, Upvote.paper_id))}
        bodies = Counter(session.execute(select(Comment.body).where(Comment.body.like("comment m%"))).scalars())
        emails = Counter(session.execute(select(Subscription.email).where(Subscription.email.like("m%@example.org"))).scalars())
        counts = session.execute(
            select(Paper.arxiv_id, Paper.upvote_count, Paper.comment_count,
                   select(func.count()).select_from(Upvote).where(Upvote.paper_id == Paper.id).scalar_subquery(),
                   select(func.count()).select_from(Comment)
                   .where(Comment.paper_id == Paper.id, Comment.is_deleted.is_(False)).scalar_subquery())
            .where(Paper.arxiv_id.in_(papers))
        ).all()
        entries = session.execute(
            select(DailyEntry.paper_id, DailyEntry.day, func.count()).group_by(DailyEntry.paper_id, DailyEntry.day)
            .having(func.count() > 1)
        ).all()
        papers = session.execute(select(Paper.arxiv_id, func.count()).group_by(Paper.arxiv_id).having(func.count() > 1)).all()
    with ledger.lock:
        lost = [("upvote", v) for v in ledger.upvotes - votes] + [("comment", b) for b in ledger.comments - set(bodies)]
        lost += [("subscription", e) for e in ledger.subscriptions - set(emails)]
    if lost:
        problems.append(f"lost: {len(lost)} acknowledged writes missing from the store, e.g. {lost[:3]}")
    doubled = [b for b, n in bodies.items() if n > 1] + [e for e, n in emails.items() if n > 1]
    if doubled or entries or papers:
        problems.append(f"doubled: rows stored twice: {doubled[:3]} {entries[:3]} {papers[:3]}")
    drift = [(a, up, cc, nu, nc) for a, up, cc, nu, nc in counts if up != nu or cc != nc]
    if drift:
        problems.append(f"counts: {len(drift)} papers whose stored counts differ from their rows "
                        f"(id, upvotes, comments, upvote rows, comment rows): {drift[:3]}")
    return problems


def stuck_runs(store: Store, since: dt.datetime) -> list[str]:
    """Job runs claimed since `since` that are queued longer than the lease or running with a
    heartbeat older than it; and each scheduled job's run for the current period not done."""
    from dailypapers.jobs.registry import JOBS

    now = dt.datetime.now(dt.UTC)
    naive = now.replace(tzinfo=None)
    stale = naive - dt.timedelta(seconds=LEASE)
    problems = []
    with store.session() as session:
        runs = session.execute(select(JobRun).where(JobRun.created_at >= since)).scalars().all()
        for r in runs:
            if (r.status == "queued" and r.created_at < stale) or (r.status == "running" and (r.heartbeat_at or r.created_at) < stale):
                problems.append(f"stuck: {r.name} ({r.period}) {r.status} since {r.created_at:%H:%M:%S}")
        # a run claimed before the case (and stuck then) is the earlier case's failure, not this one's
        by_key = {(r.name, r.period): (r.status, r.created_at >= since) for r in session.execute(select(JobRun)).scalars()}
    settings = store.settings
    for job in JOBS.values():
        if job.pending is not None:
            continue
        daily_at = getattr(settings, job.setting) if job.setting else None
        # a new every-minute period may have begun an instant ago: its run may still be on its way
        periods = {job.period(t, ZoneInfo(settings.timezone), daily_at) for t in (now, now - dt.timedelta(seconds=5))} - {None}
        found = [by_key[(job.name, p)] for p in periods if (job.name, p) in by_key]
        if periods and not any(status == "done" for status, _ in found) and (not found or any(mine for _, mine in found)):
            problems.append(f"not done: {job.name} ({', '.join(sorted(periods))}): {[status for status, _ in found] or 'never claimed'}")
    return problems


def log_problems(logs: dict[str, bytes], max_kb: float) -> tuple[list[str], dict[str, float]]:
    """Each process's log of the case under `max_kb` KB and without a traceback."""
    problems, sizes = [], {}
    for role, text in logs.items():
        sizes[role] = round(len(text) / 1024, 1)
        if len(text) > max_kb * 1024:
            problems.append(f"log: {role} wrote {len(text) / 1024:.0f} KB (bound {max_kb} KB)")
        tracebacks = text.count(b"Traceback")
        if tracebacks:
            first = text[text.index(b"Traceback"):][:600].decode(errors="replace")
            problems.append(f"log: {role} has {tracebacks} tracebacks; the first: {first!r}")
    return problems, sizes


def save_logs(case: str, logs: dict[str, bytes], keep: int = 200_000) -> None:
    """What each process logged during a case (its first `keep` bytes), for a look after a failure."""
    folder = ARTIFACTS / "fault-logs" / case
    folder.mkdir(parents=True, exist_ok=True)
    for role, text in logs.items():
        (folder / f"{role}.log").write_bytes(text[:keep])


def save_results(results: dict) -> None:
    """The measured recovery times and log volumes, for BENCHMARKS.md."""
    if not results:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "faults.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| case | recovery (s) | bound (s) | acknowledged writes | log KB (largest) | outcome |", "|---|---|---|---|---|---|"]
    for case, r in results.items():
        largest = max(r.get("log_kb", {}).items(), key=lambda kv: kv[1], default=("-", 0))
        lines.append(f"| {case} | {r.get('recovery_s', '-')} | {r.get('bound_s', '-')} | {r.get('writes', '-')} | "
                     f"{largest[1]} ({largest[0]}) | {'ok' if not r.get('problems') else '; '.join(r['problems'])[:200]} |")
    (ARTIFACTS / "faults.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
