"""A request slot shared by every job and process that talks to one upstream (arXiv asks for one
request every 3 seconds from all of a site's clients together, not from each).

The store keeps the time (epoch seconds) of the last request slot handed out, in the kv table; a
client reserves the next one (at least `interval` after it) by compare-and-set, so two processes
never take the same slot, on SQLite and PostgreSQL alike, and then sleeps until its slot comes."""

from __future__ import annotations

import time

from sqlalchemy import select, update

from .dialect import insert_for
from .engine import Store
from .schema import KeyValue, utcnow

kv = KeyValue.__table__

ARXIV = "pace:arxiv"  # the slot every arXiv client shares: harvests, lookups, PDFs for thumbnails


def reserve(store: Store, key: str, interval: float, now: float) -> float:
    """Reserve the next slot of `key` at or after `now` and `interval` after the last one handed
    out; returns its time (epoch seconds)."""
    for _ in range(100):
        with store.writing() as session:  # SQLite: the write lock from the start (no upgrade deadlock)
            last = session.execute(select(kv.c.value).where(kv.c.key == key)).scalar_one_or_none()
            if last is None:
                stmt = insert_for(session, kv).values(key=key, value=repr(now), updated_at=utcnow())
                inserted = session.execute(stmt.on_conflict_do_nothing(index_elements=["key"])).rowcount
                if inserted:
                    return now
                continue  # another client made the row first: read it
            try:
                at = max(now, float(last) + interval)
            except ValueError:
                at = now  # a damaged value: start over from now
            taken = session.execute(
                update(kv).where(kv.c.key == key, kv.c.value == last).values(value=repr(at), updated_at=utcnow())
            ).rowcount
            if taken:
                return at
    raise RuntimeError(f"could not reserve a request slot of {key}")  # a hundred lost races in a row


class SharedPace:
    """A PoliteClient's pacer (sources/http.py): wait for this site's next slot with the upstream."""

    def __init__(self, store: Store, key: str = ARXIV, interval: float | None = None, *, sleep=time.sleep, clock=time.time):
        self.store = store
        self.key = key
        self.interval = store.settings.arxiv_request_interval if interval is None else interval
        self._sleep = sleep
        self._clock = clock

    def __call__(self) -> None:
        if self.interval <= 0:
            return
        at = reserve(self.store, self.key, self.interval, self._clock())
        wait = at - self._clock()
        if wait > 0:
            self._sleep(wait)
