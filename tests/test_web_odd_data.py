"""Pages never answer 500 because of what is stored: rows an older version (or a hand-edited database)
could hold are written straight into the store, then every kind of page, feed and API answer is
requested on SQLite and PostgreSQL. All are 200 or 404, with the odd text escaped."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from support import db_for, drop_pg_database, load_site_data, site_settings
from dailypapers.store import kv
from dailypapers.store.engine import Store
from dailypapers.store.schema import Comment, DailyEntry, Paper, PaperCategory, PaperVersion, User

EVIL = "<script>alert('x')</script> & <b>b</b> $\\frac{a}{b}$ \\end{document} %%dp-email%% {{ 7*7 }}"
MAX, MIN = dt.date(9999, 12, 31), dt.date(1, 1, 1)
ODD_SUBMITTERS = ["<img src=x onerror=alert(1)>", "Zesen Cheng", "O'Brien & Co", "ünïcødé-名前"]


def _paper(session, arxiv_id: str, **values) -> int:
    row = dict(arxiv_id=arxiv_id, version=1, title=f"Odd paper {arxiv_id}", abstract="An abstract.", authors=[{"name": "A. Author"}],
               primary_category="cs.CL", categories=["cs.CL"], content_hash="x", source="old")
    row.update(values)
    pid = session.execute(Paper.__table__.insert().values(**row).returning(Paper.__table__.c.id)).scalar_one()
    for i, cat in enumerate(dict.fromkeys(row["categories"] or [])):
        session.execute(PaperCategory.__table__.insert().values(paper_id=pid, category=cat[:40], is_primary=i == 0))
    return pid


def _entry(session, pid: int, day: dt.date, submitted_at: dt.datetime, submitter: str | None, **more) -> None:
    session.execute(DailyEntry.__table__.insert().values(paper_id=pid, day=day, submitted_at=submitted_at,
                                                          submitter_name=submitter, source="hf", **more))


def write_odd_rows(settings) -> None:
    store = Store(settings)
    with store.session() as session, session.begin():
        evil = _paper(
            session, "2503.90001", title=EVIL, abstract=("We show <script>alert(2)</script> & more. " * 2500)[:100_000],
            authors=[{"name": f"Author <i>{i}</i> &"} for i in range(3000)],
            categories=["not-a-category", "<script>", "cs.CL", "x" * 60], primary_category="not-a-category",
            comment=EVIL, journal_ref=EVIL, doi="10.1/<script>", code_url="javascript:alert(1)", project_url="https://ex.org/<x>",
            published_at=dt.datetime(9999, 12, 31, 23, 59, 59), updated_at=dt.datetime(9999, 12, 31, 23, 59, 59),
            first_featured=MAX, upvotes_imported=1,
        )
        _entry(session, evil, MAX, dt.datetime(9999, 12, 31, 23, 59, 59), ODD_SUBMITTERS[0])
        _entry(session, evil, dt.date(2025, 3, 21), dt.datetime(2025, 3, 21, 9), ODD_SUBMITTERS[1])
        session.execute(PaperVersion.__table__.insert().values(paper_id=evil, version=1, submitted_at=dt.datetime(9999, 12, 31)))
        session.execute(PaperVersion.__table__.insert().values(paper_id=evil, version=2, submitted_at=None, title=None))

        empty = _paper(
            session, "2503.90002", version=None, title="", abstract="", authors=[], categories=[], primary_category=None,
            published_at=None, updated_at=None, first_featured=MIN, upvotes_imported=0,
        )
        _entry(session, empty, MIN, dt.datetime(1, 1, 1), None)
        _entry(session, empty, dt.date(2025, 3, 20), dt.datetime(2025, 3, 20, 8), ODD_SUBMITTERS[2])

        future = _paper(session, "2503.90003", published_at=dt.datetime(9999, 1, 1), first_featured=None,
                        authors=[{"name": ""}, {"name": "B. Author", "affiliations": None}], categories=["math-ph", "CS.cl"])
        _entry(session, future, dt.date(2025, 3, 21), dt.datetime(9999, 12, 31, 23, 59, 59), ODD_SUBMITTERS[3])

        ancient = _paper(session, "2503.90004", published_at=dt.datetime(1, 1, 1), first_featured=dt.date(1, 1, 1))
        _entry(session, ancient, dt.date(2025, 3, 19), dt.datetime(1, 1, 1), ODD_SUBMITTERS[1])

        # A comment whose author's account is gone, and one full of HTML.
        users = User.__table__
        uid = session.execute(users.insert().values(username="ghost", password_hash="x").returning(users.c.id)).scalar_one()
        session.execute(Comment.__table__.insert().values(paper_id=evil, user_id=None, body=EVIL, body_html="<p>gone</p>",
                                                          created_at=dt.datetime(9999, 12, 31)))
        session.execute(Comment.__table__.insert().values(paper_id=evil, user_id=uid, body=EVIL, body_html="<p>kept</p>",
                                                          created_at=dt.datetime(1, 1, 1)))
        kv.bump(session)
    store.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def odd_site(request, tmp_path_factory, listing_subset):
    tmp = tmp_path_factory.mktemp("odd")
    url, pg = db_for(request, tmp, request.param)
    settings = site_settings(url, tmp, search_semantic=False)
    load_site_data(settings, listing_subset)
    write_odd_rows(settings)
    yield settings
    if pg:
        drop_pg_database(*pg)


@pytest.fixture(scope="module")
def client(odd_site):
    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app

    # Server errors come back as the 500s a visitor would get, so that one test lists them all.
    with TestClient(create_app(odd_site), base_url="http://testserver", follow_redirects=False,
                    raise_server_exceptions=False) as c:
        yield c


PAGES = [
    "/", "/date/2025-03-21", "/date/2025-03-20", "/date/2025-03-19", "/week/2025-W12", "/month/2025-03", "/trending",
    "/trending?period=day", "/trending?period=week", "/trending?period=month", "/stats",
    "/papers/2503.90001", "/papers/2503.90002", "/papers/2503.90003", "/papers/2503.90004",
    "/papers/2503.90001.md", "/papers/2503.90002.md", "/papers/2503.90003.md",
    "/u/ghost", "/search?q=odd", "/search?q=script", "/search?q=alert", "/search?q=Author",
    "/feeds/daily.atom", "/feeds/daily.rss", "/feeds/trending.atom", "/feeds/trending.rss",
    "/feeds/category/cs.CL.atom", "/feeds/category/math-ph.rss", "/feeds/category/not-a-category.atom",
    "/api/daily_papers", "/api/daily_papers?date=2025-03-21", "/api/daily_papers?week=2025-W12",
    "/api/daily_papers?month=2025-03", "/api/daily_papers?sort=trending", "/api/papers/2503.90001",
    "/api/papers/2503.90002", "/api/papers/2503.90003", "/api/papers/search?q=odd", "/api/papers/2503.90001/similar",
] + [f"/u/{name}" for name in ODD_SUBMITTERS]


def test_every_page_kind_survives_odd_rows(client, caplog):
    problems = []
    with caplog.at_level(logging.ERROR):
        for path in PAGES:
            r = client.get(path)
            if r.status_code not in (200, 404):
                problems.append(f"{path}: {r.status_code}")
    assert not problems, problems
    assert "unhandled error" not in caplog.text


def test_odd_text_is_escaped_everywhere(client):
    for path in ("/date/2025-03-21", "/papers/2503.90001", "/trending?period=month", "/search?q=odd", "/u/Zesen%20Cheng"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>b</b>" not in html, path
        assert "javascript:alert" not in html, path
    paper = client.get("/papers/2503.90001").text
    assert 'href="/u/"' not in paper and "a former member" in paper  # a comment whose author's account is gone
    assert 'href="/date/9999-12-31"' not in paper and "31 Dec 9999" in paper  # shown, not linked to a 400
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;b&lt;/b&gt;" in paper
    assert "{{ 7*7 }}" in paper.replace("&#34;", '"') and "49" not in paper.split("<h1", 1)[1].split("</h1>", 1)[0]
    api = client.get("/api/papers/2503.90001").json()
    assert api["title"] == EVIL and len(api["authors"]) == 3000
    for feed in ("/feeds/daily.atom", "/feeds/daily.rss"):
        assert "<script>alert" not in client.get(feed).text


def test_stored_dates_outside_the_range_stay_out_of_sight(client):
    """Days stored on 0001-01-01 or 9999-12-31 are not the latest day, nor a previous or next day."""
    home = client.get("/")
    assert home.status_code == 200
    assert "9999" not in home.text.split('class="period-nav"', 1)[1].split("</div>", 1)[0]
    first = client.get("/date/2025-03-18").text.split('class="period-nav"', 1)[1].split("</div>", 1)[0]
    assert "/date/0001-01-01" not in first
    api = client.get("/api/daily_papers").json()
    assert all(not item["publishedAt"].startswith("9999") for item in api)
    assert json.dumps(api)  # a JSON list


def test_search_facets_skip_months_the_site_does_not_serve(fresh_site):
    """A paper first featured on 1970-01-01 (a zero timestamp an old importer could store) is found,
    and its month, outside the dates the site serves, is not offered as a facet (nor a 400)."""
    import time

    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app

    store = Store(fresh_site)
    with store.session() as session, session.begin():
        _paper(session, "2503.90005", title="Epochzero paper", first_featured=dt.date(1970, 1, 1),
               published_at=dt.datetime(1970, 1, 1))
        kv.bump(session)
    store.dispose()
    with TestClient(create_app(fresh_site), raise_server_exceptions=False) as c:
        deadline = time.monotonic() + 60
        while c.get("/healthz").status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        r = c.get("/search", params={"q": "Epochzero"})
        assert r.status_code == 200 and "/papers/2503.90005" in r.text
        assert "since=1970" not in r.text and "January 1970" not in r.text
