"""The few statements whose SQL differs between SQLite and PostgreSQL, and a bulk insert for hot paths."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import JSON, Boolean, Date, DateTime, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table):
    """An INSERT that supports ON CONFLICT on the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    session: Session,
    table: Table,
    rows: list[dict],
    key: tuple[str, ...],
    *,
    replace: tuple[str, ...] = (),
    update_if_given: tuple[str, ...] = (),
    also: dict | None = None,
) -> None:
    """Insert `rows`; where a row's `key` is taken, the stored row's `replace` columns take the new
    values, its `update_if_given` columns the new values that are not NULL, and `also` is set."""
    stmt = insert_for(session, table)
    values = {c: stmt.excluded[c] for c in replace}
    values.update({c: func.coalesce(stmt.excluded[c], table.c[c]) for c in update_if_given})
    values.update(also or {})
    session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=values), rows)


def chunks(items: list, size: int = 500):
    """Slices small enough for an IN (...) list on every backend."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_sql(table: Table, columns: tuple[str, ...], dialect_name: str, ignore: tuple[str, ...]) -> str:
    # Plain INSERT ... ON CONFLICT DO NOTHING is the same on both backends; only placeholders differ.
    mark = "%s" if dialect_name == "postgresql" else "?"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if ignore:
        sql += f" ON CONFLICT ({', '.join(ignore)}) DO NOTHING"
    return sql


def _converter(column, dialect_name: str):
    kind = column.type
    if isinstance(kind, JSON):
        if dialect_name == "postgresql":
            from psycopg.types.json import Json

            return Json
        return json.dumps
    if dialect_name == "sqlite":
        if isinstance(kind, DateTime):
            # The format SQLAlchemy itself writes, so reads through the ORM see the same values.
            cache: dict = {}

            def to_text(v):
                text = cache.get(v)
                if text is None:
                    text = cache[v] = v.strftime("%Y-%m-%d %H:%M:%S.%f")
                return text

            return to_text
        if isinstance(kind, Date):
            return dt.date.isoformat
        if isinstance(kind, Boolean):
            return int
    return None


def bulk_insert(session: Session, table: Table, rows: list[dict], *, ignore_conflicts_on: tuple[str, ...] = ()) -> int:
    """executemany straight on the driver: for ingest's hot path, where SQLAlchemy's per-row
    parameter processing costs more than the database. All rows must have the same keys.
    Returns the number of rows inserted (conflicts skipped are not counted)."""
    if not rows:
        return 0
    columns = tuple(rows[0])
    convert = [(i, fn) for i, name in enumerate(columns) if (fn := converter(session, table.c[name]))]
    data = []
    for row in rows:
        values = [row[name] for name in columns]
        for i, fn in convert:
            if values[i] is not None:
                values[i] = fn(values[i])
        data.append(values)
    return bulk_insert_values(session, table, columns, data, ignore_conflicts_on=ignore_conflicts_on)


def converter(session: Session, column):
    """The function turning a Python value into what the driver takes for this column, or None."""
    return _converter(column, session.get_bind().dialect.name)


def bulk_insert_values(
    session: Session, table: Table, columns: tuple[str, ...], data: list[list], *, ignore_conflicts_on: tuple[str, ...] = ()
) -> int:
    """executemany of driver-ready value lists (see `converter`)."""
    sql = _insert_sql(table, columns, session.get_bind().dialect.name, ignore_conflicts_on)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, data)
        return cursor.rowcount
    finally:
        cursor.close()


def max_id(session: Session, table: Table) -> int:
    from sqlalchemy import func, select

    return session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
