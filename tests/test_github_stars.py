"""Code and stars: repository links found at ingest (HF's githubRepo, abstracts, comments), normalised
and stored per paper; the github-stars job reading GitHub's REST API from a local server answering as
GitHub does (200 with an ETag, 304 to If-None-Match, 404, 403 when the quota is spent), the token
sent but never logged; stars on cards, the feed sorted by stars, githubRepo/githubStars in the API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import pytest
from sqlalchemy import delete, select, update

from dailypapers.ingest.pipeline import ingest
from dailypapers.ingest.repo_links import for_paper, normalise
from dailypapers.ingest.run import IngestJob
from dailypapers.store.engine import Store
from dailypapers.store.schema import Paper, PaperRepo
from dailypapers.types import Author, Featured, PaperRecord
from hfhelp import write_current_format
from support import client_for, make_settings, need_data, run_job
from upstream import Answer, FakeService

JSON = "application/json; charset=utf-8"
TOKEN = "ghp_not-a-real-token-0123456789"
DAY = dt.date(2024, 10, 25)


class FakeGitHub(FakeService):
    """GET /repos/{owner}/{repo} as GitHub answers it."""

    def __init__(self):
        self.stars = {"llm-editing/HalluEditBench": 60, "acme/fast-thing": 1234}
        self.spent: set[str] = set()  # repositories whose request finds the quota spent
        self.reset = int(time.time()) + 3600
        super().__init__()

    def answer(self, req) -> Answer:
        name = req.path.removeprefix("/repos/")
        limits = {"X-RateLimit-Limit": "60", "X-RateLimit-Reset": str(self.reset)}
        if name in self.spent:
            body = b'{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest"}'
            return Answer(403, body, {**limits, "X-RateLimit-Remaining": "0"}, content_type=JSON)
        limits["X-RateLimit-Remaining"] = "50"
        if name not in self.stars:
            return Answer(404, b'{"message":"Not Found"}', limits, content_type=JSON)
        etag = f'W/"{name.replace("/", "-")}-{self.stars[name]}"'
        if req.headers.get("if-none-match") == etag:
            return Answer(304, b"", {**limits, "ETag": etag}, content_type=JSON)
        body = json.dumps({"full_name": name, "stargazers_count": self.stars[name]}).encode()
        return Answer(200, body, {**limits, "ETag": etag}, content_type=JSON)

    def asked(self) -> list[str]:
        return [r.path.removeprefix("/repos/") for r in self.upstream.log]


def record(arxiv_id: str, abstract: str, comment: str | None = None, day: dt.date = DAY) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id, title=f"Paper {arxiv_id}", abstract=abstract, authors=[Author("A. Author")],
        categories=["cs.CL"], comment=comment,
        featured=Featured(day=day, submitted_at=dt.datetime.combine(day, dt.time(9)), submitter=None, source="user"),
    )  # fmt: skip


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        yield fake


def stocked(settings, tmp_path) -> None:
    """2410.16251 from HF (githubRepo with HF's 52 stars); two papers naming repositories in their text."""
    need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    store = Store(settings)
    try:
        IngestJob(store).run([str(write_current_format(tmp_path))])
        ingest(store, [
            record("2501.00001", "We release code at https://github.com/acme/fast-thing.git.", "Data: https://huggingface.co/datasets/acme/things"),
            record("2501.00002", "A method. See https://github.com/gone/repo/tree/main and https://github.com/orgs/acme"),
        ])  # fmt: skip
    finally:
        store.dispose()


def repos(store: Store) -> dict[str, tuple]:
    with store.session() as session:
        rows = session.execute(
            select(Paper.arxiv_id, PaperRepo.url, PaperRepo.host, PaperRepo.stars, PaperRepo.source, PaperRepo.checked_at)
            .join(Paper, Paper.id == PaperRepo.paper_id)
        )
        return {url: (aid, host, stars, source, at) for aid, url, host, stars, source, at in rows}


def test_links_are_normalised():
    assert normalise("https://github.com/Foo/Bar.git").url == "https://github.com/Foo/Bar"
    assert normalise("http://www.github.com/foo/bar/blob/main/README.md#x").url == "https://github.com/foo/bar"
    assert normalise("https://gitlab.com/group/sub/project/-/tree/main").url == "https://gitlab.com/group/sub/project"
    assert normalise("https://huggingface.co/spaces/a/demo").host == "hf-space"
    assert normalise("https://huggingface.co/meta-llama/Llama-3-8B").host == "hf-model"
    for not_a_repo in ("https://github.com/foo", "https://github.com/orgs/foo/people", "https://huggingface.co/papers/2410.16251",
                       "https://github.com/features/actions", "https://example.org/foo/bar"):
        assert normalise(not_a_repo) is None, not_a_repo
    found = for_paper("see https://github.com/x/y).", "code: https://GitHub.com/X/Y and https://github.com/x/z", "https://github.com/x/y", "hf")
    assert [(link.url, link.source) for link in found] == [("https://github.com/x/y", "hf"), ("https://github.com/x/z", "comment")]


def test_links_are_stored_at_ingest_and_hfs_stars_used_until_the_job_reads_them(settings, tmp_path, github):
    stocked(settings, tmp_path)
    store = Store(settings)
    try:
        found = repos(store)
    finally:
        store.dispose()
    assert {u: v[:4] for u, v in found.items()} == {
        "https://github.com/llm-editing/HalluEditBench": ("2410.16251", "github", 52, "hf"),
        "https://github.com/acme/fast-thing": ("2501.00001", "github", None, "abstract"),
        "https://huggingface.co/datasets/acme/things": ("2501.00001", "hf-dataset", None, "comment"),
        "https://github.com/gone/repo": ("2501.00002", "github", None, "abstract"),
    }
    with client_for(settings) as client:
        item = next(i for i in client.get("/api/daily_papers", params={"date": "2024-10-25"}).json() if i["paper"]["id"] == "2410.16251")
        assert (item["githubRepo"], item["githubStars"]) == ("https://github.com/llm-editing/HalluEditBench", 52)


def test_the_job_reads_stars_conditionally_and_never_logs_the_token(settings, tmp_path, github, caplog):
    stocked(settings, tmp_path)
    settings = settings.model_copy(update={"github_api_url": github.upstream.url, "github_token": TOKEN})
    caplog.set_level(logging.DEBUG)
    summary = run_job(settings, "github-stars")
    assert sorted(github.asked()) == ["acme/fast-thing", "gone/repo", "llm-editing/HalluEditBench"]
    assert "2 repositories read" in summary and "1 gone" in summary
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in github.upstream.log)
    assert TOKEN not in caplog.text and TOKEN not in summary
    store = Store(settings)
    try:
        found = repos(store)
        assert found["https://github.com/llm-editing/HalluEditBench"][2] == 60  # GitHub's figure replaces HF's
        assert found["https://github.com/gone/repo"][2] is None and found["https://github.com/gone/repo"][4] is not None
        # A later HF import of the same paper does not put HF's older figure back.
        IngestJob(store).run([str(write_current_format(tmp_path))])
        assert repos(store)["https://github.com/llm-editing/HalluEditBench"][2] == 60
        # Fresh: nothing asked. Stale: asked with If-None-Match; a 304 keeps the stars.
        assert "0 repositories read" in run_job(settings, "github-stars") and len(github.upstream.log) == 3
        with store.session() as session, session.begin():
            session.execute(update(PaperRepo).values(checked_at=dt.datetime(2020, 1, 1)))
        github.upstream.log.clear()
        summary = run_job(settings, "github-stars")
        conditional = {r.path: r.headers.get("if-none-match") for r in github.upstream.log}
        assert conditional["/repos/llm-editing/HalluEditBench"] == 'W/"llm-editing-HalluEditBench-60"'
        assert "2 unchanged (304)" in summary
        assert repos(store)["https://github.com/acme/fast-thing"][2] == 1234
    finally:
        store.dispose()


