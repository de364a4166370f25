"""What the tests share besides fixtures: where the code and the data are, databases made and
dropped, settings for a test, the site with its data and a client for it. Test modules import these
from here; conftest.py holds the fixtures."""

from __future__ import annotations

import gzip
import inspect
import itertools
import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

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


def arxiv_sample(n: int, step: int = 149) -> list[dict]:
    """Every `step`-th paper of the real arxiv-daily corpus, n of them (deterministic)."""
    with gzip.open(need_data("arxiv-daily", "papers.jsonl.gz"), "rt") as f:
        return [json.loads(line) for line in itertools.islice(f, 0, step * n, step)]


def pg_database(admin_engine) -> str:
    name = f"dp_test_{uuid.uuid4().hex[:12]}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def drop_pg_database(admin_engine, name: str) -> None:
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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


def site_env(**values: str) -> dict:
    """The environment of a site process a test starts: this one's, offline, without the embedding
    model, following the indexes every second, with the vendored assets, never in debug mode; and
    these DAILYPAPERS_ values."""
    env = dict(
        os.environ,
        DAILYPAPERS_ONLINE="0",
        DAILYPAPERS_SEARCH_SEMANTIC="0",
        DAILYPAPERS_INDEX_FOLLOW_SECONDS="1",
        DAILYPAPERS_VENDOR_DIR=str(ROOT / "node_modules"),
    )
    env.update(values)
    env.pop("DAILYPAPERS_DEBUG", None)
    return env


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


LISTING_LINES = 1100  # four listing days (2025-03-18..21, then a weekend gap) and part of a fifth


def site_settings(db_url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(base_url="http://testserver", vendor_dir=ROOT / "node_modules", rate_limit_storage="store")
    values.update(overrides)
    return make_settings(db_url, tmp_path, **values)


def load_site_data(settings: Settings, listing: Path, *, feature_listed: bool = True) -> None:
    """The listing lines (arXiv's listings) and three HF papers (featured on 2024-10-25). With
    `feature_listed`, every listed paper is also featured on its listing day by a curator's hand
    (as `dailypapers papers feature --listed` does), so the feed pages have days full of papers."""
    from dailypapers.jobs.ingest import ingest_job

    store = Store(settings)
    hf = DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_first3items.json"
    ingest_job(store).run([str(listing), str(hf)])
    if feature_listed:
        feature_all_listed(store)
    store.dispose()


def feature_all_listed(store: Store) -> int:
    """Feature every listed paper on its listing day (a curator's bulk action); returns how many."""
    from dailypapers.store import daily, kv, listings

    with store.session() as session, session.begin():
        added = daily.feature_many(session, listings.pairs_between(session, None, None))
        kv.bump(session)
    return added


def db_for(request, tmp_path: Path, kind: str):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'site.db'}", None
    admin = request.getfixturevalue("pg_server")
    name = pg_database(admin)
    return admin.url.set(database=name).render_as_string(hide_password=False), (admin, name)


def read_once(settings: Settings, read, *args):
    """`read(session, *args)` through a store of its own (a test's look at what a site stored)."""
    store = Store(settings)
    with store.session() as session:
        found = read(session, *args)
    store.dispose()
    return found


def run_job(settings: Settings, name: str) -> str:
    """One manual run of the scheduled job `name`, in this process (as `dailypapers jobs run`); its summary."""
    from dailypapers.jobs import runner
    from dailypapers.jobs.scheduler import manual_period

    store = Store(settings)
    try:
        return runner.execute(store, name, manual_period())[1]
    finally:
        store.dispose()


def client_for(settings: Settings):
    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app

    return TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False)


def client_fixture(site: str, scope: str = "module"):
    """A `client` fixture: a test client of the site that the fixture named `site` makes (asked for
    by name in the signature, so a site fixture parametrized by database runs the tests on each)."""

    def client(**fixtures):
        with client_for(fixtures[site]) as c:
            yield c

    client.__signature__ = inspect.Signature([inspect.Parameter(site, inspect.Parameter.KEYWORD_ONLY)])
    return pytest.fixture(scope=scope)(client)
