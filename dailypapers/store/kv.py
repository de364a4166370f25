"""Small store-wide values: the store's identity, generated secrets, watermarks.

Like every store module, these take the caller's session, except `get_or_create` (and `store_id`):
a value created once for all processes must be committed on its own, between a read and a read, so
they take the Store and open their own transactions."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .dialect import insert_for
from .engine import Store
from .schema import KeyValue, utcnow

kv = KeyValue.__table__


def set_value(session: Session, key: str, value: str) -> None:
    stmt = insert_for(session, kv).values(key=key, value=value, updated_at=utcnow())
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": utcnow()}))


def get_or_create(store: Store, key: str, make=lambda: secrets.token_hex(16)) -> str:
    """The value under `key`, created once (first writer wins, also across processes)."""
    with store.session() as session:
        value = read(session, key)
    if value is not None:
        return value
    with store.session() as session, session.begin():
        stmt = insert_for(session, kv).values(key=key, value=make(), updated_at=utcnow())
        session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    with store.session() as session:
        value = read(session, key)
    assert value is not None
    return value


def store_id(store: Store) -> str:
    """A random id naming this database, so indexes on disk are never mixed between databases."""
    return get_or_create(store, "store_id")


CONTENT_VERSION = "content_version"


def bump(session: Session, key: str = CONTENT_VERSION) -> None:
    """Increment a counter inside the caller's transaction (page caches watch content_version)."""
    from sqlalchemy import Integer, Text, cast

    stmt = insert_for(session, kv).values(key=key, value="1", updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"], set_={"value": cast(cast(kv.c.value, Integer) + 1, Text), "updated_at": utcnow()}
    )
    session.execute(stmt)


def read(session: Session, key: str) -> str | None:
    return session.execute(select(kv.c.value).where(kv.c.key == key)).scalar_one_or_none()


def read_stamped(session: Session, key: str):
    """(value, when it was last written, naive UTC), or None."""
    row = session.execute(select(kv.c.value, kv.c.updated_at).where(kv.c.key == key)).first()
    return (row[0], row[1]) if row else None
