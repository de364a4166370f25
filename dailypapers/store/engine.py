"""Engines and sessions. SQLite gets WAL, foreign keys and a busy timeout; the schema is brought to
the latest migration on first use."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings
from ..errors import ConfigError

_upgraded: set[str] = set()
_lock = threading.Lock()


def _sqlite_pragmas(busy_timeout: float):
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (pysqlite's legacy mode
        # would COMMIT before DDL and skip BEGIN for SELECTs).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint; safe against process kills
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB page cache per connection
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    return on_connect


def _sqlite_begin(conn) -> None:
    # A plain BEGIN for reads and for transactions that write first: with WAL and busy_timeout they
    # wait their turn. A transaction that reads and then writes (Store.writing) takes the write
    # lock at once: else a write committed by another connection after its read makes its own
    # write fail at once with "database is locked" (SQLite cannot wait there: its snapshot is stale).
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


def make_engine(settings: Settings, *, pool_size: int | None = None) -> Engine:
    """An engine for the configured database, without touching the schema."""
    try:
        url = make_url(settings.database_url)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds
        raise ConfigError(f"DAILYPAPERS_DATABASE_URL is not a database URL: {settings.database_url!r}") from exc
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise ConfigError(f"the folder of the SQLite database does not exist: {parent}")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout})
        event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # A connection is pinged before it is lent (a restarted server's stale ones are replaced, and
        # after a disconnect SQLAlchemy drops the whole pool); a server that does not answer at all
        # fails a connection after 10 s instead of the system's minutes (unless the URL sets it).
        connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
        return create_engine(url, pool_size=pool_size or 5, max_overflow=10, pool_pre_ping=True, connect_args=connect_args)
    raise ConfigError(f"unsupported database {url.get_backend_name()!r}: use sqlite:/// or postgresql://")


def alembic_config(engine: Engine):
    from alembic.config import Config

    here = Path(__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()  # type: ignore[return-value]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations. On PostgreSQL an advisory lock keeps concurrent starters from racing."""
    from alembic import command

    cfg = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(72011)"))
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(72011)"))
                conn.commit()
    else:
        command.upgrade(cfg, revision)


_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([\w]+)?['\"]?", re.MULTILINE)


def _latest_revision_on_disk() -> str:
    """The head revision, read from the migration files without importing Alembic (which costs
    a quarter of a second at every command's start)."""
    revisions, parents = set(), set()
    for path in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION.findall(path.read_text()))
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision") and found["down_revision"] != "None":
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise ConfigError(f"the migrations have {len(heads)} heads; expected one")
    return heads.pop()


def _stored_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        except Exception:  # noqa: BLE001 - no table yet: a new database
            return None


def ensure_schema(engine: Engine) -> None:
    """Upgrade to the latest migration once per process and database."""
    key = str(engine.url)
    if key in _upgraded:
        return
    with _lock:
        if key in _upgraded:
            return
        if _stored_revision(engine) != _latest_revision_on_disk():
            upgrade(engine)
        _upgraded.add(key)


class Store:
    """The engine and session factory for one database. Entity modules take a Session."""

    def __init__(self, settings: Settings, *, migrate: bool = True, pool_size: int | None = None):
        self.settings = settings
        self.engine = make_engine(settings, pool_size=pool_size)
        if migrate:
            ensure_schema(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in a transaction that reads, then writes what it read decides: committed at
        the end, rolled back on error. On SQLite it holds the write lock from its start (see
        _sqlite_begin); on PostgreSQL it is an ordinary transaction."""
        with self.session() as session, session.begin():
            session.connection(execution_options={"sqlite_immediate": True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
