"""Featured and listed apart (issue 14, point 1): the 0008 migration moving arXiv's listing entries
out of the curated feed, ingest writing listings, the feed showing featured papers only."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from sqlalchemy import text

from support import make_settings

from dailypapers.store.engine import Store, alembic_config, make_engine, upgrade

D1, D2, D3 = dt.date(2025, 3, 18), dt.date(2025, 3, 19), dt.date(2025, 3, 20)
S1, S2, S3 = D1.isoformat(), D2.isoformat(), D3.isoformat()


def _downgrade(engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def _paper(conn, pid: int, arxiv_id: str, first_featured) -> None:
    conn.execute(
        text(
            "INSERT INTO papers (id, arxiv_id, title, abstract, authors, categories, first_featured, upvotes_imported,"
            " upvote_count, comments_imported, comment_count, source, content_hash, created_at, changed_at)"
            " VALUES (:id, :a, 't', 'abs', '[]', '[\"cs.CL\"]', :ff, 0, 0, 0, 0, '', 'h', :now, :now)"
        ),
        {"id": pid, "a": arxiv_id, "ff": first_featured, "now": dt.datetime(2025, 3, 21)},
    )


def _entry(conn, pid: int, day: dt.date, source: str, submitter: str | None = None) -> None:
    conn.execute(
        text(
            "INSERT INTO daily_entries (paper_id, day, submitted_at, submitter_name, source)"
            " VALUES (:p, :d, :at, :s, :src)"
        ),
        {"p": pid, "d": day, "at": dt.datetime.combine(day, dt.time()), "s": submitter, "src": source},
    )


def _rows(engine, sql: str) -> list[tuple]:
    """Rows of raw SQL, days as ISO text (SQLite gives text, PostgreSQL dates)."""
    with engine.connect() as conn:
        return [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in r) for r in conn.execute(text(sql))]


def _entries(engine) -> list[tuple]:
    """daily_entries as the models read them (times parsed alike on both databases)."""
    from sqlalchemy import select

    from dailypapers.store.schema import DailyEntry

    e = DailyEntry.__table__
    with engine.connect() as conn:
        cols = (e.c.paper_id, e.c.day, e.c.submitted_at, e.c.submitted_by_id, e.c.submitter_name, e.c.source)
        return [tuple(r) for r in conn.execute(select(*cols).order_by(e.c.paper_id, e.c.day))]


def test_migration_moves_listings_out_of_the_feed_and_back(db_url, tmp_path):
    engine = make_engine(make_settings(db_url, tmp_path))
    upgrade(engine, "0007")
    with engine.begin() as conn:
        # Paper 1: listed on D1 and featured by HF on D2; paper 2 listed only (OAI-PMH, D1);
        # paper 3 listed on D2 only; paper 4 featured by a member only.
        _paper(conn, 1, "2503.00001", D1)
        _paper(conn, 2, "2503.00002", D1)
        _paper(conn, 3, "2503.00003", D2)
        _paper(conn, 4, "2503.00004", D3)
        _entry(conn, 2, D1, "arxiv")  # inserted first: first in D1's listing
        _entry(conn, 1, D1, "listing")
        _entry(conn, 3, D2, "listing")
        _entry(conn, 1, D2, "hf", "akhaliq")
        _entry(conn, 4, D3, "user")
    before = _entries(engine)

    upgrade(engine, "0008")
    listed = _rows(engine, "SELECT paper_id, day, position, source FROM listings ORDER BY day, position")
    assert listed == [(2, S1, 1, "arxiv"), (1, S1, 2, "listing"), (3, S2, 1, "listing")]
    featured = _rows(engine, "SELECT paper_id, day, source FROM daily_entries ORDER BY paper_id, day")
    assert featured == [(1, S2, "hf"), (4, S3, "user")]
    first = dict(_rows(engine, "SELECT id, first_featured FROM papers"))
    assert first == {1: S2, 2: None, 3: None, 4: S3}

    _downgrade(engine, "0007")
    after = _entries(engine)
    assert after == before
    assert dict(_rows(engine, "SELECT id, first_featured FROM papers")) == {1: S1, 2: S1, 3: S2, 4: S3}
    with engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert "listings" not in names
    engine.dispose()


def _listing_file(tmp_path, lines: list[dict]):
    path = tmp_path / "listing.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for obj in lines:
            f.write(json.dumps(obj) + "\n")
    return path


def _line(n: int, day: dt.date, cat: str = "cs.CL") -> dict:
    return {"id": f"2503.{n:05d}", "title": f"Paper {n}", "authors": ["Ada Lovelace"], "categories": [cat],
            "abstract": f"About thing {n}.", "listed": day.isoformat()}  # fmt: skip


def test_ingest_lists_papers_without_featuring_them(store, tmp_path):
    from dailypapers.ingest.run import IngestJob
    from dailypapers.store import feed, listings
    from dailypapers.store.feed import FeedQuery
    from dailypapers.store.listings import ListingQuery

    first = _listing_file(tmp_path, [_line(3, D1), _line(1, D1, "cs.CV"), _line(2, D2)])
    report = IngestJob(store).run([str(first)])
    assert (report.new, report.listed, report.featured) == (3, 3, 0)
    again = IngestJob(store).run([str(first)])  # idempotent
    assert (again.new, again.listed) == (0, 0)
    # A second file for the same day: its paper goes after the ones the day has.
    second = tmp_path / "more"
    second.mkdir()
    report = IngestJob(store).run([str(_listing_file(second, [_line(4, D1), _line(1, D1, "cs.CV")]))])
    assert (report.new, report.listed) == (1, 1)
    with store.session() as session:
        day1 = listings.list_listed(session, ListingQuery(day=D1))
        assert [i.paper.arxiv_id for i in day1.items] == ["2503.00003", "2503.00001", "2503.00004"]
        assert day1.total == 3 and all(i.paper.first_featured is None for i in day1.items)
        only_cv = listings.list_listed(session, ListingQuery(day=D1, category="cs.CV"))
        assert [i.paper.arxiv_id for i in only_cv.items] == ["2503.00001"]
        page2 = listings.list_listed(session, ListingQuery(day=D1, limit=2, offset=2))
        assert [i.paper.arxiv_id for i in page2.items] == ["2503.00004"] and page2.total == 3
        assert listings.latest_day(session) == D2
        assert listings.adjacent_days(session, D1) == (None, D2)
        assert feed.list_featured(session, FeedQuery()).total == 0  # listed is not featured


def test_curator_features_listed_papers_and_the_feed_orders_by_upvotes(store, tmp_path):
    from dailypapers.ingest.run import IngestJob
    from dailypapers.store import daily, feed, listings, papers
    from dailypapers.store.feed import FeedQuery
    from dailypapers.store.listings import ListingQuery
    from dailypapers.store.schema import Paper

    IngestJob(store).run([str(_listing_file(tmp_path, [_line(1, D1), _line(2, D1), _line(3, D1)]))])
    with store.session() as session, session.begin():
        ids = {a: s.id for a, s in papers.existing(session, ["2503.00001", "2503.00002", "2503.00003"]).items()}
        assert daily.feature_many(session, [(ids["2503.00001"], D1), (ids["2503.00003"], D1)]) == 2
        assert daily.feature_many(session, [(ids["2503.00001"], D1)]) == 0
        session.query(Paper).filter(Paper.id == ids["2503.00003"]).update({"upvote_count": 5})
    with store.session() as session:
        page = feed.list_featured(session, FeedQuery(start=D1, end=D1))
        assert [i.paper.arxiv_id for i in page.items] == ["2503.00003", "2503.00001"]
        listed = listings.list_listed(session, ListingQuery(day=D1))
        assert [(i.paper.arxiv_id, i.paper.first_featured) for i in listed.items] == [
            ("2503.00001", D1), ("2503.00002", None), ("2503.00003", D1)
        ]


def test_oai_pmh_records_are_listed_not_featured():
    from dailypapers.sources import oai_pmh
    from support import need_data

    folder = need_data("fixtures", "oai-pmh")
    seen = []
    for path in sorted(folder.glob("*.xml")):
        with open(path, "rb") as f:
            try:
                seen += [r for r in oai_pmh.parse(f) if hasattr(r, "listed")]
            except Exception:  # noqa: BLE001 - the malformed fixture
                continue
    assert seen and all(r.featured is None for r in seen)
    assert any(r.listed is not None and r.listed.source == "arxiv" for r in seen)


def test_papers_feature_command(store, cli_env, tmp_path):
    import subprocess
    import sys

    from dailypapers.ingest.run import IngestJob
    from dailypapers.store import daily

    IngestJob(store).run([str(_listing_file(tmp_path, [_line(1, D1), _line(2, D1), _line(3, D2)]))])

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "dailypapers", "papers", "feature", *args], env=cli_env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    one = cli("2503.00002", "--day", D3.isoformat())
    assert one.returncode == 0 and "1 featured" in one.stdout
    listed = cli("--listed", "--day", D1.isoformat())
    assert listed.returncode == 0 and "2 featured" in listed.stdout
    missing = cli("2503.09999")
    assert missing.returncode != 0 and "not in the store: 2503.09999" in missing.stderr
    assert "Traceback" not in missing.stderr
    neither = cli()
    assert neither.returncode != 0 and "--listed" in neither.stderr
    with store.session() as session:
        assert daily.existing(session, range(1, 10)) == {(1, D1), (2, D1), (2, D3)}
