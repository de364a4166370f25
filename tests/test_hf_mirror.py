"""The mirror of hf.co/papers: days read from Hugging Face's /api/daily_papers (the recorded 2024-10-25
answer, and answers made from it for other days) served by a local HTTP server, with arXiv's export
API (recorded answers) filling in the metadata HF does not give. A range import, idempotence, upvotes
that only grow, 429 with Retry-After, 5xx backoff, pacing, an offline instance's one line a day,
and HF's votes shown apart from the site's own."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import subprocess
import sys

import pytest
from sqlalchemy import select

from dailypapers.errors import SourceError
from dailypapers.ingest.hf_mirror import days_due
from dailypapers.ingest.run import IngestJob
from dailypapers.store.engine import Store
from dailypapers.store.schema import DailyEntry, Paper, PaperCategory, PaperRepo
from hfhelp import KNOWLEDGE_EDITING, current_format, recorded_items
from support import DATA, client_for, env_for, make_settings, need_data, run_job
from upstream import Answer, FakeService, Upstream
from webhelp import make_user

ARXIV = DATA / "fixtures" / "arxiv-api"
ARXIV_1707 = "id_1707.08567_s0_m100_6a1afebfc6a3.xml"
ARXIV_NOTHING = "id_0000.0000_s0_m100_8b51d9633a68.xml"
JSON = "application/json; charset=utf-8"


def moved(item: dict, arxiv_id: str, day: str) -> dict:
    """A recorded item made into another paper's item on another day."""
    item = copy.deepcopy(item)
    item["paper"]["id"] = arxiv_id
    stamp = f"{day}T02:00:00.000Z"
    item["publishedAt"] = stamp
    item["paper"]["submittedOnDailyAt"] = stamp
    return item


def answers() -> dict[str, list[dict]]:
    """HF's answer per day: the recorded day, and a later day made from it (a paper arXiv knows,
    1707.08567, whose categories the fill must bring; 2410.16251 again, in today's format)."""
    from dailypapers.sources import arxiv_api

    items = recorded_items()
    items[1] = current_format(items[1], **KNOWLEDGE_EDITING)
    later = moved(items[1], "2410.16251", "2024-10-26")
    known = moved(items[0], "1707.08567", "2024-10-26")
    with open(ARXIV / ARXIV_1707, "rb") as f:  # HF's copy of arXiv's title, abstract and authors
        record = next(iter(arxiv_api.parse(f)))
    known["paper"].update(title=record.title, summary=record.abstract, authors=[{"name": a.name} for a in record.authors])
    return {"2024-10-25": items, "2024-10-26": [known, later]}


class FakeHF(FakeService):
    """/api/daily_papers?date=...; `script` answers the first requests (status, headers) before the real ones."""

    def __init__(self, days: dict[str, list[dict]] | None = None, script: list[tuple[int, dict]] | None = None):
        self.days = answers() if days is None else days
        self.script = list(script or [])
        super().__init__()

    def answer(self, req) -> Answer:
        if req.path != "/api/daily_papers":
            return Answer(404, b'{"error":"not found"}', content_type=JSON)
        if self.script:
            status, headers = self.script.pop(0)
            return Answer(status, b'{"error":"busy"}', headers, content_type=JSON)
        return Answer(body=json.dumps(self.days.get(req.params.get("date", ""), [])).encode(), content_type=JSON)

    @property
    def dates(self) -> list[str]:
        return [r.params.get("date") for r in self.upstream.log]


def fake_arxiv(req) -> Answer:
    ids = req.params.get("id_list", "").split(",")
    name = ARXIV_1707 if "1707.08567" in ids else ARXIV_NOTHING  # arXiv knows none of the 2024 ids here
    return Answer(body=(ARXIV / name).read_bytes())


@pytest.fixture
def hf():
    need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    with FakeHF() as fake:
        yield fake


@pytest.fixture
def arxiv():
    need_data("fixtures", "arxiv-api", ARXIV_1707)
    with Upstream(fake_arxiv) as fake:
        yield fake


