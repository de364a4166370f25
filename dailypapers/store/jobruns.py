"""Job runs: one row per (job, period). The scheduler claims the row (so each period is queued once
however many schedulers run); a worker then takes the run (so two workers racing for it run it
once), keeps a heartbeat while it works, and a run whose heartbeat went stale can be taken over.

While a run is queued, `heartbeat_at` says when it was last handed to the queue or seen waiting
there (empty: since it was claimed, `created_at`). A queued run not seen for the claim expiry
(its message lost) or a running one whose heartbeat is older than the lease (its worker died, or
its end could not be recorded) is stuck: `stuck` finds them and `requeue` takes one over.

Unlike the entity modules, which work in their caller's session, each function here is a transaction
of its own, committed before it returns: a claim, a take or a heartbeat is a step of a protocol
between processes, which the others must see at once whatever the caller does next (a claim made
inside a longer transaction would let a second scheduler claim the same period). So they take the
Store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select, text, update

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


def release(store: Store, name: str, period: str) -> bool:
    """Remove a claim that never reached a worker (its enqueue failed, or a run from the shell did
    not start): the period can be claimed again. A run already taken is left alone."""
    with store.session() as session, session.begin():
        result = session.execute(delete(runs).where(runs.c.name == name, runs.c.period == period, runs.c.status == "queued"))
        return bool(result.rowcount)


def _running_elsewhere(name: str, period: str, now: dt.datetime, lease: dt.timedelta):
    return (
        (runs.c.name == name)
        & (runs.c.period != period)
        & (runs.c.status == "running")
        & (runs.c.heartbeat_at >= now - lease)
    )


def take(store: Store, name: str, period: str, lease: dt.timedelta, *, exclusive: bool = False) -> bool:
    """Start the run if nobody is running it: queued, failed, or running with a heartbeat older
    than `lease` (its worker died). One atomic UPDATE, so exactly one racer wins. `exclusive`: and
    only while no other run of the job is running with a fresh heartbeat; takers of one job are
    serialized (SQLite's write lock, an advisory lock on PostgreSQL) so two periods cannot both
    start."""
    with store.writing() as session:
        if exclusive and session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"dailypapers-job:{name}"})
        now = utcnow()
        condition = [
            runs.c.name == name,
            runs.c.period == period,
            or_(
                runs.c.status.in_(("queued", "failed")),
                (runs.c.status == "running") & (runs.c.heartbeat_at < now - lease),
            ),
        ]
        if exclusive:
            condition.append(~select(runs.c.id).where(_running_elsewhere(name, period, now, lease)).exists())
        result = session.execute(
            update(runs)
            .where(*condition)
            .values(status="running", attempts=runs.c.attempts + 1, started_at=now, heartbeat_at=now)
        )
        return bool(result.rowcount)


def holder(store: Store, name: str, period: str, lease: dt.timedelta) -> dict | None:
    """Another run of job `name` running with a fresh heartbeat (what an exclusive take waits for)."""
    with store.session() as session:
        row = session.execute(
            select(runs).where(_running_elsewhere(name, period, utcnow(), lease)).order_by(runs.c.id).limit(1)
        ).mappings().first()
        return dict(row) if row else None


def _set_heartbeat(store: Store, name: str, period: str, status: str, value: dt.datetime | None) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(runs).where(runs.c.name == name, runs.c.period == period, runs.c.status == status).values(heartbeat_at=value)
        )


def touch(store: Store, name: str, period: str) -> None:
    """A queued run's message is alive (waiting for another run of its job): not a lost claim."""
    _set_heartbeat(store, name, period, "queued", utcnow())


def _seen():
    """When a queued run was last handed to the queue or seen waiting there."""
    return func.coalesce(runs.c.heartbeat_at, runs.c.created_at)


def _stuck(now: dt.datetime, claim: dt.timedelta, lease: dt.timedelta):
    return or_(
        (runs.c.status == "queued") & (_seen() < now - claim),
        (runs.c.status == "running") & (func.coalesce(runs.c.heartbeat_at, runs.c.created_at) < now - lease),
    )


def live(store: Store, name: str, lease: dt.timedelta, claim: dt.timedelta) -> bool:
    """Whether a run of job `name` is queued or running, and not given up for dead: queued and
    seen less than `claim` ago (a lost message frees the job after that), or running with a heartbeat
    younger than `lease`."""
    now = utcnow()
    with store.session() as session:
        found = session.execute(
            select(runs.c.id)
            .where(
                runs.c.name == name,
                or_(
                    (runs.c.status == "queued") & (_seen() >= now - claim),
                    (runs.c.status == "running") & (runs.c.heartbeat_at >= now - lease),
                ),
            )
            .limit(1)
        ).first()
        return found is not None


def stuck(store: Store, claim: dt.timedelta, lease: dt.timedelta, names: list[str] | None = None) -> list[dict]:
    """Runs no worker will finish: queued and not handed to the queue or seen there for `claim`, or
    running with a heartbeat older than `lease`; oldest first."""
    with store.session() as session:
        stmt = select(runs).where(_stuck(utcnow(), claim, lease)).order_by(runs.c.id)
        if names is not None:
            stmt = stmt.where(runs.c.name.in_(names))
        return [dict(r) for r in session.execute(stmt).mappings()]


def requeue(store: Store, name: str, period: str, claim: dt.timedelta, lease: dt.timedelta) -> bool:
    """Take over a stuck run (see `stuck`) to hand it to the queue again: it becomes queued, seen
    now. True for the one caller that does it (several schedulers may try)."""
    now = utcnow()
    with store.session() as session, session.begin():
        result = session.execute(
            update(runs)
            .where(runs.c.name == name, runs.c.period == period, _stuck(now, claim, lease))
            .values(status="queued", heartbeat_at=now)
        )
        return bool(result.rowcount)


def queued_since(store: Store, before: dt.datetime, names: list[str] | None = None) -> list[dict]:
    """Queued runs last handed to the queue (or seen waiting there) before `before` (naive UTC),
    with `seen`, that moment."""
    with store.session() as session:
        stmt = select(runs, _seen().label("seen")).where(runs.c.status == "queued", _seen() < before).order_by(runs.c.id)
        if names is not None:
            stmt = stmt.where(runs.c.name.in_(names))
        return [dict(r) for r in session.execute(stmt).mappings()]


def resend(store: Store, name: str, period: str, seen: dt.datetime) -> bool:
    """A queued run whose message the queue no longer holds is handed to it again now: true for the
    one caller that marks it so, if nothing touched the run since `seen` (a worker took it, or
    another scheduler handed it over first)."""
    with store.session() as session, session.begin():
        result = session.execute(
            update(runs)
            .where(runs.c.name == name, runs.c.period == period, runs.c.status == "queued", _seen() <= seen)
            .values(heartbeat_at=utcnow())
        )
        return bool(result.rowcount)


def unseen(store: Store, name: str, period: str) -> None:
    """Undo `requeue`'s "seen now" when handing the run over failed (the queue unreachable)."""
    _set_heartbeat(store, name, period, "queued", None)


def latest(store: Store) -> dict[str, dict]:
    """Each job's latest run (by claim), by job name."""
    newest = select(func.max(runs.c.id)).group_by(runs.c.name)
    with store.session() as session:
        return {r["name"]: dict(r) for r in session.execute(select(runs).where(runs.c.id.in_(newest))).mappings()}


def has_run(store: Store, name: str, since: dt.datetime) -> bool:
    """Whether a run of job `name` was claimed at or after `since` (naive UTC)."""
    with store.session() as session:
        found = session.execute(select(runs.c.id).where(runs.c.name == name, runs.c.created_at >= since).limit(1)).first()
        return found is not None


def heartbeat(store: Store, name: str, period: str) -> None:
    _set_heartbeat(store, name, period, "running", utcnow())


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
