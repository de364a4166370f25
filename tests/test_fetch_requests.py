"""Papers the store lacks are fetched in the background, never by the web process: a member's
submission is queued and applied when arXiv answers (featured, or refused with the reason), the
page of an unknown paper queues a fetch and shows the paper once it has arrived, and failures are
retried with backoff, then shown. arXiv is the recorded export-API answers, served by a local
server (tests/upstream.py) that can be made slow or closed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from support import DATA, MODELS, client_for, env_for, need_data, run_job
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.scheduler import Scheduler
from dailypapers.store.engine import Store
from upstream import Answer, FakeService
from webhelp import log_in, make_user, token_of
from helpers import need_redis

FIXTURES = DATA / "fixtures" / "arxiv-api"
RECORDED = {  # the recorded answer of arXiv's export API for each id
    "1707.08567": "id_1707.08567_s0_m100_6a1afebfc6a3.xml",
    "1605.08386": "id_1605.08386_s0_m100_199195aa31ad.xml",
    "astro-ph/0601001": "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml",
}
NOTHING = "id_0000.0000_s0_m100_8b51d9633a68.xml"  # arXiv's answer for an id it does not know
ENTRY = re.compile(rb"<entry>.*?</entry>", re.S)


class FakeArxiv(FakeService):
    """The export API by id, from the recorded answers; `fresh` ids are dated now (so the one-week
    rule lets them in), `delay` holds every answer back."""

    def __init__(self, fresh: tuple[str, ...] = (), delay: float = 0.0):
        need_data("fixtures", "arxiv-api", NOTHING)
        self.fresh, self.delay = set(fresh), delay
        super().__init__()

    def answer(self, req) -> Answer:
        ids = [i for i in req.params.get("id_list", "").split(",") if i]
        empty = (FIXTURES / NOTHING).read_bytes()
        entries = []
        for arxiv_id in ids:
            if arxiv_id in RECORDED:
                body = (FIXTURES / RECORDED[arxiv_id]).read_bytes()
                if arxiv_id in self.fresh:
                    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                    body = re.sub(rb"<published>[^<]+</published>", b"<published>" + now + b"</published>", body)
                entries += ENTRY.findall(body)
        return Answer(body=empty.replace(b"</feed>", b"\n".join(entries) + b"\n</feed>"), delay=self.delay)

    @property
    def requested(self) -> list[str]:
        return [i for r in self.upstream.log for i in r.params.get("id_list", "").split(",")]


def requests_of(settings, arxiv_id: str) -> list[dict]:
    from dailypapers.store.schema import FetchRequest

    store = Store(settings)
    try:
        with store.session() as session:
            rows = session.execute(select(FetchRequest.__table__).where(FetchRequest.arxiv_id == arxiv_id)).mappings()
            return [dict(r) for r in rows]
    finally:
        store.dispose()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def submit(client, arxiv_id: str):
    token = token_of(client)
    started = time.perf_counter()
    r = client.post("/submit", data={"csrftoken": token, "arxiv_id": arxiv_id})
    return r, time.perf_counter() - started


def test_a_submission_answers_at_once_while_arxiv_is_slow_and_arrives_when_it_answers(fresh_site):
    """The form answers in well under a second while arXiv takes seconds; the scheduler of
    `dailypapers up` picks the request up at once, and when arXiv answers the paper is featured
    on the day it was submitted, which the member's page of the submission then shows."""
    today = dt.datetime.now(dt.UTC).date()
    with FakeArxiv(fresh=("1707.08567",), delay=6.0) as arxiv:
        settings = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query", "http_timeout": 30.0})
        make_user(settings)
        store = Store(settings)
        scheduler = Scheduler(store, names=["fetch-papers"], poll=0.1).start()
        try:
            with client_for(settings) as c:
                log_in(c)
                r, took = submit(c, "https://arxiv.org/abs/1707.08567v1")
                assert r.status_code == 303 and r.headers["location"] == "/submit?queued=1707.08567"
                assert took < 0.5, f"the form took {took:.2f}s"
                page = c.get(r.headers["location"])
                assert page.status_code == 200
                assert "queued: it will appear when arXiv answers" in page.text
                assert '<meta http-equiv="refresh"' in page.text
                wait_for(lambda: arxiv.requested, 5, "the scheduler to ask arXiv")  # promptly, not in a minute
                assert c.get("/submit").elapsed.total_seconds() < 0.5  # the site is not held up meanwhile
                wait_for(lambda: requests_of(settings, "1707.08567")[0]["state"] == "featured", 30, "the paper")
                done = c.get("/submit?queued=1707.08567")
                assert done.status_code == 303 and done.headers["location"].startswith("/papers/1707.08567")
                paper = c.get("/papers/1707.08567").text
                assert "Proceedings of Workshop AEW10" in paper and f'href="/date/{today.isoformat()}"' in paper
                assert 'submitted by <a class="person" href="/u/alice">' in c.get(f"/date/{today.isoformat()}").text
        finally:
            scheduler.stop()
            store.dispose()
    assert arxiv.requested == ["1707.08567"]  # asked once


