"""HTTP as caches, feed readers and other sites' scripts use it: validators and 304s on every read of
the API and feeds (and the pages), gzip for larger answers, read-only CORS on the API and feeds."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json
import time

import pytest

from support import client_for, feature_all_listed
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store.engine import Store
from webhelp import log_in, make_user, token_of

READS = [
    "/feeds/daily.atom",
    "/feeds/trending.rss",
    "/feeds/category/cs.CV.atom",
    "/api/daily_papers",
    "/api/daily_papers?date=2025-03-18&limit=5",
    "/api/papers/2503.11677",
    "/api/papers/search?q=vision",
    "/api/papers/2503.11677/similar",
    "/",
    "/papers/2503.11677",
]
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}
ORIGIN = "https://reader.example.org"


def settled(client):
    """Last-Modified is left out in the second the content changed or the process started (HTTP
    dates count whole seconds): let that second pass."""
    time.sleep(1.05)
    return client


@pytest.fixture(scope="module")
def client(shared_site):
    with client_for(shared_site) as c:
        yield settled(c)


def _date(header: str) -> dt.datetime:
    return email.utils.parsedate_to_datetime(header)


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)


@pytest.mark.parametrize("path", READS)
def test_validators_and_not_modified(client, path):
    r = client.get(path, headers=IDENTITY)
    assert r.status_code == 200
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert etag.startswith('W/"') and _date(modified) <= dt.datetime.now(dt.UTC)
    assert client.get(path, headers=IDENTITY).headers["etag"] == etag  # derived from the content: stable
    # If-None-Match: the tag, its strong form, in a list, or any tag at all.
    for tags in (etag, etag.removeprefix("W/"), f'"other", {etag}', f'W/"a",{etag} , "b"', "*"):
        again = client.get(path, headers={"If-None-Match": tags})
        assert again.status_code == 304, tags
        assert again.content == b"" and again.headers["etag"] == etag and again.headers["last-modified"] == modified
        assert "Cookie" in again.headers["vary"] and again.headers["cache-control"] == r.headers["cache-control"]
    assert client.get(path, headers={"If-None-Match": '"other", W/"tags"'}).status_code == 200
    # If-Modified-Since, unless If-None-Match is there too (it wins).
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    later = _http_date(_date(modified) + dt.timedelta(hours=1))
    assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
    earlier = _http_date(_date(modified) - dt.timedelta(seconds=1))
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200
    assert client.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200
    head = client.head(path, headers={"If-None-Match": etag})
    assert head.status_code == 304 and head.headers["etag"] == etag


def test_errors_and_posts_carry_no_validators(client):
    for path in ("/api/papers/2501.00000", "/feeds/category/cs.XX.atom", "/api/daily_papers?limit=0"):
        r = client.get(path, headers={"If-None-Match": "*"})
        assert r.status_code in (400, 404) and "etag" not in r.headers


def test_a_change_changes_the_validators(fresh_site, tmp_path):
    with client_for(fresh_site) as c:
        c.app.state.site.cache.check_every = 0  # see the store's change at once
        first = {p: settled(c).get(p) for p in ("/api/daily_papers", "/feeds/daily.atom")}
        record = tmp_path / "new.jsonl"
        record.write_text(json.dumps({"id": "2503.99990", "title": "A new paper", "authors": ["Ann Other"],
                                      "categories": ["cs.CL"], "abstract": "New.", "listed": "2025-03-24"}) + "\n")
        store = Store(fresh_site)
        ingest_job(store).run([str(record)])
        feature_all_listed(store)  # featured: the feed and the API show it
        store.dispose()
        settled(c)
        for path, before in first.items():
            now = c.get(path, headers={"If-None-Match": before.headers["etag"]})
            assert now.status_code == 200 and "2503.99990" in now.text
            assert now.headers["etag"] != before.headers["etag"]
            assert _date(now.headers["last-modified"]) > _date(before.headers["last-modified"])
            assert c.get(path, headers={"If-Modified-Since": before.headers["last-modified"]}).status_code == 200


def test_signed_in_answers_are_private(fresh_site):
    make_user(fresh_site)
    with client_for(fresh_site) as c:
        settled(c)
        anonymous = {p: c.get(p) for p in ("/", "/api/daily_papers")}
        for r in anonymous.values():
            assert "Cookie" in r.headers["vary"] and "private" not in r.headers["cache-control"]
        log_in(c)
        before = anonymous["/"]
        page = c.get("/", headers={"If-None-Match": before.headers["etag"], "If-Modified-Since": before.headers["last-modified"]})
        assert page.status_code == 200 and "alice" in page.text  # never the anonymous copy
        assert page.headers["etag"] != before.headers["etag"]
        before = anonymous["/api/daily_papers"]
        api = c.get("/api/daily_papers", headers={"If-Modified-Since": before.headers["last-modified"]})
        assert api.status_code == 200  # a personal answer is validated by its tag alone
        assert api.headers["etag"] == before.headers["etag"]  # the API answers everyone alike
        for r in (page, api):
            assert "private" in r.headers["cache-control"] and "Cookie" in r.headers["vary"]
            assert "last-modified" not in r.headers
            again = c.get(r.url.path, headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304 and "private" in again.headers["cache-control"]
    # A page holding a CSRF token is personal even without an account.
    with client_for(fresh_site) as c:
        r = c.get("/login")
        assert "private" in r.headers.get("cache-control", "") or "no-store" in r.headers.get("cache-control", "")


def test_gzip_over_one_kilobyte(client):
    for path in ("/", "/api/daily_papers", "/feeds/daily.atom", "/static/app.css"):
        plain = client.get(path, headers=IDENTITY)
        packed = client.get(path, headers=GZIP)
        assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip", path
        assert packed.content == plain.content  # httpx decodes it
        assert int(packed.headers["content-length"]) < len(plain.content) / 3
        for r in (plain, packed):
            assert r.headers["vary"].count("Accept-Encoding") == 1
            assert r.headers["etag"].startswith('W/"')  # one tag for both encodings, so weak
        again = client.get(path, headers={**GZIP, "If-None-Match": packed.headers["etag"]})
        assert again.status_code == 304 and "content-encoding" not in again.headers
        assert path.startswith("/static/") or again.headers["vary"] == packed.headers["vary"]
    small = client.get("/api/papers/search?q=zzzzqqxx", headers=GZIP)
    assert small.json() == [] and "content-encoding" not in small.headers
    # Fonts are compressed already.
    font = client.get("/static/vendor/katex/dist/fonts/KaTeX_Main-Regular.woff2", headers=GZIP)
    assert font.status_code == 200 and "content-encoding" not in font.headers
    assert font.headers["content-type"] == "font/woff2"


def test_gzip_body_is_gzip(shared_site):
    """What travels on the wire: read without httpx's decoding."""
    with client_for(shared_site) as c:
        with c.stream("GET", "/api/daily_papers", headers=GZIP) as r:
            raw = b"".join(r.iter_raw())
        assert json.loads(gzip.decompress(raw)) == c.get("/api/daily_papers").json()


