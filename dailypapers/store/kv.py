"""Small store-wide values: the store's identity, generated secrets, watermarks."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from .dialect import insert_for
from .engine import Store
from .schema import KeyValue, utcnow

kv = KeyValue.__table__


def get(store: Store, key: str) -> str | None:
    with store.session() as session:
        return session.execute(select(kv.c.value).where(kv.c.key == key)).scalar_one_or_none()


def set_value(store: Store, key: str, value: str) -> None:
    with store.session() as session, session.begin():
        stmt = insert_for(session, kv).values(key=key, value=value, updated_at=utcnow())
        session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": utcnow()}))


def get_or_create(store: Store, key: str, make=lambda: secrets.token_hex(16)) -> str:
    """The value under `key`, created once (first writer wins, also across processes)."""
    value = get(store, key)
    if value is not None:
        return value
    with store.session() as session, session.begin():
        stmt = insert_for(session, kv).values(key=key, value=make(), updated_at=utcnow())
        session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    value = get(store, key)
    assert value is not None
    return value


def store_id(store: Store) -> str:
    """A random id naming this database, so indexes on disk are never mixed between databases."""
    return get_or_create(store, "store_id")


CONTENT_VERSION = "content_version"


def bump(session, key: str = CONTENT_VERSION) -> None:
    """Increment a counter inside the caller's transaction (page caches watch content_version)."""
    from sqlalchemy import Integer, Text, cast

    stmt = insert_for(session, kv).values(key=key, value="1", updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"], set_={"value": cast(cast(kv.c.value, Integer) + 1, Text), "updated_at": utcnow()}
    )
    session.execute(stmt)


def read(session, key: str) -> str | None:
    return session.execute(select(kv.c.value).where(kv.c.key == key)).scalar_one_or_none()


def read_stamped(session, key: str):
    """(value, when it was last written, naive UTC), or None."""
    row = session.execute(select(kv.c.value, kv.c.updated_at).where(kv.c.key == key)).first()
    return (row[0], row[1]) if row else None
