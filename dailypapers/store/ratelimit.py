"""A storage for the `limits` library in our own database, so every web process (and every host of a
PostgreSQL deployment) counts against the same limits without another service."""

from __future__ import annotations

import hashlib
import time

from limits.storage import Storage
from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.exc import SQLAlchemyError

from .dialect import insert_for
from .schema import RateLimit

limits_table = RateLimit.__table__
KEY_LENGTH = limits_table.c.key.type.length


def stored_key(key: str) -> str:
    """The key as the table holds it: a long one (a 254-character email in it) is cut and hashed."""
    if len(key) <= KEY_LENGTH:
        return key
    return key[: KEY_LENGTH - 33] + "#" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class StoreStorage(Storage):
    STORAGE_SCHEME = ["dailypapers+store"]

    def __init__(self, store, **options):
        self.store = store
        super().__init__(uri="dailypapers+store://", wrap_exceptions=False, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        t = limits_table
        key = stored_key(key)
        with self.store.session() as session, session.begin():
            stmt = insert_for(session, t).values(key=key, count=amount, expires_at=now + expiry)
            live = t.c.expires_at > bindparam("now", now)
            stmt = stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "count": case((live, t.c.count + amount), else_=amount),
                    "expires_at": case((live, t.c.expires_at), else_=now + expiry),
                },
            ).returning(t.c.count)
            return session.execute(stmt).scalar_one()

    def get(self, key: str) -> int:
        with self.store.session() as session:
            row = session.execute(
                select(limits_table.c.count, limits_table.c.expires_at).where(limits_table.c.key == stored_key(key))
            ).first()
        return row.count if row and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self.store.session() as session:
            at = session.execute(
                select(limits_table.c.expires_at).where(limits_table.c.key == stored_key(key))
            ).scalar_one_or_none()
        return at if at and at > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self.store.session() as session, session.begin():
            return session.execute(delete(limits_table)).rowcount

    def clear(self, key: str) -> None:
        with self.store.session() as session, session.begin():
            session.execute(delete(limits_table).where(limits_table.c.key == stored_key(key)))

    def purge_expired(self) -> int:
        with self.store.session() as session, session.begin():
            return session.execute(delete(limits_table).where(limits_table.c.expires_at <= time.time())).rowcount or 0
