"""Shared fixtures: real SQLite files and the real PostgreSQL server, real data from ../shared/data.
The helpers and constants the fixtures use, which test modules use too, are in support.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dailypapers.config import Settings
from dailypapers.store.engine import Store
from support import (
    DATA,
    LISTING_LINES,
    PG_ADMIN_URL,
    REQUIRE_PG,
    db_for,
    drop_pg_database,
    env_for,
    load_site_data,
    make_settings,
    pg_database,
    site_settings,
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip(f"test data folder not found: {DATA}")
    return DATA


@pytest.fixture(scope="session")
def pg_server():
    """An admin URL for the PostgreSQL server, or a skip (a failure under DAILYPAPERS_REQUIRE_POSTGRES=1)."""
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, then a PostgreSQL database, for each test using it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dailypapers.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    name = pg_database(admin)
    base = admin.url.set(database=name)
    yield base.render_as_string(hide_password=False)
    drop_pg_database(admin, name)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium (browserhelp.py), for a module of browser tests; Playwright starts it with a
    fresh, temporary user-data dir."""
    from playwright.sync_api import sync_playwright

    from browserhelp import FLAGS, chromium_path

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a spare port, recording what it receives."""
    from digesthelp import SMTPServer

    with SMTPServer() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dailypapers.db'}"


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def store(settings):
    s = Store(settings)
    yield s
    s.dispose()


@pytest.fixture
def cli_env(settings) -> dict:
    """Environment for running the real `dailypapers` command against the test database."""
    return env_for(settings)


# --- the site ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def listing_subset(tmp_path_factory) -> Path:
    """The first LISTING_LINES papers of the real arxiv-daily file, as a small gzip file."""
    import gzip

    src = DATA / "arxiv-daily" / "papers.jsonl.gz"
    if not src.exists():
        pytest.skip(f"test data not found: {src}")
    out = tmp_path_factory.mktemp("listing") / "listing.jsonl.gz"
    with gzip.open(src) as f, gzip.open(out, "wb", compresslevel=1) as g:
        for _ in range(LISTING_LINES):
            g.write(next(f))
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_site(request, tmp_path_factory, listing_subset):
    """A site with data loaded once per module and database: for tests that only read."""
    tmp = tmp_path_factory.mktemp("site")
    url, pg = db_for(request, tmp, request.param)
    settings = site_settings(url, tmp)
    load_site_data(settings, listing_subset)
    yield settings
    if pg:
        drop_pg_database(*pg)


@pytest.fixture
def fresh_site(db_url, tmp_path, listing_subset):
    """A site with data loaded for this test alone: for tests that change things."""
    settings = site_settings(db_url, tmp_path)
    load_site_data(settings, listing_subset)
    return settings


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hf_site(request, tmp_path_factory, listing_subset):
    """The shared site's data, then a later import of the same HF day in HF's current answer format
    (tests/hfhelp.py): for tests of the fields HF added since the recorded answer."""
    from dailypapers.jobs.ingest import ingest_job
    from hfhelp import write_current_format

    tmp = tmp_path_factory.mktemp("hfsite")
    url, pg = db_for(request, tmp, request.param)
    settings = site_settings(url, tmp)
    load_site_data(settings, listing_subset)
    store = Store(settings)
    ingest_job(store).run([str(write_current_format(tmp))])
    store.dispose()
    yield settings
    if pg:
        drop_pg_database(*pg)
