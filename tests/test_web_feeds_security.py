"""Feeds that feed readers accept, and output that is escaped everywhere with security headers on."""

from __future__ import annotations

import datetime as dt
import email.utils
import json

import feedparser
import lxml.html
import pytest
from lxml import etree

from support import client_for, feature_all_listed, need_data, site_settings
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store.engine import Store

EVIL_TITLE = "<script>alert(1)</script> & <b>bold</b>"
EVIL_ABSTRACT = "We show a < b & c, with $x<y$ and $$\\frac{a}{b}$$.\n</textarea><img src=x onerror=alert(2)> \"quoted\""
# What reasoning-model papers quote: tags, entities, comparisons, LaTeX, and the end of a CDATA section.
THINK_ABSTRACT = ("Models emit <think>step by step</think> then <b>answer</b>; we keep &amp; as typed,\n"
                  "show that a < b and b > c, $\\mathcal{O}(n^2)$ with \\textbf{bold}, and a lone ]]> stays.")


@pytest.fixture(scope="module")
def client(shared_site, tmp_path_factory):
    path = tmp_path_factory.mktemp("evil") / "evil.jsonl"
    path.write_text(
        json.dumps({"id": "2503.99999", "title": EVIL_TITLE, "authors": ["<i>Mallory</i>", "Bob & Eve"],
                    "categories": ["cs.CL"], "comment": "<script>", "abstract": EVIL_ABSTRACT, "listed": "2025-03-24"}) + "\n"
        + json.dumps({"id": "2503.99998", "title": "Thinking <think> tags", "authors": ["Ada Lovelace"],
                      "categories": ["cs.CL", "math.NA"], "abstract": THINK_ABSTRACT, "listed": "2025-03-24"}) + "\n"
    )
    store = Store(shared_site)
    ingest_job(store).run([str(path)])
    feature_all_listed(store)  # the feeds and pages under test show featured papers
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


ATOM = "{http://www.w3.org/2005/Atom}"


