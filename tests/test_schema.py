"""The migrations build exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dailypapers.store.schema import Base


def test_migrations_match_models(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_sqlite_pragmas(sqlite_url, tmp_path):
    from conftest import make_settings
    from dailypapers.store.engine import Store

    store = Store(make_settings(sqlite_url, tmp_path))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.dispose()


def test_fast_head_revision_agrees_with_alembic(store):
    from dailypapers.store.engine import _latest_revision_on_disk, head_revision

    assert _latest_revision_on_disk() == head_revision(store.engine)