READ_ONLY = ["/api/daily_papers", "/api/papers/2503.11677", "/api/papers/search?q=vision", "/feeds/daily.rss",
             "/feeds/category/cs.CL.atom", "/openapi.json"]


@pytest.mark.parametrize("path", READ_ONLY)
def test_cors_grants_reads(client, path):
    r = client.get(path, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert "ETag" in r.headers["access-control-expose-headers"]
    head = client.head(path, headers={"Origin": ORIGIN})
    assert head.status_code == 200 and head.headers["access-control-allow-origin"] == "*" and head.content == b""
    assert head.headers["content-length"] == r.headers["content-length"]
    if "etag" in r.headers:
        cached = client.get(path, headers={"Origin": ORIGIN, "If-None-Match": r.headers["etag"]})
        assert cached.status_code == 304 and cached.headers["access-control-allow-origin"] == "*"
    pre = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                        "Access-Control-Request-Headers": "if-none-match"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    assert set(pre.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert "if-none-match" in pre.headers["access-control-allow-headers"].lower()


def test_cors_errors_readable_too(client):
    r = client.get("/api/papers/2501.00000", headers={"Origin": ORIGIN})
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "*"


def test_no_cors_for_writes_or_pages(fresh_site):
    make_user(fresh_site)
    with client_for(fresh_site) as c:
        for method in ("POST", "DELETE", "PUT"):
            pre = c.options("/api/papers/2503.11677/upvote", headers={"Origin": ORIGIN, "Access-Control-Request-Method": method})
            assert "access-control-allow-origin" not in pre.headers, method
        pre = c.options("/api/subscriptions", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers
        log_in(c)
        token = token_of(c, "/submit")
        vote = c.post("/api/papers/2503.11677/upvote", headers={"Origin": ORIGIN, "x-csrftoken": token})
        assert vote.status_code < 400 and "access-control-allow-origin" not in vote.headers
        for path in ("/", "/papers/2503.11677", "/submit", "/static/app.css"):
            r = c.get(path, headers={"Origin": ORIGIN})
            assert r.status_code == 200 and "access-control-allow-origin" not in r.headers, path
            pre = c.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
            assert "access-control-allow-origin" not in pre.headers, path


def test_the_rules_themselves():
    from dailypapers.web import httpcache

    assert httpcache.last_modified(1000.5, now=1000.9) is None  # a second change may still come this second
    assert httpcache.last_modified(1000.5, now=1001.0) == "Thu, 01 Jan 1970 00:16:40 GMT"
    assert httpcache.last_modified(None) is None
    tag = httpcache.etag_of(b"body")
    assert tag.startswith('W/"') and tag != httpcache.etag_of(b"body ")
    assert httpcache.etag_matches(f'"x", {tag.removeprefix("W/")}', tag) and httpcache.etag_matches(" * ", tag)
    assert not httpcache.etag_matches(tag[:-2] + '"', tag) and not httpcache.etag_matches("", tag)
    lm = "Thu, 01 Jan 1970 00:16:40 GMT"
    assert httpcache.not_modified({"if-modified-since": lm}, tag, lm)
    assert not httpcache.not_modified({"if-modified-since": lm}, tag, None)  # no date given, none compared
    assert not httpcache.not_modified({"if-none-match": '"x"', "if-modified-since": lm}, tag, lm)
    assert not httpcache.not_modified({"if-modified-since": "Thu, 01 Jan 1970 00:16:39 GMT"}, tag, lm)
    assert not httpcache.not_modified({"if-modified-since": "yesterday"}, tag, lm)
