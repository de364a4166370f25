"""Stored counts (papers.upvote_count, papers.comment_count) equal their rows under concurrency:
members voting, unvoting and commenting on one paper at the same instant through the web app on a
real socket, on SQLite and PostgreSQL. And `dailypapers db check [--repair]` for stores whose
counts drifted under older versions."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from support import DATA, env_for, need_data, site_settings
from dailypapers.store import integrity
from dailypapers.store import papers as paper_store
from dailypapers.store import users as user_store
from dailypapers.store.engine import Store
from dailypapers.web.security import hash_password
from webhelp import live_server, log_in, token_of

PAPER = "2410.17243"  # 64 upvotes imported from Hugging Face
IMPORTED = 64
MEMBERS = 50
PASSWORD = "correct horse battery"


def make_site(db_url: str, tmp_path, members: int):
    """One HF day's papers (three), and members sharing one password hash (hashing is slow)."""
    from dailypapers.jobs.ingest import ingest_job

    need_data("fixtures", "hf-api")
    # Every member logs in from 127.0.0.1 within the minute.
    settings = site_settings(db_url, tmp_path, rate_limit_login="1000/minute")
    store = Store(settings)
    ingest_job(store).run([str(DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_first3items.json")])
    hashed = hash_password(PASSWORD)
    with store.session() as session, session.begin():
        for i in range(members):
            user_store.create(session, f"member{i:02d}", hashed)
    store.dispose()
    return settings


@pytest.fixture
def site(db_url, tmp_path):
    return make_site(db_url, tmp_path, MEMBERS)


def all_at_once(calls: list) -> list:
    """Run the calls in as many threads, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class Member:
    """A browser of one member: its own cookies (login session, CSRF cookie) and token."""

    def __init__(self, base: str, name: str):
        # No keep-alive: a connection idle while the others log in may be closed by the server
        # just as it is reused, which is not what this test is about.
        self.http = httpx.Client(
            base_url=base, follow_redirects=False, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        )
        log_in(self.http, name, PASSWORD)
        self.token = token_of(self.http, "/")

    def vote(self, up: bool) -> httpx.Response:
        path = f"/papers/{PAPER}/{'upvote' if up else 'unvote'}"
        return self.http.post(path, headers={"x-csrftoken": self.token, "accept": "application/json"})

    def comment(self, body: str) -> httpx.Response:
        return self.http.post(f"/papers/{PAPER}/comments", data={"body": body, "csrftoken": self.token})


@pytest.fixture
def members(site):
    with live_server(site) as base:
        # A few log-ins at a time: each verifies an Argon2 hash (64 MiB, a CPU for a while).
        with ThreadPoolExecutor(4) as pool:
            browsers = list(pool.map(lambda i: Member(base, f"member{i:02d}"), range(MEMBERS)))
        yield browsers
        for b in browsers:
            b.http.close()


def stored(settings) -> dict:
    """The paper's stored counts and its rows, as the store has them now."""
    store = Store(settings)
    with store.session() as session:
        paper = paper_store.get(session, PAPER)
        rows = integrity.rows_of(session, paper.id)
    store.dispose()
    return {"upvote_count": paper.upvote_count, "comment_count": paper.comment_count, **rows}


def votes_at_once(members: list[Member], ups: list[bool]) -> list[httpx.Response]:
    answers = all_at_once([lambda m=m, up=up: m.vote(up) for m, up in zip(members, ups, strict=True)])
    assert [r.status_code for r in answers] == [200] * len(answers), [r.text[:200] for r in answers if r.status_code != 200]
    return answers


def test_fifty_members_vote_unvote_and_comment_at_once(site, members):
    answers = votes_at_once(members, [True] * MEMBERS)
    assert stored(site) == {"upvote_count": MEMBERS, "upvotes": MEMBERS, "comment_count": 0, "comments": 0}
    # Each answer counts at least its own vote; the last to commit saw them all.
    assert all(IMPORTED < r.json()["upvotes"] <= IMPORTED + MEMBERS for r in answers)
    assert max(r.json()["upvotes"] for r in answers) == IMPORTED + MEMBERS

    # A second upvote by every member, all at once, changes nothing.
    answers = votes_at_once(members, [True] * MEMBERS)
    assert {r.json()["upvotes"] for r in answers} == {IMPORTED + MEMBERS}
    assert stored(site)["upvote_count"] == MEMBERS

    answers = votes_at_once(members, [False] * MEMBERS)
    assert stored(site) == {"upvote_count": 0, "upvotes": 0, "comment_count": 0, "comments": 0}
    assert min(r.json()["upvotes"] for r in answers) == IMPORTED

    # Mixed: the even members had voted and withdraw, the odd ones vote; each sends its request
    # twice at once (a double click), so the same member's requests race each other too.
    for m in members[::2]:
        m.vote(True)
    ups = [i % 2 == 1 for i in range(MEMBERS)]
    votes_at_once(members + members, ups + ups)
    half = MEMBERS // 2
    assert stored(site) == {"upvote_count": half, "upvotes": half, "comment_count": 0, "comments": 0}
    page = members[0].http.get(f"/api/papers/{PAPER}").json()
    assert page["upvotes"] == IMPORTED + half

    # Twenty comments at once (each by another member: comments are rate-limited per member).
    answers = all_at_once([lambda m=m, i=i: m.comment(f"comment {i} at once") for i, m in enumerate(members[:20])])
    assert [r.status_code for r in answers] == [303] * 20
    assert stored(site) == {"upvote_count": half, "upvotes": half, "comment_count": 20, "comments": 20}


# --- db check ------------------------------------------------------------------------------------

OTHERS = ("2410.16251", "2410.18533")


def dailypapers(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dailypapers", *args], env=env_for(settings), capture_output=True, text=True, timeout=120
    )


def corrupted_store(db_url, tmp_path):
    """Votes and comments written through the store, then counts broken by direct UPDATEs the way
    lost updates of older versions left them: too low, too high, and right."""
    from sqlalchemy import update

    from dailypapers.store import comments as comment_store
    from dailypapers.store import votes as vote_store
    from dailypapers.store.schema import Paper

    settings = make_site(db_url, tmp_path, 5)
    store = Store(settings)
    with store.session() as session, session.begin():
        ids = {aid: paper_store.get(session, aid).id for aid in (PAPER, *OTHERS)}
        users = [user_store.by_name(session, f"member{i:02d}")["id"] for i in range(5)]
        for uid in users:
            vote_store.add(session, uid, ids[PAPER])
        vote_store.add(session, users[0], ids[OTHERS[0]])
        for uid in users[:3]:
            comment_store.add(session, ids[PAPER], uid, "hello", "<p>hello</p>")
        papers = Paper.__table__
        session.execute(update(papers).where(papers.c.id == ids[PAPER]).values(upvote_count=2, comment_count=7))
        session.execute(update(papers).where(papers.c.id == ids[OTHERS[1]]).values(upvote_count=4))
    store.dispose()
    return settings


def test_db_check_reports_drift_and_repair_fixes_it(db_url, tmp_path):
    settings = corrupted_store(db_url, tmp_path)

    found = dailypapers(settings, "db", "check")
    assert found.returncode == 1, found.stderr
    assert found.stdout.splitlines() == [
        f"{PAPER}: upvote_count is 2, 5 upvotes stored",
        f"{PAPER}: comment_count is 7, 3 comments stored",
        f"{OTHERS[1]}: upvote_count is 4, 0 upvotes stored",
        "drift: 3 counts in 2 of 3 papers differ from their rows (`dailypapers db check --repair` sets them to their rows)",
    ]
    assert found.stderr == ""

    fixed = dailypapers(settings, "db", "check", "--repair")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.splitlines()[0] == f"repaired {PAPER}: upvote_count is 2, 5 upvotes stored"
    assert fixed.stdout.splitlines()[-1] == "repaired 3 counts in 2 of 3 papers"
    assert stored(settings) == {"upvote_count": 5, "upvotes": 5, "comment_count": 3, "comments": 3}

    for args in (("db", "check"), ("db", "check", "--repair")):  # idempotent
        again = dailypapers(settings, *args)
        assert (again.returncode, again.stdout) == (0, "counts match their rows in all 3 papers\n"), again.stderr

    store = Store(settings)
    with store.session() as session:
        assert integrity.drift(session) == []
        assert paper_store.get(session, OTHERS[0]).upvote_count == 1  # never drifted, untouched
    store.dispose()


def test_repair_while_members_vote(db_url, tmp_path):
    """A repair racing votes on the same paper leaves the count equal to its rows: it locks the
    drifted papers before counting again."""
    from dailypapers.store import votes as vote_store

    settings = corrupted_store(db_url, tmp_path)
    store = Store(settings)
    with store.session() as session, session.begin():
        pid = paper_store.get(session, PAPER).id
        voters = [user_store.create(session, f"voter{i:02d}", "x") for i in range(20)]

    def vote(uid):
        with store.session() as session, session.begin():
            vote_store.add(session, uid, pid)

    def repair():
        with store.writing() as session:
            integrity.repair(session)

    all_at_once([repair] + [lambda uid=uid: vote(uid) for uid in voters])
    with store.session() as session:
        assert integrity.drift(session) == []
    store.dispose()
    assert stored(settings)["upvote_count"] == stored(settings)["upvotes"] == 25
