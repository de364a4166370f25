"""Search and similar papers through the site: the page, the JSON API, Hugging Face's client."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from support import client_fixture, load_site_data, site_settings
from webhelp import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory, listing_subset):
    # Full text only here (fast); the semantic side has its own tests and the cluster test.
    tmp = tmp_path_factory.mktemp("search-site")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp, search_semantic=False)
    load_site_data(settings, listing_subset)
    return settings


client = client_fixture("site")


def test_search_page_snippets_facets_paging(client):
    r = client.get("/search", params={"q": "diffusion"})
    assert r.status_code == 200
    html = r.text
    assert "<mark>" in html.lower() and "results in" in html
    cards = re.findall(r'<h3 class="card-title"><a href="/papers/([^"]+)">', html)
    assert len(cards) == 20
    assert "Categories" in html and "Months" in html and "cs.CV" in html
    page2 = client.get("/search", params={"q": "diffusion", "page": 2}).text
    cards2 = re.findall(r'<h3 class="card-title"><a href="/papers/([^"]+)">', page2)
    assert cards2 and not set(cards) & set(cards2)
    assert 'rel="prev"' in page2


def test_search_filters_and_syntax(client):
    html = client.get("/search", params={"q": "cat:cs.CL language", "code": "1", "sort": "date"}).text
    cards = re.findall(r'<article class="card">(.*?)</article>', html, re.S)
    assert cards and all("cs.CL" in c and 'class="badge code"' in c for c in cards)
    empty = client.get("/search", params={"q": "author:Nobody-At-All-Xyz"}).text
    assert "Nothing matches" in empty


@pytest.mark.parametrize("q", ["", "(((", '"unbalanced', "x" * 10_000, ":*?()[]{}^~!\\", "author:", "cat:"])
def test_search_never_fails_on_odd_text(client, q):
    r = client.get("/search", params={"q": q})
    assert r.status_code in (200, 400) and "Traceback" not in r.text
    api = client.get("/api/papers/search", params={"q": q})
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert api.json()["error"]


def test_search_escapes_what_it_highlights(client, site):
    import json

    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store.engine import Store

    path = site.data_dir.parent / "evil.jsonl"
    path.write_text(json.dumps({"id": "2503.99997", "title": "Zebrafish <script>alert(1)</script> detection", "authors": ["A"],
                                "categories": ["cs.CV"], "comment": None, "abstract": "Zebrafish & <img src=x onerror=alert(2)> $a<b$",
                                "listed": "2025-03-24"}) + "\n")
    store = Store(site)
    ingest_job(store).run([str(path)])
    store.dispose()
    html = client.get("/search", params={"q": "zebrafish"}).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "<mark>Zebrafish</mark>" in html


def test_api_search_is_hf_shaped(client):
    items = client.get("/api/papers/search", params={"q": "segmentation", "limit": 5}).json()
    assert 1 <= len(items) <= 5
    item = items[0]
    assert item["paper"]["id"] and item["title"] == item["paper"]["title"] and item["summary"]
    assert isinstance(item["paper"]["authors"], list) and "upvotes" in item["paper"]
    assert client.get("/api/papers/search", params={"q": "x", "limit": 0}).status_code == 400


def test_similar_on_the_paper_page_and_api(client):
    first = client.get("/api/papers/search", params={"q": "segmentation", "limit": 1}).json()[0]["paper"]["id"]
    similar = client.get(f"/api/papers/{first}/similar").json()
    assert similar and first not in [s["id"] for s in similar] and all("score" in s for s in similar)
    page = client.get(f"/papers/{first}").text
    assert "Similar papers" in page
    assert similar[0]["id"] in page
    assert client.get("/api/papers/2999.00001/similar").status_code == 404


def test_huggingface_hub_list_papers(site):
    from huggingface_hub import HfApi

    with live_server(site) as base:
        papers = list(HfApi(endpoint=base, token=False).list_papers(query="point cloud", limit=5))
    assert papers and all(p.id and p.title for p in papers)
    assert any("point" in (p.title + (p.summary or "")).lower() for p in papers)


CARD = re.compile(r'<h3 class="card-title"><a href="/papers/([^"]+)">')


@pytest.mark.parametrize(
    "q, target",
    [
        ("2503.16655", "2503.16655"),
        (" arXiv:2503.16655v2 ", "2503.16655"),
        ("https://arxiv.org/abs/2503.16655", "2503.16655"),
        ("arxiv.org/pdf/2503.16655v1", "2503.16655"),
        ("https://arxiv.org/pdf/2503.16655.pdf", "2503.16655"),
        ("id:2503.16655", "2503.16655"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136"),
        ("2412.99999", "2412.99999"),  # not stored: its page queues the fetch
    ],
)
def test_a_query_that_is_an_arxiv_id_goes_to_its_page(client, q, target):
    r = client.get("/search", params={"q": q, "sort": "date"})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{target}"


def test_an_arxiv_id_with_words_searches_with_that_paper_first(client):
    r = client.get("/search", params={"q": "2503.16655 gaussian splatting"})
    cards = CARD.findall(r.text)
    assert r.status_code == 200 and cards[0] == "2503.16655" and len(cards) == 20 and cards.count("2503.16655") == 1
    for q in ("arXiv:2503.16655", "https://arxiv.org/abs/2503.16655v1"):
        items = client.get("/api/papers/search", params={"q": q}).json()
        assert [i["paper"]["id"] for i in items] == ["2503.16655"]
    items = client.get("/api/papers/search", params={"q": "https://arxiv.org/pdf/2503.16655.pdf segmentation"}).json()
    assert items[0]["paper"]["id"] == "2503.16655" and len(items) > 1


def test_author_names_on_the_page(client):
    assert CARD.findall(client.get("/search", params={"q": "Andre Freitas"}).text) == ["2503.16655"]
    assert CARD.findall(client.get("/search", params={"q": "au:andre freitas"}).text)[0] == "2503.16655"
    assert set(CARD.findall(client.get("/search", params={"q": "V. M. Patel"}).text)) == {"2503.14485", "2503.14503"}
    assert set(CARD.findall(client.get("/search", params={"q": 'au:"Patel, V."'}).text)) == {"2503.14485", "2503.14503"}
    html = client.get("/search", params={"q": "Gaussian splatting -au:Niessner ANDNOT ti:(editable OR traversal)"}).text
    cards = CARD.findall(html)
    assert cards and not {"2503.12552", "2503.12284"} & set(cards)


def test_the_search_page_documents_the_query_language(client):
    html = client.get("/search").text
    for example in ("ti:", "au:", "abs:", "cat:", "ANDNOT", "OR", "-word", "2503.11731"):
        assert example in html, example


SOUP = ["AND", "OR", "ANDNOT", "NOT", "(", ")", "-", '"', "ti:", "au:", "abs:", "cat:", "co:", "all:", "id:", "author:", "cs.CL",
        "cs", "2503.16655", "arXiv:2503.16655v2", "hep-th/9901001", "V.", "Patel,", "André", "ß", "gaussian", "-splatting",
        '-"neural field"', "-au:Patel", "*", ":", "\\", "%", "&", "#", "?", "/", "\x00", "🚀"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200),
    st.lists(st.one_of(st.sampled_from(SOUP), st.text(max_size=3)), max_size=25).map(" ".join),
))
@example(q="a" * 50 + " _")  # words that cannot be indexed: a 500 before
def test_any_query_gets_an_answer_never_a_server_error(client, q):
    page = client.get("/search", params={"q": q})
    assert page.status_code in (200, 303, 400), (q, page.status_code)
    api = client.get("/api/papers/search", params={"q": q})
    assert api.status_code in (200, 400), (q, api.status_code)
    if api.status_code == 400:
        assert api.json()["error"]
