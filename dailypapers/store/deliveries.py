"""Deliveries: one row per email (a subscription's digest for a period, or a confirmation), written
before the message is handed to the mail server. The unique key (subscription, kind, period) is
what makes digests exactly-once: whoever inserts the row is the one sender that may send it.

Statuses: pending (to try again at next_attempt_at) -> sending (held by `sender` until
next_attempt_at, the lease) -> sent | failed; skipped (nothing new: no email); unknown (a sender
died holding it twice; never sent a third time). See dailypapers/digest/send.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from .dialect import bulk_insert, chunks
from .schema import Delivery, utcnow

deliveries = Delivery.__table__

FINAL = ("sent", "failed", "skipped", "unknown")


@dataclass(frozen=True)
class DeliveryState:
    id: int
    subscription_id: int
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    sender: str | None
    interrupted: int


def states(session: Session, kind: str, period: str, subscription_ids: list[int] | None = None) -> dict[int, DeliveryState]:
    """subscription id -> its delivery row for (kind, period), for those that have one."""
    cols = (
        deliveries.c.id,
        deliveries.c.subscription_id,
        deliveries.c.status,
        deliveries.c.attempts,
        deliveries.c.next_attempt_at,
        deliveries.c.sender,
        deliveries.c.interrupted,
    )
    base = select(*cols).where(deliveries.c.kind == kind, deliveries.c.period == period)
    parts = [base] if subscription_ids is None else [base.where(deliveries.c.subscription_id.in_(p)) for p in chunks(subscription_ids)]
    out: dict[int, DeliveryState] = {}
    for stmt in parts:
        for row in session.execute(stmt):
            out[row.subscription_id] = DeliveryState(*row)
    return out


_statements: dict[tuple[str, str], object] = {}


def _cached(session: Session, name: str, build):
    """A statement built once per dialect: the send loop runs these 10,000 times, and building
    and compiling them anew each time costs more than the database."""
    key = (session.get_bind().dialect.name, name)
    stmt = _statements.get(key)
    if stmt is None:
        stmt = _statements[key] = build()
    return stmt


def claim_new(
    session: Session,
    subscription_id: int,
    kind: str,
    period: str,
    *,
    sender: str,
    lease_until: dt.datetime,
    message_id: str,
    paper_ids: list[int],
) -> int | None:
    """Insert the row as 'sending', held by `sender`; None when another sender has the row already."""
    names = ("subscription_id", "kind", "period", "status", "sender", "next_attempt_at", "message_id", "paper_ids",
             "attempts", "interrupted", "created_at")
    # Written out: SQLAlchemy's ON CONFLICT constructs are compiled anew at every execution.
    stmt = _cached(
        session,
        "claim_new",
        lambda: text(
            f"INSERT INTO deliveries ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
            "ON CONFLICT (subscription_id, kind, period) DO NOTHING RETURNING id"
        ).bindparams(*(bindparam(n, type_=deliveries.c[n].type) for n in names)),
    )
    params = dict(subscription_id=subscription_id, kind=kind, period=period, status="sending", sender=sender,
                  next_attempt_at=lease_until, message_id=message_id, paper_ids=paper_ids, attempts=1, interrupted=0,
                  created_at=utcnow())
    return session.execute(stmt, params).scalar_one_or_none()


def claim_retry(
    session: Session, delivery_id: int, *, sender: str, lease_until: dt.datetime, paper_ids: list[int], now: dt.datetime
) -> bool:
    """A pending row whose retry time has come -> 'sending' for this sender; False when another took it."""
    result = session.execute(
        update(deliveries)
        .where(
            deliveries.c.id == delivery_id,
            deliveries.c.status == "pending",
            (deliveries.c.next_attempt_at.is_(None)) | (deliveries.c.next_attempt_at <= now),
        )
        .values(status="sending", sender=sender, next_attempt_at=lease_until, paper_ids=paper_ids, attempts=deliveries.c.attempts + 1)
    )
    return bool(result.rowcount)


def take_over(session: Session, delivery_id: int, old_sender: str | None, *, give_up: bool) -> bool:
    """An interrupted 'sending' row (its sender died): back to 'pending' to be sent once more, or,
    with `give_up`, to 'unknown'. Guarded by the old sender, so only one process takes it over."""
    stmt = update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.status == "sending")
    stmt = stmt.where(deliveries.c.sender == old_sender) if old_sender is not None else stmt.where(deliveries.c.sender.is_(None))
    values = {"interrupted": deliveries.c.interrupted + 1, "sender": None, "next_attempt_at": None}
    values["status"] = "unknown" if give_up else "pending"
    values["last_error"] = "sender interrupted twice while sending; not sent again" if give_up else "sender interrupted while sending"
    return bool(session.execute(stmt.values(**values)).rowcount)


def mark_sent(session: Session, delivery_id: int, at: dt.datetime) -> None:
    stmt = _cached(
        session,
        "mark_sent",
        lambda: update(deliveries)
        .where(deliveries.c.id == bindparam("delivery_id"))
        .values(status="sent", sent_at=bindparam("at", type_=deliveries.c.sent_at.type), next_attempt_at=None, sender=None),
    )
    session.execute(stmt, {"delivery_id": delivery_id, "at": at})


def defer(session: Session, delivery_id: int, error: str, next_attempt_at: dt.datetime) -> None:
    """A temporary failure: try again after `next_attempt_at`."""
    session.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status="pending", last_error=error[:2000], next_attempt_at=next_attempt_at, sender=None)
    )


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    """A permanent failure (or too many temporary ones): never tried again."""
    session.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status="failed", last_error=error[:2000], next_attempt_at=None, sender=None)
    )


def mark_skipped(session: Session, delivery_id: int) -> None:
    """A retried digest found nothing new after all (the papers it had are gone)."""
    session.execute(
        update(deliveries).where(deliveries.c.id == delivery_id).values(status="skipped", next_attempt_at=None, sender=None)
    )


def record_skipped(session: Session, subscription_ids: list[int], kind: str, period: str) -> int:
    """Periods with nothing new for these subscriptions: recorded, so they are not composed again."""
    now = utcnow()
    rows = [
        {"subscription_id": sid, "kind": kind, "period": period, "status": "skipped", "paper_ids": [], "attempts": 0,
         "interrupted": 0, "created_at": now}
        for sid in subscription_ids
    ]
    return bulk_insert(session, deliveries, rows, ignore_conflicts_on=("subscription_id", "kind", "period"))


def counts(session: Session, kind: str, period: str) -> dict[str, int]:
    """status -> number of rows, for one period."""
    rows = session.execute(
        select(deliveries.c.status, func.count())
        .where(deliveries.c.kind == kind, deliveries.c.period == period)
        .group_by(deliveries.c.status)
    )
    return {status: n for status, n in rows}


def recent_for(session: Session, subscription_id: int, limit: int = 10) -> list[dict]:
    """A subscription's latest deliveries, newest first (for its preferences page)."""
    stmt = (
        select(deliveries.c.kind, deliveries.c.period, deliveries.c.status, deliveries.c.sent_at, deliveries.c.created_at)
        .where(deliveries.c.subscription_id == subscription_id)
        .order_by(deliveries.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def get(session: Session, delivery_id: int) -> dict | None:
    row = session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
    return dict(row) if row else None
