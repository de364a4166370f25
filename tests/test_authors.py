"""Author pages (name variants folded to one page, co-authors, the JSON API), claims of authorship
(a member claims, a curator confirms, the author badge, the email rule, CSRF, rate limit), and
paper versions (the abstract's word diff, the feed's newer-version mark). SQLite and PostgreSQL,
through the site's HTTP interface over papers ingested from files."""

from __future__ import annotations

import contextlib
import json
import re

import pytest

from support import client_for, feature_all_listed, need_data, read_once, site_settings
from dailypapers.ingest.run import IngestJob
from dailypapers.personnames import author_key
from dailypapers.store import authors as author_store
from dailypapers.store import papers as paper_store
from dailypapers.store.engine import Store
from dailypapers.types import StoredVersion
from dailypapers.web.claims import vouching_rule
from dailypapers.web.versions import history, word_diff
from webhelp import csrf_from, log_in, make_user

EVIL_AUTHOR = "Jakob <b>Uszkoreit</b> & Co"
EVIL_TITLE = "Attention <script>x</script> & $\\alpha<\\beta$"
RECORDS = [
    ("2503.90101", "Attention Is All You Need, again", ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"], "2025-03-20"),
    ("2503.90102", "Sparse experts", ["A. Vaswani", "Noam Shazeer", "Łukasz Kaiser"], "2025-03-21"),
    ("2503.90103", EVIL_TITLE, ["ashish vaswani", EVIL_AUTHOR], "2025-03-22"),
    ("2503.90104", "Translation without Vaswani", ["André Martins", "Noam Shazeer"], "2025-03-22"),
]


def _listing(path, records) -> str:
    with open(path, "w") as f:
        for arxiv_id, title, authors, day in records:
            f.write(json.dumps({"id": arxiv_id, "title": title, "authors": authors, "categories": ["cs.CL"],
                                "comment": None, "abstract": f"The abstract of {title}.", "listed": day}) + "\n")
    return str(path)


def _ingest(settings, *paths) -> None:
    """Ingest the files; the papers they list are featured on their listing days too (by a
    curator's hand), so the feed pages show them."""
    store = Store(settings)
    IngestJob(store).run([str(p) for p in paths])
    feature_all_listed(store)
    store.dispose()


@pytest.fixture
def site(db_url, tmp_path):
    settings = site_settings(db_url, tmp_path, author_email_domains=["example.edu"], rate_limit_claim="3/hour")
    _ingest(settings, _listing(tmp_path / "papers.jsonl", RECORDS))
    return settings


@contextlib.contextmanager
def fresh_client(settings):
    """A client of a site whose page cache sees every change at once (claims and comments change
    what anonymous visitors are served)."""
    with client_for(settings) as c:
        c.app.state.site.cache.check_every = 0
        yield c


@pytest.fixture
def client(site):
    with fresh_client(site) as c:
        yield c


def _arxiv_ids(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'<h3 class="card-title"><a href="/papers/([^"]+)"', html)))


# --- names -------------------------------------------------------------------------------------


def test_author_key_folds_accents_initials_and_case():
    assert author_key("Ashish Vaswani") == author_key("A. Vaswani") == author_key("ashish vaswani") == "vaswani a"
    assert author_key("Vaswani, Ashish") == "vaswani a"
    assert author_key("Łukasz Kaiser") == author_key("Lukasz KAISER") == "kaiser l"
    assert author_key("André Martins") == author_key("Andre Martins")
    assert author_key("Noam Shazeer") != author_key("Niki Shazeer Parmar")
    assert author_key("Plato") == "plato" and author_key("&&") is None