def test_a_queued_submission_that_breaks_the_rules_is_refused_with_the_reason(fresh_site):
    with FakeArxiv() as arxiv:  # 1707.08567 as recorded: from 2017
        settings = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        make_user(settings)
        with client_for(settings) as c:
            log_in(c)
            r, _ = submit(c, "1707.08567")
            assert r.status_code == 303
            assert "1 refused" in run_job(settings, "fetch-papers")
            page = c.get("/submit?queued=1707.08567")
            assert page.status_code == 200 and '<meta http-equiv="refresh"' not in page.text
            assert "refused" in page.text and "only curators can feature older papers" in page.text
            listing = c.get("/submit").text  # the member's submissions, with their outcome
            assert "1707.08567" in listing and "2017-07-27" in listing
            profile = c.get("/u/alice").text  # and on the member's page, for the member alone
            assert "refused: 1707.08567 was submitted to arXiv on 2017-07-27" in profile
        with client_for(settings) as anonymous:
            assert "2017-07-27" not in anonymous.get("/u/alice").text
            assert anonymous.get("/papers/1707.08567").status_code == 200  # the paper is stored all the same
        [request] = requests_of(settings, "1707.08567")
        assert request["state"] == "refused" and request["open_key"] is None


def test_failures_are_retried_with_backoff_then_shown(fresh_site, caplog):
    """arXiv down: each attempt is one log line and a later try; after the last the member reads
    why. A paper arXiv does not know is tried as often (it may not be announced yet), then shown."""
    settings = fresh_site.model_copy(update={
        "arxiv_api_url": f"http://127.0.0.1:{_closed_port()}/api/query", "fetch_attempts": 2, "fetch_retry_seconds": 0.3,
    })
    make_user(settings)
    caplog.set_level(logging.INFO)
    with client_for(settings) as c:
        log_in(c)
        assert submit(c, "1707.08567")[0].status_code == 303
        with pytest.raises(Exception, match="could not connect"):
            run_job(settings, "fetch-papers")
        [request] = requests_of(settings, "1707.08567")
        assert request["state"] == "pending" and request["attempts"] == 1 and "could not connect" in request["last_error"]
        page = c.get("/submit?queued=1707.08567").text
        assert "queued" in page and "could not connect" in page  # why it is taking long
        assert "nothing" in run_job(settings, "fetch-papers")  # not yet: it waits its backoff
        time.sleep(0.35)
        with pytest.raises(Exception, match="could not connect"):
            run_job(settings, "fetch-papers")
        [request] = requests_of(settings, "1707.08567")
        assert request["state"] == "failed" and request["open_key"] is None
        page = c.get("/submit?queued=1707.08567")
        assert page.status_code == 200 and '<meta http-equiv="refresh"' not in page.text
        assert "arXiv could not be reached" in page.text
    lines = [r for r in caplog.records if r.name.startswith("dailypapers") and r.levelno >= logging.WARNING]
    assert len(lines) == 2 and not [r for r in lines if r.exc_info], [r.getMessage() for r in lines]

    with FakeArxiv() as arxiv:
        settings = settings.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        with client_for(settings) as c:
            log_in(c)
            assert submit(c, "2501.99999")[0].status_code == 303
            run_job(settings, "fetch-papers")
            time.sleep(0.35)
            run_job(settings, "fetch-papers")
            page = c.get("/submit?queued=2501.99999").text
            assert "arXiv has no paper 2501.99999" in page
        assert arxiv.requested == ["2501.99999", "2501.99999"]


