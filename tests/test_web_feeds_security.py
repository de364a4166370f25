"""Feeds that feed readers accept, and output that is escaped everywhere with security headers on."""

from __future__ import annotations

import json

import feedparser
import pytest

from conftest import client_for
from dailypapers.ingest.run import IngestJob
from dailypapers.store.engine import Store

EVIL_TITLE = "<script>alert(1)</script> & <b>bold</b>"
EVIL_ABSTRACT = "We show a < b & c, with $x<y$ and $$\\frac{a}{b}$$.\n</textarea><img src=x onerror=alert(2)> \"quoted\""


@pytest.fixture(scope="module")
def client(shared_site, tmp_path_factory):
    path = tmp_path_factory.mktemp("evil") / "evil.jsonl"
    path.write_text(
        json.dumps({"id": "2503.99999", "title": EVIL_TITLE, "authors": ["<i>Mallory</i>", "Bob & Eve"],
                    "categories": ["cs.CL"], "comment": "<script>", "abstract": EVIL_ABSTRACT, "listed": "2025-03-24"}) + "\n"
    )
    store = Store(shared_site)
    IngestJob(store).run([str(path)])
    store.dispose()
    with client_for(shared_site) as c:
        yield c


@pytest.mark.parametrize("path", ["/feeds/daily.atom", "/feeds/daily.rss", "/feeds/trending.atom", "/feeds/trending.rss",
                                  "/feeds/category/cs.CL.atom", "/feeds/category/cs.CV.rss"])
def test_feeds_are_valid(client, path):
    r = client.get(path)
    assert r.status_code == 200
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)) and all(i.startswith("http://testserver/papers/") for i in ids)
    assert all(e.get("updated_parsed") or e.get("published_parsed") for e in parsed.entries)


def test_feed_ids_are_stable_and_dates_right(client):
    first = feedparser.parse(client.get("/feeds/daily.atom").content)
    again = feedparser.parse(client.get("/feeds/daily.atom").content)
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    hf = feedparser.parse(client.get("/feeds/category/cs.CL.atom").content)
    assert all("cs.CL" in [t.term for t in e.tags] for e in hf.entries)
    entry = next(e for e in first.entries if e.id.endswith("/2503.99999"))
    assert entry.title == EVIL_TITLE  # text, exactly as written
    assert entry.updated.startswith("2025-03-24")
    assert client.get("/feeds/category/not a cat.atom").status_code == 404
    assert client.get("/feeds/daily.json").status_code == 404


def test_titles_and_abstracts_are_text_everywhere(client):
    page = client.get("/papers/2503.99999").text
    for raw in ("<script>alert(1)", "<img src=x", "<b>bold</b>", "<i>Mallory</i>", "</textarea><img"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "a &lt; b &amp; c, with $x&lt;y$" in page and "&lt;i&gt;Mallory&lt;/i&gt;" in page
    day = client.get("/date/2025-03-24").text
    assert "<script>alert(1)" not in day and "&lt;script&gt;alert(1)&lt;/script&gt;" in day
    api = client.get("/api/papers/2503.99999").json()
    assert api["title"] == EVIL_TITLE and api["authors"][0]["name"] == "<i>Mallory</i>"
    assert client.get("/api/papers/2503.99999").headers["content-type"].startswith("application/json")


def test_security_headers(client):
    for path in ("/", "/papers/2503.99999", "/api/daily_papers", "/feeds/daily.atom", "/login", "/nowhere"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] and r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in client.get("/").text  # every script is a file


def test_errors_never_leak_tracebacks(client):
    r = client.get("/papers/" + "9" * 300)
    assert r.status_code == 404 and "Traceback" not in r.text
    assert client.get("/api/daily_papers?limit=abc").status_code == 400