def test_variants_of_a_name_reach_one_page(client):
    pages = [client.get(path) for path in ("/authors/Ashish%20Vaswani", "/authors/A.%20Vaswani", "/authors/ashish%20vaswani")]
    assert [p.status_code for p in pages] == [200, 200, 200]
    # newest first (the same arXiv month: by id), the same three papers on each
    assert {tuple(_arxiv_ids(p.text)) for p in pages} == {("2503.90103", "2503.90102", "2503.90101")}
    html = pages[1].text
    assert "Spellings folded into this page" in html
    for variant in ("Ashish Vaswani", "A. Vaswani", "ashish vaswani"):
        assert f'<span class="variant">{variant}</span>' in html
    assert "2503.90104" not in html  # "Vaswani" in a title is no author
    assert 'rel="canonical" href="http://testserver/authors/' in html
    kaiser = client.get("/authors/Lukasz%20Kaiser")
    assert kaiser.status_code == 200 and _arxiv_ids(kaiser.text) == ["2503.90102"] and "Łukasz Kaiser" in kaiser.text


def test_co_authors_most_frequent_first_and_linked(client):
    api = client.get("/api/authors/A. Vaswani").json()
    assert api["key"] == "vaswani a" and api["numPapers"] == 3
    assert api["name"] in ("Ashish Vaswani", "A. Vaswani", "ashish vaswani")
    assert [p["id"] for p in api["papers"]] == ["2503.90103", "2503.90102", "2503.90101"]
    names = [c["name"] for c in api["coauthors"]]
    assert names[0] == "Noam Shazeer" and api["coauthors"][0]["papers"] == 2
    assert set(names) == {"Noam Shazeer", "Niki Parmar", "Łukasz Kaiser", EVIL_AUTHOR}
    assert api["coauthors"][0]["url"] == "http://testserver/authors/Noam%20Shazeer"
    page = client.get("/authors/Ashish%20Vaswani").text
    assert '<a class="author" href="/authors/Noam%20Shazeer">Noam Shazeer</a> (2)' in page
    assert '<section class="cards grid">' in page and 'class="view-switch"' in page  # cards as on the feed
    shazeer = client.get("/api/authors/noam shazeer").json()
    assert shazeer["numPapers"] == 3 and shazeer["coauthors"][0]["name"] in ("Ashish Vaswani", "A. Vaswani", "ashish vaswani")
    assert shazeer["coauthors"][0]["papers"] == 2
    paged = client.get("/api/authors/Noam Shazeer?limit=2&p=1").json()
    assert [p["id"] for p in paged["papers"]] == ["2503.90101"]


def test_unknown_authors_are_404_page_and_json(client):
    assert client.get("/authors/Nobody%20Here").status_code == 404
    r = client.get("/api/authors/Nobody Here")
    assert r.status_code == 404 and "error" in r.json()
    assert client.get("/authors/%26%26").status_code == 404
    assert client.get("/api/authors/" + "x" * 400).status_code in (400, 404)


def test_names_and_titles_are_escaped(client):
    page = client.get("/authors/ashish%20vaswani").text
    assert "<b>Uszkoreit</b>" not in page and "Jakob &lt;b&gt;Uszkoreit&lt;/b&gt; &amp; Co" in page
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    evil = client.get("/authors/Jakob%20%3Cb%3EUszkoreit%3C%2Fb%3E%20%26%20Co")
    assert evil.status_code == 200 and _arxiv_ids(evil.text) == ["2503.90103"] and "<b>Uszkoreit" not in evil.text
    paper = client.get("/papers/2503.90103").text
    assert 'href="/authors/Jakob%20%3Cb%3EUszkoreit%3C%2Fb%3E%20%26%20Co"' in paper and "<b>Uszkoreit" not in paper


def test_cards_and_paper_page_link_authors(client):
    feed = client.get("/date/2025-03-20").text
    assert '<a class="author" href="/authors/Ashish%20Vaswani">Ashish Vaswani</a>' in feed
    paper = client.get("/papers/2503.90102").text
    assert '<a class="author" href="/authors/%C5%81ukasz%20Kaiser">Łukasz Kaiser</a>' in paper


