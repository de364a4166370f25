"""The outbox: one row per one-off email (a subscription's confirmation or preferences link, an
account email), written in the same transaction as the request that causes it. The only module that
writes it; the sending is dailypapers/digest/outbox.py.

Statuses: pending (due at next_attempt_at) -> sending (held by `sender` until next_attempt_at, its
lease) -> sent | failed; skipped (no longer needed when its turn came); unknown (a sender died
holding it twice; never sent a third time). A subscription has at most one open (pending or
sending) row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.orm import Session

from .schema import OutboxMail, utcnow

outbox = OutboxMail.__table__

OPEN = ("pending", "sending")


@dataclass(frozen=True)
class Mail:
    id: int
    kind: str
    recipient: str
    subscription_id: int | None
    user_id: int | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    sender: str | None
    interrupted: int
    created_at: dt.datetime


_COLUMNS = tuple(outbox.c[name] for name in Mail.__dataclass_fields__)


def get(session: Session, mail_id: int) -> Mail | None:
    row = session.execute(select(*_COLUMNS).where(outbox.c.id == mail_id)).first()
    return Mail(*row) if row else None


def add(session: Session, kind: str, recipient: str, *, subscription_id: int | None = None, user_id: int | None = None,
        now: dt.datetime | None = None) -> int:
    """A new email, due at once; its id."""
    now = now or utcnow()
    return session.execute(
        outbox.insert()
        .values(kind=kind, recipient=recipient, subscription_id=subscription_id, user_id=user_id, status="pending",
                attempts=0, interrupted=0, next_attempt_at=now, created_at=now)
        .returning(outbox.c.id)
    ).scalar_one()


def open_for(session: Session, subscription_id: int) -> Mail | None:
    """The subscription's email not yet sent (pending or being sent), if any."""
    row = session.execute(
        select(*_COLUMNS).where(outbox.c.subscription_id == subscription_id, outbox.c.status.in_(OPEN)).order_by(outbox.c.id.desc())
    ).first()
    return Mail(*row) if row else None


def renew(session: Session, mail_id: int, kind: str, now: dt.datetime) -> bool:
    """A pending email asked for again: of this kind now, and due at once. False when it is no
    longer pending (a sender took it meanwhile)."""
    result = session.execute(
        update(outbox).where(outbox.c.id == mail_id, outbox.c.status == "pending").values(kind=kind, next_attempt_at=now)
    )
    return bool(result.rowcount)


def due(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Pending emails whose time has come, oldest due first."""
    stmt = (
        select(outbox.c.id)
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def in_flight(session: Session) -> list[Mail]:
    """The emails marked 'sending' (by live senders, or by senders that died)."""
    return [Mail(*row) for row in session.execute(select(*_COLUMNS).where(outbox.c.status == "sending"))]


def claim(session: Session, mail_id: int, *, sender: str, lease_until: dt.datetime, now: dt.datetime) -> Mail | None:
    """A due pending email -> 'sending', held by `sender` until `lease_until`; None when it is not
    due or another sender took it (the check and the write are one statement)."""
    result = session.execute(
        update(outbox)
        .where(outbox.c.id == mail_id, outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .values(status="sending", sender=sender, next_attempt_at=lease_until, attempts=outbox.c.attempts + 1)
    )
    return get(session, mail_id) if result.rowcount else None


def take_over(session: Session, mail_id: int, old_sender: str | None, *, give_up: bool, now: dt.datetime) -> bool:
    """A 'sending' email whose sender died: pending again (due at `now`, sent once more), or, with
    `give_up`, 'unknown'. Guarded by the old sender, so only one process takes it over."""
    stmt = update(outbox).where(outbox.c.id == mail_id, outbox.c.status == "sending")
    stmt = stmt.where(outbox.c.sender == old_sender) if old_sender is not None else stmt.where(outbox.c.sender.is_(None))
    result = session.execute(stmt.values(
        status="unknown" if give_up else "pending",
        interrupted=outbox.c.interrupted + 1,
        sender=None,
        next_attempt_at=None if give_up else now,
        last_error="sender interrupted twice while sending; not sent again" if give_up else "sender interrupted while sending",
    ))
    return bool(result.rowcount)


def _finish(session: Session, mail_id: int, sender: str, **values) -> bool:
    """Set the outcome of an email this sender holds; False when it no longer holds it."""
    result = session.execute(
        update(outbox).where(outbox.c.id == mail_id, outbox.c.status == "sending", outbox.c.sender == sender)
        .values(sender=None, **values)
    )
    return bool(result.rowcount)


def mark_sent(session: Session, mail_id: int, sender: str, message_id: str, at: dt.datetime) -> bool:
    return _finish(session, mail_id, sender, status="sent", sent_at=at, message_id=message_id, next_attempt_at=None)


def defer(session: Session, mail_id: int, sender: str, error: str, next_attempt_at: dt.datetime) -> bool:
    """A temporary failure: try again at `next_attempt_at`."""
    return _finish(session, mail_id, sender, status="pending", last_error=error[:2000], next_attempt_at=next_attempt_at)


def mark_failed(session: Session, mail_id: int, sender: str, error: str) -> bool:
    """A permanent failure, or too many temporary ones: never tried again."""
    return _finish(session, mail_id, sender, status="failed", last_error=error[:2000], next_attempt_at=None)


def mark_skipped(session: Session, mail_id: int, sender: str, why: str) -> bool:
    return _finish(session, mail_id, sender, status="skipped", last_error=why[:2000], next_attempt_at=None)


def retrying(session: Session) -> bool:
    """Whether some email failed at least once and waits for its next try (the mail server is
    refusing or unreachable, most likely)."""
    stmt = select(outbox.c.id).where(outbox.c.status == "pending", outbox.c.attempts > 0).limit(1)
    return session.execute(stmt).first() is not None


@dataclass(frozen=True)
class KindCounts:
    kind: str
    counts: dict[str, int]  # pending (never tried), retrying, sending, sent, failed, skipped, unknown
    next_try: dt.datetime | None  # the earliest next try of a retrying email
    last_error: str | None  # of the latest email that failed or waits for a retry


def summary(session: Session) -> list[KindCounts]:
    """Per kind: emails by status ('retrying': pending after a failed try), when the next retry is
    due, and the latest error."""
    retrying_ = (outbox.c.status == "pending") & (outbox.c.attempts > 0)
    tried = outbox.c.attempts > literal_column("0")  # a literal: PostgreSQL matches the GROUP BY by its text
    rows = session.execute(
        select(outbox.c.kind, outbox.c.status, tried, func.count(), func.min(outbox.c.next_attempt_at))
        .group_by(outbox.c.kind, outbox.c.status, tried)
    ).all()
    out: dict[str, dict] = {}
    for kind, state, tried, n, next_at in rows:
        entry = out.setdefault(kind, {"counts": {}, "next_try": None})
        name = "retrying" if state == "pending" and tried else state
        entry["counts"][name] = entry["counts"].get(name, 0) + n
        if name == "retrying" and next_at is not None and (entry["next_try"] is None or next_at < entry["next_try"]):
            entry["next_try"] = next_at
    errors = {}
    for kind in out:
        errors[kind] = session.execute(
            select(outbox.c.last_error)
            .where(outbox.c.kind == kind, (outbox.c.status == "failed") | retrying_, outbox.c.last_error.is_not(None))
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return [KindCounts(kind, v["counts"], v["next_try"], errors[kind]) for kind, v in sorted(out.items())]