def _rfc3339(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def atom_problems(xml: bytes) -> list[str]:
    """The rules of RFC 4287 that feed readers rely on, checked on the XML itself."""
    feed = etree.fromstring(xml)
    problems = []

    def one(parent, tag: str, where: str):
        found = parent.findall(ATOM + tag)
        if len(found) != 1:
            problems.append(f"{where}: {len(found)} <{tag}>")
        return found[0] if found else None

    for tag in ("id", "title", "updated"):
        one(feed, tag, "feed")
    _rfc3339(feed.findtext(ATOM + "updated"))
    feed_has_author = feed.find(ATOM + "author/" + ATOM + "name") is not None
    if len(feed.findall(ATOM + "link[@rel='self']")) != 1:
        problems.append("feed: no single self link")
    ids = []
    for n, entry in enumerate(feed.findall(ATOM + "entry")):
        where = f"entry {n}"
        for tag in ("id", "title", "updated"):
            one(entry, tag, where)
        ids.append(entry.findtext(ATOM + "id"))
        _rfc3339(entry.findtext(ATOM + "updated"))
        if entry.find(ATOM + "published") is not None:
            _rfc3339(entry.findtext(ATOM + "published"))
        if not feed_has_author and entry.find(ATOM + "author/" + ATOM + "name") is None:
            problems.append(f"{where}: no author, and the feed has none")
        links = entry.findall(ATOM + "link")
        if any(link.get("rel") is None for link in links):
            problems.append(f"{where}: a link without rel (readers take it for another alternate)")
        alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
        if len(alternates) != 1 or alternates[0].get("href") != ids[-1]:
            problems.append(f"{where}: alternates {[a.get('href') for a in alternates]}")
    if len(ids) != len(set(ids)):
        problems.append("entry ids repeat")
    return problems


@pytest.mark.parametrize("path", ["/feeds/daily.atom", "/feeds/trending.atom", "/feeds/category/cs.CL.atom",
                                  "/feeds/category/cs.atom"])
def test_atom_follows_the_rules(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert atom_problems(r.content) == []
    entries = feedparser.parse(r.content).entries
    assert entries
    for entry in entries:
        assert [link.rel for link in entry.links] == ["alternate", "related"]
        assert entry.link == entry.id and entry.links[1].href.startswith("https://arxiv.org/abs/")


def test_rss_follows_the_rules(client):
    channel = etree.fromstring(client.get("/feeds/daily.rss").content).find("channel")
    for tag in ("title", "link", "description"):
        assert channel.findtext(tag)
    assert channel.find("{http://www.w3.org/2005/Atom}link[@rel='self']").get("href") == "http://testserver/feeds/daily.rss"
    items = channel.findall("item")
    assert items
    for item in items:
        assert item.findtext("link") == item.findtext("guid") and item.find("guid").get("isPermaLink") == "true"
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None


def test_abstracts_come_back_intact(client):
    """No text lost: an RSS description is HTML, so the abstract is escaped into it; an Atom summary
    is text."""
    stored = client.get("/api/papers/2503.99998").json()["summary"]
    assert "<think>step by step</think>" in stored and "]]>" in stored and "&amp;" in stored
    rss = next(e for e in feedparser.parse(client.get("/feeds/daily.rss").content).entries if e.id.endswith("/2503.99998"))
    assert lxml.html.fragment_fromstring(rss.summary, create_parent="div").text_content() == stored
    atom = next(e for e in feedparser.parse(client.get("/feeds/daily.atom").content).entries if e.id.endswith("/2503.99998"))
    assert atom.summary_detail.type == "text/plain" and atom.summary == stored


@pytest.fixture
def hf_client(db_url, tmp_path):
    """A site holding only the three Hugging Face items of 2024-10-25: each with its own submission
    time on the daily feed and its own first arXiv submission."""
    settings = site_settings(db_url, tmp_path)
    store = Store(settings)
    ingest_job(store).run([str(need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json"))])
    store.dispose()
    with client_for(settings) as c:
        yield c


def _api_time(value: str) -> dt.datetime:
    return _rfc3339(value.replace("Z", "+00:00"))


def test_entries_carry_their_own_time(hf_client):
    """Atom: `updated` is when the paper was featured, `published` its first arXiv submission; RSS's
    one date, pubDate, is when it was featured (when it entered the feed). Each entry its own, in
    whole seconds."""
    api = {i["paper"]["id"]: i["paper"] for i in hf_client.get("/api/daily_papers?date=2024-10-25").json()}
    atom = feedparser.parse(hf_client.get("/feeds/daily.atom").content)
    assert len(atom.entries) == 3
    for entry in atom.entries:
        paper = api[entry.id.rsplit("/", 1)[1]]
        assert _rfc3339(entry.updated) == _api_time(paper["submittedOnDailyAt"]).replace(microsecond=0)
        assert _rfc3339(entry.published) == _api_time(paper["publishedAt"])
    updated = [_rfc3339(e.updated) for e in atom.entries]
    assert len(set(updated)) == 3 and _rfc3339(atom.feed.updated) == max(updated)
    assert updated == sorted(updated, reverse=True)  # newest featured first
    rss = feedparser.parse(hf_client.get("/feeds/daily.rss").content)
    for entry in rss.entries:
        paper = api[entry.id.rsplit("/", 1)[1]]
        featured = _api_time(paper["submittedOnDailyAt"]).replace(microsecond=0)
        assert email.utils.parsedate_to_datetime(entry.published) == featured


def test_listing_entries_are_dated_by_their_day(client):
    for entry in feedparser.parse(client.get("/feeds/category/cs.CV.atom").content).entries:
        paper = client.get("/api/papers/" + entry.id.rsplit("/papers/", 1)[1]).json()
        assert _rfc3339(entry.updated) == _api_time(paper["submittedOnDailyAt"])


def test_category_feeds(client):
    for unknown in ("cs.XX", "cs.xx", "nonsense", "xx.CL", "cs.CL.extra", "math.", "hep-th.CL"):
        assert client.get(f"/feeds/category/{unknown}.atom").status_code == 404, unknown
    # Names are case-insensitive: other spellings lead to arXiv's, for good.
    r = client.get("/feeds/category/CS.cl.rss")
    assert r.status_code == 301 and r.headers["location"] == "/feeds/category/cs.CL.rss"
    assert client.get("/feeds/category/COND-MAT.atom").headers["location"].endswith("/feeds/category/cond-mat.atom")
    # An archive's feed holds papers of all its categories.
    cs = feedparser.parse(client.get("/feeds/category/cs.atom").content)
    cs_cats = {t.term for e in cs.entries for t in e.tags}
    assert {"cs.CL", "cs.CV", "cs.AI"} <= cs_cats and all(any(t.term.startswith("cs.") for t in e.tags) for e in cs.entries)
    math = feedparser.parse(client.get("/feeds/category/math.atom").content)
    assert math.entries and all(any(t.term.startswith("math.") for t in e.tags) for e in math.entries)
    assert any(e.id.endswith("/2503.99998") for e in math.entries)
    assert "Mathematics" in math.feed.title
    for archive in ("hep-th", "cond-mat", "astro-ph", "q-bio"):
        r = client.get(f"/feeds/category/{archive}.rss")
        assert r.status_code == 200 and not feedparser.parse(r.content).bozo, archive


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
