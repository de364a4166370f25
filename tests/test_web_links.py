"""No URL the site gives out leads to a 404: a crawler follows every same-site link and source on the
pages a few hops from /, and the site URLs inside the API's JSON. Members and Hugging Face submitters
get generated avatars and a page of their submissions; the site has a favicon; counts are
pluralized properly."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest

from support import client_for, feature_all_listed, site_settings
from webhelp import log_in, make_user, token_of

SITE = "http://testserver"
LINK = re.compile(r'\b(?:href|src)="([^"]*)"')


def _same_site(base: str, raw: str) -> str | None:
    url = urljoin(base, html.unescape(raw))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _kind(path: str) -> str:
    """What sort of page a URL is, so the crawl expands a few of each sort rather than every paper."""
    parts = urlsplit(path)
    segments = parts.path.strip("/").split("/")
    shape = "/" + "/".join([segments[0]] + ["*"] * (len(segments) - 1))
    keys = sorted(k.split("=", 1)[0] for k in parts.query.split("&") if k)
    return shape + ("?" + "&".join(keys) if keys else "")


def crawl(client, seeds: list[str], *, hops: int = 3, per_kind: int = 5, requests_per_kind: int = 40) -> dict[str, int]:
    """Status of the same-site URLs found on the pages within `hops` of the seeds, in the order
    found: at most `requests_per_kind` URLs of each kind are requested (the first papers of each
    page, not all 1,100), and the links of at most `per_kind` pages of each kind are followed."""
    status: dict[str, int] = {}
    found_on: dict[str, str] = {}
    expanded: Counter = Counter()
    requested: Counter = Counter()
    queue = deque((s, 0) for s in seeds)
    while queue:
        url, depth = queue.popleft()
        if url in status or requested[_kind(url)] >= requests_per_kind:
            continue
        requested[_kind(url)] += 1
        r = client.get(url)
        status[url] = r.status_code
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html") or depth >= hops:
            continue
        if expanded[_kind(url)] >= per_kind:
            continue
        expanded[_kind(url)] += 1
        for raw in LINK.findall(r.text):
            target = _same_site(SITE + url, raw)
            if target and target not in status:
                found_on.setdefault(target, url)
                queue.append((target, depth + 1))
    crawl.found_on = found_on
    return status


def json_urls(value, key: str = "") -> list[tuple[str, str]]:
    """(key, URL) of every string in a JSON value that points at this site."""
    if isinstance(value, dict):
        return [u for k, v in value.items() for u in json_urls(v, k)]
    if isinstance(value, list):
        return [u for v in value for u in json_urls(v, key)]
    if isinstance(value, str) and (value.startswith("/") or value.startswith(SITE + "/")):
        return [(key, value.removeprefix(SITE))]
    return []


@pytest.fixture
def member_site(fresh_site):
    """The listing subset and the HF day, plus a member who commented and upvoted."""
    make_user(fresh_site, "alice")
    with client_for(fresh_site) as c:
        log_in(c)
        token = token_of(c, "/papers/2410.17243")
        assert c.post("/papers/2410.17243/comments", data={"body": "Nice $x^2$ result", "csrftoken": token}).status_code == 303
        assert c.post("/papers/2410.17243/upvote", data={"csrftoken": token}).status_code == 303
    return fresh_site


def test_no_link_on_any_page_leads_to_a_404(member_site):
    seeds = ["/", "/date/2024-10-25", "/favicon.ico"]  # the HF day lies several previous-day hops back
    with client_for(member_site) as anonymous:
        status = crawl(anonymous, seeds)
    with client_for(member_site) as member:
        log_in(member)
        status_member = crawl(member, ["/", "/date/2024-10-25", "/papers/2410.17243"])
    broken = {u: s for u, s in {**status, **status_member}.items() if s in (404, 500) or s >= 500}
    assert not broken, {u: (s, crawl.found_on.get(u)) for u, s in broken.items()}
    kinds = {_kind(u) for u in status}
    # The crawl saw the sorts of URL that matter (not just the home page).
    assert {"/papers/*", "/date/*", "/u/*", "/u/*/*", "/feeds/*/*", "/favicon.ico"} <= kinds, kinds
    assert any(k.startswith("/static/*") for k in kinds), kinds
    assert len(status) > 150


def test_site_urls_in_the_api_answers_exist(member_site):
    """Every URL inside the API's JSON that points at this site answers: among them the generated
    avatar of a member who featured a paper (Hugging Face submitters keep HF's avatar URL)."""
    import datetime as dt

    from dailypapers.store import daily as daily_store
    from dailypapers.store import papers as paper_store
    from dailypapers.store import users as user_store
    from dailypapers.store.engine import Store

    store = Store(member_site)
    with store.session() as session, session.begin():
        paper = paper_store.get(session, "2503.13111")
        alice = user_store.by_name(session, "alice")
        daily_store.add_submission(session, paper.id, dt.date(2025, 3, 21), alice["id"], dt.datetime(2025, 3, 21, 9))
    store.dispose()
    with client_for(member_site) as c:
        urls = []
        for path in ("/api/daily_papers", "/api/daily_papers?date=2024-10-25", "/api/papers/2410.17243",
                     "/api/papers/search?q=memory", "/api/daily_papers?week=2025-W12&limit=100",
                     "/api/daily_papers?submitter=alice", "/api/papers/2503.13111"):
            r = c.get(path)
            assert r.status_code == 200, path
            urls += [(k, u) for k, u in json_urls(r.json()) if k != "thumbnail"]
        assert any(k == "avatarUrl" and u.startswith("/u/alice/") for k, u in urls), urls
        broken = {u: c.get(u).status_code for _, u in set(urls)}
        assert all(s == 200 for s in broken.values()), {u: s for u, s in broken.items() if s != 200}


def test_avatars_are_generated_for_any_name(shared_site):
    with client_for(shared_site) as c:
        first = c.get("/u/ClownRat/avatar.svg")
        assert first.status_code == 200 and first.headers["content-type"].startswith("image/svg+xml")
        assert "max-age" in first.headers["cache-control"] and "public" in first.headers["cache-control"]
        assert c.get("/u/ClownRat/avatar.svg").content == first.content  # deterministic
        assert c.get("/u/clownrat/avatar.svg").content == first.content  # names are case-insensitive
        assert c.get("/u/canyuchen/avatar.svg").content != first.content
        svg = ET.fromstring(first.content)
        assert svg.tag.endswith("svg") and "C" in "".join(svg.itertext())
        two = ET.fromstring(c.get("/u/Zesen%20Cheng/avatar.svg").content)
        assert "".join(two.itertext()).strip() == "ZC"
        evil = c.get("/u/%3Cscript%3E%26%22x/avatar.svg")
        assert evil.status_code == 200
        tree = ET.fromstring(evil.content)  # well-formed: the initial is escaped
        assert "".join(tree.itertext()).strip() == "<"
        for body in (first.content, evil.content):
            assert b"<script" not in body.lower() and not re.search(rb"\son\w+=", body)
        assert "script-src 'self'" in evil.headers["content-security-policy"]
        assert c.get("/u/" + "x" * 101 + "/avatar.svg").status_code == 404


def test_hugging_face_submitters_have_pages_and_cards_link_them(shared_site):
    with client_for(shared_site) as c:
        day = c.get("/date/2024-10-25").text
        assert 'href="/u/ClownRat"' in day and 'src="/u/ClownRat/avatar.svg"' in day
        page = c.get("/u/ClownRat")
        assert page.status_code == 200
        assert 'href="/papers/2410.17243"' in page.text
        assert "Hugging Face" in page.text and 'src="/u/ClownRat/avatar.svg"' in page.text
        assert c.get("/u/nobody-here").status_code == 404


def test_favicon(shared_site):
    with client_for(shared_site) as c:
        ico = c.get("/favicon.ico")
        assert ico.status_code == 200 and ico.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
        assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
        icon = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', c.get("/").text)
        assert icon and c.get(icon.group(1)).status_code == 200


def test_counts_are_pluralized(db_url, tmp_path, listing_subset):
    """With exactly one upvote, /stats says "1 upvote", and so do its chart's tooltips."""
    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store.engine import Store

    settings = site_settings(db_url, tmp_path)
    store = Store(settings)
    ingest_job(store).run([str(listing_subset)])
    feature_all_listed(store)  # the daily feed shows them
    store.dispose()
    make_user(settings, "alice")
    with client_for(settings) as c:
        log_in(c)
        paper = re.search(r'href="/papers/([^"#]+)"', c.get("/").text).group(1)
        assert c.post(f"/papers/{paper}/upvote", data={"csrftoken": token_of(c, "/")}).status_code == 303
        stats = c.get("/stats").text
        assert "1 upvote," in stats and "1 upvotes" not in stats and "1 member." in stats
        assert ": 1 upvote<" in stats
        assert "1,100 papers over" in stats  # counts of thousands are written as people read them