def test_index_fills_papers_stored_around_ingest(site):
    store = Store(site)
    with store.session() as session, session.begin():
        session.execute(author_store.index.delete())
        assert author_store.fill_missing(session) == 4
        assert author_store.fill_missing(session) == 0
    with store.session() as session:
        pid = paper_store.existing(session, ["2503.90102"])["2503.90102"].id
        assert author_store.keys_of(session, [pid])[pid] == ["vaswani a", "shazeer n", "kaiser l"]
    store.dispose()


# --- claims ------------------------------------------------------------------------------------


def _claim(client, arxiv_id: str, position: int):
    token = csrf_from(client.get(f"/papers/{arxiv_id}").text)
    return client.post(f"/papers/{arxiv_id}/claim", data={"position": str(position), "csrftoken": token})


def test_claim_pending_then_confirmed_by_a_curator_with_the_author_badge(site):
    make_user(site, "alice")
    make_user(site, "bob")
    make_user(site, "curie", is_curator=True)
    with fresh_client(site) as alice, fresh_client(site) as bob, fresh_client(site) as curie, fresh_client(site) as anon:
        log_in(alice, "alice")
        log_in(bob, "bob")
        log_in(curie, "curie")
        r = _claim(alice, "2503.90101", 0)
        assert r.status_code == 303 and r.headers["location"] == "/papers/2503.90101#authors"
        assert "Your claim to be Ashish Vaswani waits for a curator" in alice.get("/papers/2503.90101").text
        for other in (bob, anon, curie):  # pending: the claimant's alone
            page = other.get("/papers/2503.90101").text
            assert "waits for a curator" not in page and 'class="claimed"' not in page
        assert bob.get("/claims").status_code == 403
        assert anon.get("/claims").status_code == 303
        queue = curie.get("/claims")
        assert queue.status_code == 200 and "alice" in queue.text and "Ashish Vaswani" in queue.text
        claim_id = re.search(r'action="/claims/(\d+)"', queue.text).group(1)
        token = csrf_from(queue.text)
        assert bob.post(f"/claims/{claim_id}", data={"decision": "confirm", "csrftoken": csrf_from(bob.get("/").text)}).status_code == 403
        assert curie.post(f"/claims/{claim_id}", data={"decision": "confirm"}).status_code == 403  # no CSRF token
        assert curie.post(f"/claims/{claim_id}", data={"decision": "confirm", "csrftoken": token}).status_code == 303
        assert "No claims wait" in curie.get("/claims").text
        mark = '<a class="claimed" href="/u/alice"'
        assert mark in anon.get("/papers/2503.90101").text
        assert mark in anon.get("/date/2025-03-20").text  # on its card too
        assert mark in anon.get("/authors/Ashish%20Vaswani").text
        assert "You are confirmed as Ashish Vaswani" in alice.get("/papers/2503.90101").text
        for member, words in ((alice, "I wrote this"), (bob, "I read this")):
            token = csrf_from(member.get("/papers/2503.90101").text)
            member.post("/papers/2503.90101/comments", data={"body": words, "csrftoken": token})
        page = anon.get("/papers/2503.90101").text
        badges = re.findall(r'<p class="comment-meta">(.*?)</p>', page, re.S)
        assert len(badges) == 2
        assert 'class="badge author"' in badges[0] and "/u/alice" in badges[0]
        assert 'class="badge author"' not in badges[1] and "/u/bob" in badges[1]
        # no badge on another paper's comments
        token = csrf_from(alice.get("/papers/2503.90102").text)
        alice.post("/papers/2503.90102/comments", data={"body": "elsewhere", "csrftoken": token})
        assert 'class="badge author"' not in anon.get("/papers/2503.90102").text
        # an author confirmed as alice is no longer offered, nor claimable by bob
        assert '<option value="0">' not in bob.get("/papers/2503.90101").text
        assert _claim(bob, "2503.90101", 0).status_code == 400