def _closed_port() -> int:
    from digesthelp import free_port

    return free_port()


def test_the_page_of_an_unknown_paper_queues_it_and_shows_it_when_it_arrives(fresh_site):
    with FakeArxiv() as arxiv:
        settings = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        with client_for(settings) as c:
            page = c.get("/papers/1605.08386")
            assert page.status_code == 202
            assert "not here yet: being fetched from arXiv" in page.text
            assert '<meta http-equiv="refresh"' in page.text and '<meta name="robots" content="noindex">' in page.text
            assert page.headers["cache-control"] == "no-store"
            assert c.get("/papers/1605.08386").status_code == 202  # asked again: the same request
            assert len(requests_of(settings, "1605.08386")) == 1
            assert arxiv.requested == []  # the web never asks arXiv itself
            assert "1 fetched" in run_job(settings, "fetch-papers")
            arrived = c.get("/papers/1605.08386")
            assert arrived.status_code == 200 and "<h1" in arrived.text and "being fetched" not in arrived.text
            # Ids that are not arXiv ids, and a paper arXiv does not know: 404, as before.
            assert c.get("/papers/not-an-id").status_code == 404
            assert c.get("/papers/2501.99999").status_code == 202
            run_job(settings.model_copy(update={"fetch_attempts": 1}), "fetch-papers")
            gone = c.get("/papers/2501.99999")
            assert gone.status_code == 404 and "arXiv has no paper 2501.99999" in gone.text
            assert c.get("/papers/2513.00001").status_code == 404  # no month 13: never queued
            later = dt.date.today() + dt.timedelta(days=62)
            assert c.get(f"/papers/{later:%y%m}.00001").status_code == 404  # nor a month to come
            assert requests_of(settings, f"{later:%y%m}.00001") == []
        [request] = requests_of(settings, "1605.08386")
        assert request["state"] == "done" and request["reason"] == "lookup" and request["user_id"] is None


def test_the_page_of_an_unknown_paper_says_when_arxiv_cannot_be_reached(fresh_site):
    """Offline: after a failed try, every visitor of the paper's page reads why it is taking long
    and when the next try is, and the page keeps reloading itself until the last try."""
    settings = fresh_site.model_copy(update={
        "arxiv_api_url": f"http://127.0.0.1:{_closed_port()}/api/query", "fetch_attempts": 3, "fetch_retry_seconds": 60,
    })
    with client_for(settings) as c:
        first = c.get("/papers/1605.08386")
        assert first.status_code == 202 and "could not connect" not in first.text
        with pytest.raises(Exception, match="could not connect"):
            run_job(settings, "fetch-papers")
        page = c.get("/papers/1605.08386")
        assert page.status_code == 202 and '<meta http-equiv="refresh"' in page.text
        assert re.search(r"Try 1 of 3 failed \(arXiv could not be reached: [^<]*could not connect[^<]*\); next try at \d\d:\d\d UTC", page.text), page.text


def test_lookups_are_rate_limited_per_address_and_deduplicated(fresh_site):
    settings = fresh_site.model_copy(update={"rate_limit_lookup": "2/hour", "arxiv_api_url": "http://127.0.0.1:9/api/query"})
    with client_for(settings) as c:
        assert [c.get(f"/papers/2501.0000{i}").status_code for i in (1, 2)] == [202, 202]
        over = c.get("/papers/2501.00003")
        assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
        assert c.get("/papers/2501.00001").status_code == 202  # already asked for: no new request, no count
        assert requests_of(settings, "2501.00003") == []
        assert len(requests_of(settings, "2501.00001")) == 1


