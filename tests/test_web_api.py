"""The JSON API, and Hugging Face's own client reading it from a real server."""

from __future__ import annotations

import pytest

from conftest import client_for
from webhelp import live_server


@pytest.fixture(scope="module")
def client(shared_site):
    with client_for(shared_site) as c:
        yield c


def test_daily_papers_shape(client):
    items = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    assert [i["paper"]["id"] for i in items] == ["2410.16251", "2410.18533", "2410.17243"]  # newest submission first
    item = next(i for i in items if i["paper"]["id"] == "2410.17243")
    paper = item["paper"]
    assert paper["title"].startswith("Breaking the Memory Barrier") and paper["summary"].startswith("Contrastive loss")
    assert paper["authors"][0]["name"] == "Zesen Cheng" and paper["upvotes"] == 64
    assert paper["publishedAt"] == "2024-10-22T17:59:30.000Z"
    assert item["publishedAt"] == "2024-10-25T00:57:09.392Z" and item["numComments"] == 3
    assert item["title"] == paper["title"] and item["submittedBy"]["name"] == paper["submittedOnDailyBy"]["name"]


def test_daily_papers_periods_sorting_paging(client, listing_subset):
    latest = client.get("/api/daily_papers").json()
    assert {i["paper"]["id"] for i in latest} and len(latest) == 50
    week = client.get("/api/daily_papers", params={"week": "2025-W12", "limit": 100, "p": 0}).json()
    assert len(week) == 100
    month_first = client.get("/api/daily_papers", params={"month": "2025-03", "limit": 100}).json()
    month_second = client.get("/api/daily_papers", params={"month": "2025-03", "limit": 100, "p": 1}).json()
    assert not {i["paper"]["id"] for i in month_first} & {i["paper"]["id"] for i in month_second}
    assert client.get("/api/daily_papers", params={"date": "2025-03-18", "p": 99}).json() == []
    trending = client.get("/api/daily_papers", params={"date": "2024-10-25", "sort": "trending"}).json()
    assert [i["paper"]["id"] for i in trending] == ["2410.17243", "2410.16251", "2410.18533"]


@pytest.mark.parametrize(
    "params",
    [{"date": "2024-13-01"}, {"date": "yesterday"}, {"week": "2025-12"}, {"month": "2025-1"}, {"limit": 101}, {"limit": 0},
     {"sort": "upvotes"}, {"p": -1}, {"p": "x"}, {"date": "2025-03-18", "week": "2025-W12"}],
)
def test_daily_papers_rejects_bad_parameters(client, params):
    r = client.get("/api/daily_papers", params=params)
    assert r.status_code == 400 and r.json()["error"]


def test_paper_by_id(client):
    body = client.get("/api/papers/2410.17243").json()
    assert body["id"] == "2410.17243" and body["upvotes"] == 64 and body["numComments"] == 3
    assert client.get("/api/papers/2410.17243v2").json()["id"] == "2410.17243"
    missing = client.get("/api/papers/2999.00001")
    assert missing.status_code == 404 and "no paper" in missing.json()["error"]
    assert client.get("/api/papers/nonsense").status_code == 404


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert "/api/daily_papers" in spec["paths"] and "/api/papers/{arxiv_id}" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "<script>" not in docs.text


@pytest.fixture(scope="module")
def live(shared_site):
    with live_server(shared_site) as base:
        yield base


def test_huggingface_hub_reads_our_api(live):
    from huggingface_hub import HfApi

    api = HfApi(endpoint=live, token=False)
    daily = list(api.list_daily_papers(date="2024-10-25"))
    assert {p.id for p in daily} == {"2410.17243", "2410.16251", "2410.18533"}
    first = next(p for p in daily if p.id == "2410.17243")
    assert first.title.startswith("Breaking the Memory Barrier") and first.upvotes == 64
    assert first.authors[0].name == "Zesen Cheng" and first.comments == 3
    assert first.published_at.isoformat().startswith("2024-10-22T17:59:30")
    assert first.submitted_at.isoformat().startswith("2024-10-25T00:57:09")
    assert first.submitted_by.username
    week = list(api.list_daily_papers(week="2025-W12", limit=10, p=1))
    assert len(week) == 10
    info = api.paper_info("2410.16251")
    assert info.id == "2410.16251" and info.upvotes == 41 and info.title.startswith("Can Knowledge Editing")
    assert info.summary and info.authors
    assert api.read_paper("2410.16251").startswith("# Can Knowledge Editing")
