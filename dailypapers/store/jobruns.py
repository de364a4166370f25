"""Job runs: one row per (job, period), claimed before the job runs."""

from __future__ import annotations

from sqlalchemy import select, update

from .dialect import insert_for
from .engine import Store
from .schema import JobRun, utcnow

runs = JobRun.__table__


def claim(store: Store, name: str, period: str) -> bool:
    """True for the one caller that claims (name, period) first, in any process on any host."""
    with store.session() as session, session.begin():
        stmt = insert_for(session, runs).values(name=name, period=period, status="queued", created_at=utcnow())
        result = session.execute(stmt.on_conflict_do_nothing(index_elements=["name", "period"]))
        return bool(result.rowcount)


def started(store: Store, name: str, period: str) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(runs).where(runs.c.name == name, runs.c.period == period).values(status="running", started_at=utcnow())
        )


def finished(store: Store, name: str, period: str, status: str, detail: str | None) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(runs)
            .where(runs.c.name == name, runs.c.period == period)
            .values(status=status, finished_at=utcnow(), detail=(detail or "")[:2000])
        )


def recent(store: Store, limit: int = 50) -> list[dict]:
    with store.session() as session:
        return [dict(r) for r in session.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).mappings()]