def test_fetch_job_from_the_shell(fresh_site):
    """`dailypapers jobs run fetch-papers` works through the queue once."""
    with FakeArxiv(fresh=("astro-ph/0601001",)) as arxiv:
        settings = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        make_user(settings)
        with client_for(settings) as c:
            log_in(c)
            assert submit(c, "astro-ph/0601001")[0].status_code == 303
        env = dict(env_for(settings), DAILYPAPERS_ARXIV_API_URL=settings.arxiv_api_url)
        r = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "run", "fetch-papers"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "1 fetched" in r.stdout and "1 featured" in r.stdout
        listed = subprocess.run([sys.executable, "-m", "dailypapers", "jobs", "list"], env=env, capture_output=True, text=True)
        assert "fetch-papers" in listed.stdout and "when asked" in listed.stdout


def test_queue_workers_fetch_submissions(fresh_site, tmp_path):
    """With DAILYPAPERS_QUEUE_URL: `dailypapers scheduler` sees the request and hands the job to a
    `dailypapers worker`, which fetches the paper and features it."""
    need_redis()
    with FakeArxiv(fresh=("1707.08567",)) as arxiv:
        settings = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        make_user(settings)
        env = dict(env_for(settings), DAILYPAPERS_ARXIV_API_URL=settings.arxiv_api_url,
                   DAILYPAPERS_QUEUE_URL="redis://127.0.0.1:6379/0", DAILYPAPERS_QUEUE_NAMESPACE=f"test-{uuid.uuid4().hex[:8]}",
                   DAILYPAPERS_MODELS_DIR=str(MODELS), DAILYPAPERS_FETCH_POLL_SECONDS="0.2",
                   DAILYPAPERS_ONLINE="0", DAILYPAPERS_SEARCH_SEMANTIC="0")  # the scheduled jobs stay short
        procs = []
        for role, args in (("worker", ["worker", "--processes", "1", "--threads", "2"]), ("scheduler", ["scheduler", "--tick", "1"])):
            log = open(tmp_path / f"{role}.log", "wb")  # noqa: SIM115 - closed with the process
            procs.append(subprocess.Popen([sys.executable, "-m", "dailypapers", *args], env=env, stdout=log, stderr=log,
                                          start_new_session=True))
        try:
            with client_for(settings) as c:
                log_in(c)
                r, took = submit(c, "1707.08567")
                assert r.status_code == 303 and took < 0.5
                try:
                    wait_for(lambda: requests_of(settings, "1707.08567")[0]["state"] == "featured", 90, "the worker")
                except AssertionError as exc:
                    logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("worker", "scheduler"))
                    raise AssertionError(f"{exc}\n{logs}") from None
                assert c.get("/submit?queued=1707.08567").status_code == 303
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("worker", "scheduler"))
        assert "Traceback" not in logs, logs
    assert arxiv.requested == ["1707.08567"]


def test_cleanup_removes_fetch_requests_ended_a_month_ago(settings):
    from sqlalchemy import update

    from dailypapers.store import fetches
    from dailypapers.store.schema import FetchRequest

    store = Store(settings)
    try:
        with store.session() as session, session.begin():
            for arxiv_id in ("2501.00001", "2501.00002", "2501.00003"):
                fetches.open_request(session, arxiv_id, reason="lookup")
        with store.session() as session, session.begin():
            old, recent, _open = session.execute(select(FetchRequest.id).order_by(FetchRequest.id)).scalars().all()
            fetches.finish(session, old, "done")
            fetches.finish(session, recent, "failed", "arXiv has no paper 2501.00002")
            session.execute(update(FetchRequest).where(FetchRequest.id == old).values(finished_at=dt.datetime(2020, 1, 1)))
        assert "1 old fetch requests" in JOBS["cleanup"].run(store)
        with store.session() as session:
            assert session.execute(select(FetchRequest.arxiv_id).order_by(FetchRequest.id)).scalars().all() == [
                "2501.00002", "2501.00003"]
    finally:
        store.dispose()
