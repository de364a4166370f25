"""Hugging Face's own client reading our server: the behaviours huggingface_hub's maintainers check
of HF's papers API (search by query and with a limit, a paper by id, 404, a day, an invalid day,
the default day, a week, a month, a submitter, paging, limits), on data we hold; and the fields HF's
imports carry, stored and served in HF's shapes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from support import client_fixture, env_for
from hfhelp import KNOWLEDGE_EDITING
from webhelp import live_server


client = client_fixture("hf_site")


@pytest.fixture(scope="module")
def hub(hf_site):
    from huggingface_hub import HfApi

    with live_server(hf_site) as base:
        yield HfApi(endpoint=base, token=False)


# --- what an HF import keeps ------------------------------------------------------------------------


def test_an_hf_import_keeps_hugging_faces_fields(client):
    """ai_summary, ai_keywords, githubRepo, githubStars, projectPage, organization, mediaUrls: in
    the paper, at the daily item's top level (where huggingface_hub reads them), and in search."""
    info = client.get("/api/papers/2410.16251").json()
    expected = {k: v for k, v in KNOWLEDGE_EDITING.items() if k != "organization"}
    assert {k: info[k] for k in expected} == expected
    org = info["organization"]
    assert (org["name"], org["fullname"]) == ("llm-editing", "LLM Editing")
    assert org["avatar"] == org["avatarUrl"] == "https://huggingface.co/avatars/3e1d8a9c0f5b6e2d4a7c9b1e0f2d3c4a.svg"
    item = next(i for i in client.get("/api/daily_papers", params={"date": "2024-10-25"}).json() if i["paper"]["id"] == "2410.16251")
    for key in ("ai_summary", "ai_keywords", "githubRepo", "githubStars", "projectPage", "organization", "mediaUrls"):
        assert item[key] == item["paper"][key] == info[key], key
    hit = next(i for i in client.get("/api/papers/search", params={"q": "HalluEditBench knowledge editing"}).json() if i["paper"]["id"] == "2410.16251")
    assert hit == item
    # The later import changed nothing it did not know: the paper is featured once, on its day.
    assert info["submittedOnDailyAt"] == "2024-10-25T03:32:14.953Z" and info["upvotes"] == 41