def test_curator_rejects_and_claims_are_not_repeated(site):
    make_user(site, "alice")
    make_user(site, "curie", is_curator=True)
    with fresh_client(site) as alice, fresh_client(site) as curie:
        log_in(alice, "alice")
        log_in(curie, "curie")
        assert _claim(alice, "2503.90102", 1).status_code == 303
        again = _claim(alice, "2503.90102", 2)
        assert again.status_code == 400 and "already" in again.text
        queue = curie.get("/claims").text
        claim_id = re.search(r'action="/claims/(\d+)"', queue).group(1)
        r = curie.post(f"/claims/{claim_id}", data={"decision": "reject", "csrftoken": csrf_from(queue)})
        assert r.status_code == 303
        assert "did not confirm your claim to be Noam Shazeer" in alice.get("/papers/2503.90102").text
        assert 'class="claimed"' not in curie.get("/papers/2503.90102").text
        bad = curie.post(f"/claims/{claim_id}", data={"decision": "maybe", "csrftoken": csrf_from(queue)})
        assert bad.status_code == 400


def test_claims_need_a_member_csrf_and_a_real_author(site, client):
    r = client.post("/papers/2503.90101/claim", data={"position": "0"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")  # no member, no cookie
    token = csrf_from(client.get("/login").text)
    r = client.post("/papers/2503.90101/claim", data={"position": "0", "csrftoken": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    make_user(site, "alice")
    log_in(client, "alice")
    assert "Are you an author of this paper?" in client.get("/papers/2503.90101").text
    assert client.post("/papers/2503.90101/claim", data={"position": "0"}).status_code == 403
    assert _claim(client, "2503.90101", 9).status_code == 400
    assert _claim(client, "2503.90101", -1).status_code == 400
    token = csrf_from(client.get("/papers/2503.90101").text)
    assert client.post("/papers/2503.90199/claim", data={"position": "0", "csrftoken": token}).status_code == 404
    from dailypapers.store import claims as claim_store

    store = Store(site)
    with store.session() as session:
        assert session.execute(claim_store.claims.select()).all() == []  # none of these stored a claim
    store.dispose()


def test_claims_are_rate_limited(site, client):
    make_user(site, "alice")
    log_in(client, "alice")
    codes = [_claim(client, aid, 1).status_code for aid in ("2503.90101", "2503.90102", "2503.90104", "2503.90103")]
    assert codes == [303, 303, 303, 429]


def test_a_verified_email_on_a_trusted_domain_confirms_at_once(site):
    store = Store(site)
    from dailypapers.store import users as user_store
    from dailypapers.web.security import hash_password

    with store.session() as session, session.begin():
        user_store.create(session, "carol", hash_password("correct horse battery"), email="carol@cs.example.edu")
        user_store.create(session, "dave", hash_password("correct horse battery"), email="dave@elsewhere.org")
    store.dispose()
    with fresh_client(site) as carol, fresh_client(site) as dave, fresh_client(site) as anon:
        log_in(carol, "carol")
        log_in(dave, "dave")
        assert _claim(carol, "2503.90104", 0).status_code == 303
        assert '<a class="claimed" href="/u/carol"' in anon.get("/papers/2503.90104").text
        assert _claim(dave, "2503.90101", 1).status_code == 303
        assert "waits for a curator" in dave.get("/papers/2503.90101").text


def test_vouching_rule():
    paper = ("https://nlp.uni.example/proj", "https://github.com/x/y")  # project page, code
    assert vouching_rule("me@uni.example", paper, []) == "email-domain"
    assert vouching_rule("me@nlp.uni.example", paper, []) == "email-domain"
    assert vouching_rule("me@other.example", paper, []) is None
    assert vouching_rule("me@github.com", paper, []) is None  # a shared host vouches for no one
    assert vouching_rule("me@github.com", ("https://github.com/me/repo",), []) is None
    assert vouching_rule(None, paper, ["uni.example"]) is None  # no verified address
    assert vouching_rule("me@lab.trusted.edu", (), ["trusted.edu"]) == "email-domain"
    assert vouching_rule("me@nottrusted.edu", (), ["trusted.edu"]) is None
    assert vouching_rule("me@uni.example", ("javascript:alert(1)",), []) is None


# --- versions ----------------------------------------------------------------------------------


def test_word_diff():
    assert word_diff("a b c", "a b c") == [("same", "a b c")]
    old, new = "We show that X holds in theory.", "We prove that X holds in practice."
    runs = word_diff(old, new)
    assert runs == [("same", "We "), ("del", "show "), ("ins", "prove "), ("same", "that X holds in "), ("del", "theory."), ("ins", "practice.")]
    assert "".join(t for k, t in runs if k != "ins") == old and "".join(t for k, t in runs if k != "del") == new
    views = history([
        StoredVersion(1, None, "T", None),
        StoredVersion(2, None, "T2", "x"),
        StoredVersion(3, None, "T2", "x"),
    ])
    assert views[1].diff is None and views[1].unknown == "v1" and views[1].title_changed
    assert views[2].diff == [] and not views[2].title_changed


def _api_versions(tmp_path, *, with_v1: bool = True):
    v1 = need_data("fixtures", "arxiv-api", "id_2104.12255v1_s0_m100_6ae69987ffe1.xml").read_text()
    entry = v1.index("<entry>")
    v2 = v1[:entry] + v1[entry:].replace("2104.12255v1</id>", "2104.12255v2</id>").replace(
        "<updated>2021-04-20T16:07:14Z</updated>", "<updated>2021-06-01T10:00:00Z</updated>", 1
    )
    start = v2.index("<summary>", entry) + len("<summary>")
    v2 = v2[:start] + "Revised &lt;with&gt; &amp; $x&lt;y$ care. " + v2[start:]  # XML: <with> & $x<y$
    paths = []
    if with_v1:
        (tmp_path / "v1.xml").write_text(v1)
        paths.append(tmp_path / "v1.xml")
    (tmp_path / "v2.xml").write_text(v2)
    paths.append(tmp_path / "v2.xml")
    return paths


def test_paper_page_shows_versions_and_the_abstract_diff(site, client, tmp_path):
    _ingest(site, *_api_versions(tmp_path))
    versions = read_once(site, paper_store.get, "2104.12255").versions
    assert [v.version for v in versions] == [1, 2] and all(v.abstract for v in versions)
    page = client.get("/papers/2104.12255").text
    section = page[page.index('id="versions"'):page.index("</section>", page.index('id="versions"'))]
    assert "v1</a> · <time" in section and "20 Apr 2021" in section and "1 Jun 2021" in section
    assert "<ins>Revised &lt;with&gt; &amp; $x&lt;y$ care. </ins>" in section
    assert "<with>" not in page


def test_an_unknown_older_abstract_is_said(site, client, tmp_path):
    _ingest(site, *_api_versions(tmp_path, with_v1=False))
    page = client.get("/papers/2104.12255").text
    assert "the abstract of v1 is not known here" in page and "<ins>" not in page


def test_feed_marks_a_paper_with_a_version_newer_than_when_featured(site, client, tmp_path):
    _ingest(site, *_api_versions(tmp_path))
    featured = [("2104.12255", "Featured early", ["Someone Else"], "2021-04-22"), ("2104.12255", "Featured again", ["Someone Else"], "2021-06-03")]
    _ingest(site, _listing(tmp_path / "early.jsonl", featured[:1]), _listing(tmp_path / "late.jsonl", featured[1:]))
    early = client.get("/date/2021-04-22").text
    assert "2104.12255" in early and "v2 since featured" in early
    late = client.get("/date/2021-06-03").text
    assert "2104.12255" in late and "v2 since featured" not in late
    assert "since featured" not in client.get("/date/2025-03-20").text