def test_a_spent_quota_stops_the_run_until_its_reset(sqlite_url, tmp_path, github):
    settings = make_settings(sqlite_url, tmp_path)
    stocked(settings, tmp_path)
    settings = settings.model_copy(update={"github_api_url": github.upstream.url})
    github.spent = {"acme/fast-thing"}  # the first asked (never-read repositories go by URL)
    summary = run_job(settings, "github-stars")
    assert "rate limit reached" in summary and github.asked() == ["acme/fast-thing"]
    github.spent = set()
    assert "rate limit reached" in run_job(settings, "github-stars")
    assert len(github.upstream.log) == 1  # nothing asked before the reset
    from dailypapers.store import kv

    store = Store(settings)
    try:
        with store.session() as session, session.begin():
            kv.set_value(session, "github_rate_reset", str(time.time() - 1))
    finally:
        store.dispose()
    summary = run_job(settings, "github-stars")
    assert "2 repositories read" in summary and "1 gone" in summary and len(github.upstream.log) == 4


def test_the_backfill_records_links_of_papers_stored_before(sqlite_url, tmp_path):
    settings = make_settings(sqlite_url, tmp_path, online=False)
    stocked(settings, tmp_path)
    store = Store(settings)
    try:
        before = repos(store)
        with store.session() as session, session.begin():
            session.execute(delete(PaperRepo))
        for _ in range(2):  # idempotent
            assert "skipped" in run_job(settings, "github-stars")
            from dailypapers.store import kv

            with store.session() as session, session.begin():
                kv.set_value(session, "paper_repos_backfill", "0")
        assert {u: v[:4] for u, v in repos(store).items()} == {u: v[:4] for u, v in before.items()}
    finally:
        store.dispose()


def test_cards_show_stars_and_the_feed_sorts_by_them(sqlite_url, tmp_path, github):
    settings = make_settings(sqlite_url, tmp_path)
    stocked(settings, tmp_path)
    run_job(settings.model_copy(update={"github_api_url": github.upstream.url}), "github-stars")
    with client_for(settings) as client:
        page = client.get("/date/2024-10-25", params={"sort": "stars"})
        assert page.status_code == 200
        text = page.text
        assert "★ 1.2k" in text and "★ 60" in text
        assert text.index("2501.00001") < text.index("2410.16251") < text.index("2501.00002")
        assert 'href="https://github.com/acme/fast-thing"' in text
        assert "?sort=stars" in client.get("/date/2024-10-25").text
        items = client.get("/api/daily_papers", params={"date": "2024-10-25", "sort": "githubStars"}).json()
        assert [(i["paper"]["id"], i["paper"]["githubStars"]) for i in items][:2] == [("2501.00001", 1234), ("2410.16251", 60)]
        assert items[0]["paper"]["githubRepo"] == "https://github.com/acme/fast-thing"
        # The paper's own page links the same repository as its Code, with its stars.
        paper = client.get("/papers/2501.00001").text
        assert 'href="https://github.com/acme/fast-thing"' in paper and "Code · ★ 1.2k" in paper