def test_the_cli_prints_the_apis_shapes(hf_site, client):
    """`papers list --json` and `papers show --json` share shapes.py with the API."""
    env = env_for(hf_site)
    listed = subprocess.run([sys.executable, "-m", "dailypapers", "papers", "list", "--date", "2024-10-25", "--json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    shown = subprocess.run([sys.executable, "-m", "dailypapers", "papers", "show", "2410.16251", "--json"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body.pop("featuredOn") == ["2024-10-25"] and body.pop("versions") == []
    assert body == client.get("/api/papers/2410.16251").json()


# --- huggingface_hub's HfApi ----------------------------------------------------------------------


def test_list_papers_by_query_and_limit(hub):
    titles = [p.title for p in hub.list_papers(query="knowledge editing hallucinations")]
    assert "Can Knowledge Editing Really Correct Hallucinations?" in titles
    assert len(list(hub.list_papers(query="image segmentation", limit=2))) == 2


def test_list_papers_without_a_query_gives_recent_papers(hub):
    papers = list(hub.list_papers())
    assert len(papers) == 20
    assert all(p.submitted_at.date() >= dt.date(2025, 3, 18) for p in papers)
    assert papers[0].submitted_at >= papers[-1].submitted_at


def test_paper_info_by_id_and_not_found(hub):
    from huggingface_hub.errors import HfHubHTTPError

    paper = hub.paper_info("2410.16251")
    assert paper.title == "Can Knowledge Editing Really Correct Hallucinations?"
    assert paper.upvotes == 41 and paper.comments == 2 and paper.published_at.date() == dt.date(2024, 10, 21)
    assert paper.submitted_by.username == "canyuchen" and paper.submitted_by.fullname == "Canyu Chen"
    assert paper.github_repo == "https://github.com/llm-editing/HalluEditBench" and paper.github_stars == 52
    assert paper.project_page == "https://llm-editing.github.io" and paper.ai_keywords[0] == "knowledge editing"
    assert paper.ai_summary.startswith("HalluEditBench") and paper.organization.name == "llm-editing"
    assert paper.linked_models == [] and paper.linked_datasets == [] and paper.linked_spaces == []
    assert paper.num_total_models == 0 and paper.num_total_datasets == 0
    claimed = paper.authors[1]
    assert claimed.name == "Canyu Chen" and claimed.user.username == "canyuchen" and claimed.status == "claimed_verified"
    assert claimed.status_last_changed_at.year == 2024 and claimed.hidden is False
    with pytest.raises(HfHubHTTPError) as missing:
        hub.paper_info("1234.56789")
    assert missing.value.response.status_code == 404


def test_list_daily_papers_by_date_invalid_date_and_default_date(hub):
    from huggingface_hub.errors import BadRequestError

    day = list(hub.list_daily_papers(date="2024-10-25"))
    assert [p.id for p in day] == ["2410.17243", "2410.16251", "2410.18533"]  # by upvotes, as HF
    assert day[0].title.startswith("Breaking the Memory Barrier") and day[0].upvotes == 64
    assert day[1].github_repo == KNOWLEDGE_EDITING["githubRepo"] and day[1].ai_summary.startswith("HalluEditBench")
    with pytest.raises(BadRequestError):
        list(hub.list_daily_papers(date="2025-13-40"))
    latest = list(hub.list_daily_papers())
    newest = next(iter(hub.list_daily_papers(month="2025-03", sort="publishedAt", limit=1)))
    assert len(latest) == 50 and {p.submitted_at.date() for p in latest} == {newest.submitted_at.date()}


def test_list_daily_papers_week_and_month(hub):
    week = list(hub.list_daily_papers(week="2025-W12", limit=100))
    assert len(week) == 100
    monday = dt.datetime.fromisocalendar(2025, 12, 1).replace(tzinfo=dt.UTC)
    assert all(monday <= p.submitted_at < monday + dt.timedelta(days=7) for p in week)
    month = list(hub.list_daily_papers(month="2025-03", limit=100))
    assert len(month) == 100
    assert all(p.submitted_at.year == 2025 and p.submitted_at.month == 3 for p in month)
    october = list(hub.list_daily_papers(month="2024-10"))
    assert {p.id for p in october} == {"2410.17243", "2410.16251", "2410.18533"}


def test_list_daily_papers_by_submitter(hub):
    """No date: every date, as HF; the submitter's full name comes with it."""
    papers = list(hub.list_daily_papers(submitter="ClownRat"))
    assert [p.id for p in papers] == ["2410.17243"]
    assert papers[0].submitted_by.fullname == "Zesen Cheng"
    assert papers[0].submitted_by.avatar_url == "https://huggingface.co/avatars/1b09e2742aecce1bbdc57f0c4504cf38.svg"
    assert [p.id for p in hub.list_daily_papers(submitter="clownrat")] == ["2410.17243"]


def test_list_daily_papers_paging_and_limit(hub):
    assert list(hub.list_daily_papers(date="2025-03-18", p=100)) == []
    assert len(list(hub.list_daily_papers(date="2025-03-18", limit=10))) == 10
    first = [p.id for p in hub.list_daily_papers(date="2025-03-18", limit=10)]
    second = [p.id for p in hub.list_daily_papers(date="2025-03-18", limit=10, p=1)]
    assert len(second) == 10 and not set(first) & set(second)
    trending = list(hub.list_daily_papers(date="2024-10-25", sort="trending"))
    newest = list(hub.list_daily_papers(date="2024-10-25", sort="publishedAt"))
    assert [p.id for p in newest] == ["2410.16251", "2410.18533", "2410.17243"] and len(trending) == 3
