"""The migrations build exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dailypapers.store.schema import Base


def test_migrations_match_models(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_sqlite_pragmas(sqlite_url, tmp_path):
    from support import make_settings
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


def test_a_read_then_write_transaction_survives_a_concurrent_writer(store):
    """Store.writing(): another connection's write committed between this transaction's read and
    its write must not fail it (on SQLite a plain BEGIN fails there at once: "database is locked").
    Found by schemathesis: POST /api/subscriptions answered 500 while the previous request's email
    was being recorded."""
    import threading
    import time

    from sqlalchemy import select

    from dailypapers.store.schema import KeyValue

    def other_writer():
        with store.session() as session, session.begin():
            session.add(KeyValue(key="other", value="1"))

    with store.writing() as session:
        session.execute(select(KeyValue.key)).all()  # the read
        writer = threading.Thread(target=other_writer)
        writer.start()
        time.sleep(0.3)  # the other writer commits now, or (holding the lock) we make it wait
        session.add(KeyValue(key="ours", value="1"))
        session.flush()
    writer.join(10)
    with store.session() as session:
        assert set(session.execute(select(KeyValue.key)).scalars()) >= {"ours", "other"}
