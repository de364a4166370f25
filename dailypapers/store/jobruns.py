"""Job runs: one row per (job, period). The scheduler claims the row (so each period is queued once
however many schedulers run); a worker then takes the run (so two workers racing for it run it
once), keeps a heartbeat while it works, and a run whose heartbeat went stale can be taken over."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update

from .dialect import insert_for
from .engine import Store
from .schema import JobRun, utcnow

runs = JobRun.__table__


def claim(store: Store, name: str, period: str) -> bool:
    """True for the one caller that claims (name, period) first, in any process on any host."""
    with store.session() as session, session.begin():
        stmt = insert_for(session, runs).values(name=name, period=period, status="queued", created_at=utcnow())
        # RETURNING, not rowcount: with PostgreSQL's implicit RETURNING the rowcount is not reliable.
        stmt = stmt.on_conflict_do_nothing(index_elements=["name", "period"]).returning(runs.c.id)
        return session.execute(stmt).first() is not None


def take(store: Store, name: str, period: str, lease: dt.timedelta) -> bool:
    """Start the run if nobody is running it: queued, failed, or running with a heartbeat older
    than `lease` (its worker died). One atomic UPDATE, so exactly one racer wins."""
    now = utcnow()
    with store.session() as session, session.begin():
        result = session.execute(
            update(runs)
            .where(
                runs.c.name == name,
                runs.c.period == period,
                or_(
                    runs.c.status.in_(("queued", "failed")),
                    (runs.c.status == "running") & (runs.c.heartbeat_at < now - lease),
                ),
            )
            .values(status="running", attempts=runs.c.attempts + 1, started_at=now, heartbeat_at=now)
        )
        return bool(result.rowcount)


def live(store: Store, name: str, lease: dt.timedelta) -> bool:
    """Whether a run of job `name` is queued or running, and not given up for dead: queued less
    than `lease` ago (a lost message frees the job after that), or running with a fresh heartbeat."""
    now = utcnow()
    with store.session() as session:
        found = session.execute(
            select(runs.c.id)
            .where(
                runs.c.name == name,
                or_(
                    (runs.c.status == "queued") & (runs.c.created_at >= now - lease),
                    (runs.c.status == "running") & (runs.c.heartbeat_at >= now - lease),
                ),
            )
            .limit(1)
        ).first()
        return found is not None


def heartbeat(store: Store, name: str, period: str) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(runs)
            .where(runs.c.name == name, runs.c.period == period, runs.c.status == "running")
            .values(heartbeat_at=utcnow())
        )


def finished(store: Store, name: str, period: str, status: str, detail: str | None) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(runs)
            .where(runs.c.name == name, runs.c.period == period)
            .values(status=status, finished_at=utcnow(), detail=(detail or "")[:2000])
        )


def get(store: Store, name: str, period: str) -> dict | None:
    """The run of (name, period): status, attempts, started_at, finished_at, detail; None if unclaimed."""
    with store.session() as session:
        row = session.execute(select(runs).where(runs.c.name == name, runs.c.period == period)).mappings().first()
        return dict(row) if row else None


def status(store: Store, name: str, period: str) -> str | None:
    with store.session() as session:
        return session.execute(select(runs.c.status).where(runs.c.name == name, runs.c.period == period)).scalar_one_or_none()


def recent(store: Store, limit: int = 50) -> list[dict]:
    with store.session() as session:
        return [dict(r) for r in session.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).mappings()]
