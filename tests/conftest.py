"""Shared fixtures: real SQLite files and the real PostgreSQL server, real data from ../shared/data."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dailypapers.config import Settings
from dailypapers.store.engine import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DAILYPAPERS_TEST_DATA", ROOT.parent / "shared" / "data"))
PG_ADMIN_URL = os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DAILYPAPERS_REQUIRE_POSTGRES") == "1"
# The embedding model's ONNX export, made once per machine: the folder survives sessions
# (test-artifacts is ignored by git), so only the first run pays for importing torch and converting.
MODELS = Path(os.environ.get("DAILYPAPERS_TEST_MODELS_DIR", ROOT / "test-artifacts" / "models"))


def need_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message when it is absent."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test data not found: {path} (the shared data folder is absent)")
    return path


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


def _pg_database(admin_engine) -> str:
    name = f"dp_test_{uuid.uuid4().hex[:12]}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def _drop_pg_database(admin_engine, name: str) -> None:
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, then a PostgreSQL database, for each test using it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dailypapers.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    name = _pg_database(admin)
    base = admin.url.set(database=name)
    yield base.render_as_string(hide_password=False)
    _drop_pg_database(admin, name)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a spare port, recording what it receives."""
    from digesthelp import SMTPServer

    with SMTPServer() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dailypapers.db'}"


def make_settings(db_url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        database_url=db_url,
        data_dir=tmp_path / "data",
        arxiv_request_interval=0.0,
        http_backoff=0.01,
        http_retries=3,
        http_timeout=5.0,
    )
    values.update(overrides)
    return Settings(**values)


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


def env_for(settings: Settings) -> dict:
    """The environment that points the real `dailypapers` command at these settings' database."""
    env = dict(os.environ)
    env.update(
        DAILYPAPERS_DATABASE_URL=settings.database_url,
        DAILYPAPERS_DATA_DIR=str(settings.data_dir),
        DAILYPAPERS_MODELS_DIR=str(MODELS),
        DAILYPAPERS_ARXIV_REQUEST_INTERVAL="0",
        DAILYPAPERS_HTTP_BACKOFF="0.01",
    )
    env.pop("DAILYPAPERS_DEBUG", None)
    return env


def copy_fixture(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    return dst


# --- the site ------------------------------------------------------------------------------------

LISTING_LINES = 1100  # four listing days (2025-03-18..21, then a weekend gap) and part of a fifth


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


def site_settings(db_url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(base_url="http://testserver", vendor_dir=ROOT / "node_modules", rate_limit_storage="store")
    values.update(overrides)
    return make_settings(db_url, tmp_path, **values)


def load_site_data(settings: Settings, listing: Path) -> None:
    from dailypapers.ingest.run import IngestJob

    store = Store(settings)
    hf = DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_first3items.json"
    IngestJob(store).run([str(listing), str(hf)])
    store.dispose()


def _db_for(request, tmp_path: Path, kind: str):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'site.db'}", None
    admin = request.getfixturevalue("pg_server")
    name = _pg_database(admin)
    return admin.url.set(database=name).render_as_string(hide_password=False), (admin, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_site(request, tmp_path_factory, listing_subset):
    """A site with data loaded once per module and database: for tests that only read."""
    tmp = tmp_path_factory.mktemp("site")
    url, pg = _db_for(request, tmp, request.param)
    settings = site_settings(url, tmp)
    load_site_data(settings, listing_subset)
    yield settings
    if pg:
        _drop_pg_database(*pg)


@pytest.fixture
def fresh_site(db_url, tmp_path, listing_subset):
    """A site with data loaded for this test alone: for tests that change things."""
    settings = site_settings(db_url, tmp_path)
    load_site_data(settings, listing_subset)
    return settings


def client_for(settings: Settings):
    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app

    return TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hf_site(request, tmp_path_factory, listing_subset):
    """The shared site's data, then a later import of the same HF day in HF's current answer format
    (tests/hfhelp.py): for tests of the fields HF added since the recorded answer."""
    from dailypapers.ingest.run import IngestJob
    from hfhelp import write_current_format

    tmp = tmp_path_factory.mktemp("hfsite")
    url, pg = _db_for(request, tmp, request.param)
    settings = site_settings(url, tmp)
    load_site_data(settings, listing_subset)
    store = Store(settings)
    IngestJob(store).run([str(write_current_format(tmp))])
    store.dispose()
    yield settings
    if pg:
        _drop_pg_database(*pg)