def mirror_settings(db_url, tmp_path, hf_url, arxiv_url="http://127.0.0.1:9", **more):
    return make_settings(db_url, tmp_path, **{"hf_endpoint": hf_url, "arxiv_api_url": arxiv_url, "hf_request_interval": 0.0, **more})


def import_from(hf: FakeHF, sqlite_url, tmp_path, target: str = "hf:2024-10-25", **more):
    """`dailypapers ingest TARGET` from the fake HF into a fresh store; its report."""
    store = Store(mirror_settings(sqlite_url, tmp_path, hf.upstream.url, **more))
    try:
        return IngestJob(store).run([target])
    finally:
        store.dispose()


def entries(store: Store) -> set[tuple[str, str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(Paper.arxiv_id, DailyEntry.day, DailyEntry.source).join(Paper, Paper.id == DailyEntry.paper_id)
        )
        return {(a, d.isoformat(), s) for a, d, s in rows}


def paper(store: Store, arxiv_id: str) -> Paper:
    with store.session() as session:
        row = session.execute(select(Paper).where(Paper.arxiv_id == arxiv_id)).scalar_one()
        session.expunge(row)
        return row


def test_a_range_is_imported_as_featured_with_hfs_fields_and_arxivs_metadata(settings, tmp_path, hf, arxiv):
    """hf:DAY..DAY reads every day of the range, stores each day's papers as featured (source hf)
    with upvotes, comments, submitter and HF's fields, fills in arXiv's categories, and is idempotent."""
    settings = mirror_settings(settings.database_url, tmp_path, hf.upstream.url, arxiv.url)
    store = Store(settings)
    try:
        job = IngestJob(store)
        report = job.run(["hf:2024-10-24..2024-10-26"])
        assert hf.dates == ["2024-10-24", "2024-10-25", "2024-10-26"]
        assert (report.new, report.rejected, report.featured) == (4, 0, 5)
        assert entries(store) == {
            ("2410.17243", "2024-10-25", "hf"), ("2410.16251", "2024-10-25", "hf"), ("2410.18533", "2024-10-25", "hf"),
            ("2410.16251", "2024-10-26", "hf"), ("1707.08567", "2024-10-26", "hf"),
        }  # fmt: skip
        first = paper(store, "2410.17243")
        assert (first.upvotes_imported, first.comments_imported) == (64, 3)
        edited = paper(store, "2410.16251")
        assert edited.hf_meta["ai_summary"] == KNOWLEDGE_EDITING["ai_summary"]
        assert edited.hf_meta["organization"]["name"] == "llm-editing"
        assert edited.project_url == "https://llm-editing.github.io"
        # HF gave no categories; arXiv's export API filled them in (and kept HF's upvotes).
        filled = paper(store, "1707.08567")
        assert filled.categories and filled.upvotes_imported == 64
        assert len(arxiv.log) == 1 and set(arxiv.log[0].params["id_list"].split(",")) == {
            "1707.08567", "2410.17243", "2410.16251", "2410.18533"}  # one request for every paper lacking categories
        assert any("arXiv metadata of 1 papers filled in" in note for note in job.notes)
        with store.session() as session:
            repo = session.execute(select(PaperRepo).where(PaperRepo.paper_id == edited.id)).scalar_one()
        assert (repo.url, repo.host, repo.stars, repo.source) == ("https://github.com/llm-editing/HalluEditBench", "github", 52, "hf")
        # Again: nothing new, nothing featured twice.
        again = IngestJob(store).run(["hf:2024-10-24..2024-10-26"])
        assert (again.new, again.updated, again.featured) == (0, 0, 0)
        assert len(entries(store)) == 5
    finally:
        store.dispose()


def test_upvotes_only_grow(sqlite_url, tmp_path):
    """A later answer with more votes raises upvotes_imported; one with fewer never lowers it."""
    need_data("fixtures", "hf-api", "daily_papers_2024-10-25_all_items_summary.tsv")
    rows = (DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_all_items_summary.tsv").read_text().splitlines()[1:]
    later = {r.split("\t")[1]: int(r.split("\t")[5]) for r in rows if r.split("\t")[5:6] and r.split("\t")[5].strip()}
    items = recorded_items()
    with FakeHF({"2024-10-25": items}) as hf:
        store = Store(mirror_settings(sqlite_url, tmp_path, hf.upstream.url))
        try:
            IngestJob(store).run(["hf:2024-10-25"])
            assert paper(store, "2410.17243").upvotes_imported == 64
            grown = copy.deepcopy(items)  # snapshot B, later that day
            for item in grown:
                item["paper"]["upvotes"] = later[item["paper"]["id"]]
            hf.days["2024-10-25"] = grown
            IngestJob(store).run(["hf:2024-10-25"])
            assert paper(store, "2410.17243").upvotes_imported == later["2410.17243"] == 74
            shrunk = copy.deepcopy(items)
            for item in shrunk:
                item["paper"]["upvotes"] = 1
            hf.days["2024-10-25"] = shrunk
            IngestJob(store).run(["hf:2024-10-25"])
            assert paper(store, "2410.17243").upvotes_imported == 74
            assert paper(store, "2410.16251").upvotes_imported == later["2410.16251"]
        finally:
            store.dispose()


def test_429_with_retry_after_is_waited_out(sqlite_url, tmp_path):
    with FakeHF(script=[(429, {"Retry-After": "1"})]) as hf:
        report = import_from(hf, sqlite_url, tmp_path)
        log = hf.upstream.log
        assert len(log) == 2 and report.new == 3
        assert log[1].at - log[0].at >= 0.95  # Retry-After, not the 0.01 s backoff


def test_5xx_answers_are_retried_with_growing_backoff(sqlite_url, tmp_path):
    with FakeHF(script=[(503, {}), (502, {})]) as hf:
        report = import_from(hf, sqlite_url, tmp_path, http_backoff=0.2)
        log = hf.upstream.log
        assert len(log) == 3 and report.new == 3
        first, second = log[1].at - log[0].at, log[2].at - log[1].at
        assert first >= 0.19 and second >= 0.39


def test_requests_are_paced(sqlite_url, tmp_path):
    """At most one request every hf_request_interval seconds (0.6 by default: 500 in 5 minutes)."""
    with FakeHF() as hf:
        import_from(hf, sqlite_url, tmp_path, "hf:2024-10-20..2024-10-23", hf_request_interval=0.3)
        times = [r.at for r in hf.upstream.log]
        assert len(times) == 4 and all(b - a >= 0.28 for a, b in zip(times, times[1:]))


def test_a_bad_target_is_one_clear_line(sqlite_url, tmp_path):
    store = Store(mirror_settings(sqlite_url, tmp_path, "http://127.0.0.1:9"))
    try:
        for target, words in (
            ("hf:2024-13-01", "name a day or a range"),
            ("hf:2024-10-26..2024-10-20", "ends (2024-10-20) before it starts"),
            ("hf:1990-01-01..2024-01-01", "at most"),
        ):
            with pytest.raises(SourceError, match=words.replace("(", r"\(").replace(")", r"\)")):
                IngestJob(store).run([target])
    finally:
        store.dispose()


def test_the_cli_imports_a_day_from_hf_endpoint(sqlite_url, tmp_path, hf):
    """`dailypapers ingest hf:DAY` with HF_ENDPOINT as huggingface_hub names it; an unreachable
    endpoint is one line on stderr and a non-zero status."""
    settings = make_settings(sqlite_url, tmp_path)
    env = env_for(settings) | {"HF_ENDPOINT": hf.upstream.url, "DAILYPAPERS_HF_REQUEST_INTERVAL": "0",
                               "DAILYPAPERS_ARXIV_API_URL": "http://127.0.0.1:9", "DAILYPAPERS_HTTP_RETRIES": "0"}
    done = subprocess.run([sys.executable, "-m", "dailypapers", "ingest", "hf:2024-10-25"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 new" in done.stdout and "HF daily papers 2024-10-25" in done.stdout
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    failed = subprocess.run([sys.executable, "-m", "dailypapers", "ingest", "hf:2024-10-26"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert failed.returncode != 0
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "could not connect" in lines[0] and "Traceback" not in failed.stderr


# --- the daily job ----------------------------------------------------------------------------------


def test_the_days_a_run_imports():
    today = dt.date(2026, 11, 27)
    d = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    assert days_due(None, today, 7) == [d(1), d(0)]
    assert days_due(d(0), today, 7) == [d(1), d(0)]
    assert days_due(d(4), today, 7) == [d(4), d(3), d(2), d(1), d(0)]
    assert days_due(d(40), today, 7) == [d(i) for i in range(8, -1, -1)]


def test_the_job_imports_yesterday_and_today_and_remembers(sqlite_url, tmp_path):
    today = dt.date.today()
    days = {(today - dt.timedelta(days=1)).isoformat(): recorded_items()[:1], today.isoformat(): recorded_items()[1:2]}
    with FakeHF(days) as hf:
        settings = mirror_settings(sqlite_url, tmp_path, hf.upstream.url)
        summary = run_job(settings, "hf-mirror")
        assert sorted(hf.dates) == sorted(days) and "2 new" in summary
        store = Store(settings)
        try:
            assert {e[2] for e in entries(store)} == {"hf"} and len(entries(store)) == 2
        finally:
            store.dispose()
        # Off, or offline: nothing is asked of HF.
        for off in ({"hf_mirror": False}, {"online": False}):
            assert "skipped" in run_job(mirror_settings(sqlite_url, tmp_path, hf.upstream.url, **off), "hf-mirror")
        assert len(hf.upstream.log) == 2


def test_an_offline_instance_logs_one_line_a_day(sqlite_url, tmp_path, caplog):
    """HF unreachable: retries are quiet, the run fails in one warning line without a traceback,
    and the scheduler does not retry it within the day (tomorrow's run catches up)."""
    from dailypapers.jobs import scheduler
    from dailypapers.jobs.registry import JOBS
    from dailypapers.store import jobruns

    settings = mirror_settings(sqlite_url, tmp_path, "http://127.0.0.1:9", http_retries=3)
    caplog.set_level(logging.DEBUG)
    store = Store(settings)
    try:
        # Noon, so that two hours later is still the same daily period (the job runs at 07:00).
        now = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        period = scheduler.due(store, JOBS["hf-mirror"], now, retry_failed=True)
        assert period is not None
        from dailypapers.jobs import runner

        caplog.clear()
        runner.execute(store, "hf-mirror", period)
        loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(loud) == 1 and loud[0].exc_info is None
        assert "hf-mirror" in loud[0].getMessage() and "Hugging Face could not be read" in loud[0].getMessage()
        assert jobruns.status(store, "hf-mirror", period) == "failed"
        later = now + dt.timedelta(hours=2)
        assert scheduler.due(store, JOBS["hf-mirror"], later, retry_failed=True) is None
    finally:
        store.dispose()


# --- HF's votes and the site's own --------------------------------------------------------------------


def test_votes_summed_or_apart(sqlite_url, tmp_path, hf):
    """'sum': one count. 'apart': cards count the site's own votes with HF's beside them; the API
    keeps `upvotes` (the sum, as HF's clients read it) and adds upvotesHf and upvotesLocal."""
    from dailypapers.store import users as user_store
    from dailypapers.store import votes as vote_store

    settings = mirror_settings(sqlite_url, tmp_path, hf.upstream.url)
    store = Store(settings)
    try:
        IngestJob(store).run(["hf:2024-10-25"])
        make_user(settings, "reader")
        with store.session() as session, session.begin():
            uid = user_store.by_name(session, "reader")["id"]
            vote_store.add(session, uid, paper(store, "2410.17243").id)
    finally:
        store.dispose()
    with client_for(settings) as client:
        item = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()[0]
        assert item["paper"]["upvotes"] == 65 and "upvotesHf" not in item["paper"]
        assert ">65<" in client.get("/date/2024-10-25").text.replace(" ", "")
    apart = settings.model_copy(update={"hf_votes": "apart"})
    with client_for(apart) as client:
        item = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()[0]
        assert (item["paper"]["upvotes"], item["paper"]["upvotesHf"], item["paper"]["upvotesLocal"]) == (65, 64, 1)
        page = client.get("/date/2024-10-25").text
        assert 'data-imported="64"' in page and "HF 64" in page
        assert '<span class="count">1</span>' in page
