"""Email digest subscriptions: the only module that writes them.

A subscription is keyed by its address (lower case). Its life: pending (until the confirmation link
is clicked) -> active -> unsubscribed, or suspended after repeated permanent delivery failures.
Subscribing again starts a new life with a new secret, which revokes every link sent before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import Subscription, utcnow

subscriptions = Subscription.__table__

CADENCES = ("daily", "weekly")
STATUSES = ("pending", "active", "unsubscribed", "suspended")


@dataclass(frozen=True)
class Preferences:
    """What a subscriber receives: the period's top `trending_count` papers (0: none), new papers
    matching a saved search (`topic_query` and/or `topic_categories`), and, for a subscriber
    linked to an account, papers like the ones they upvoted."""

    cadence: str = "daily"
    trending_count: int = 10
    topic_query: str | None = None
    topic_categories: tuple[str, ...] = ()
    similar_to_upvotes: bool = False

    @property
    def has_topic(self) -> bool:
        return bool(self.topic_query or self.topic_categories)


@dataclass
class Subscriber:
    """A subscription row."""

    id: int
    email: str
    user_id: int | None
    status: str
    secret: str
    preferences: Preferences
    created_at: dt.datetime | None = None
    confirm_sent_at: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    unsubscribed_at: dt.datetime | None = None
    last_digest_at: dt.datetime | None = None
    permanent_failures: int = 0


def _subscriber(row) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        user_id=row["user_id"],
        status=row["status"],
        secret=row["secret"],
        preferences=Preferences(
            cadence=row["cadence"],
            trending_count=row["trending_count"],
            topic_query=row["topic_query"],
            topic_categories=tuple(row["topic_categories"] or ()),
            similar_to_upvotes=bool(row["similar_to_upvotes"]),
        ),
        created_at=row["created_at"],
        confirm_sent_at=row["confirm_sent_at"],
        confirmed_at=row["confirmed_at"],
        unsubscribed_at=row["unsubscribed_at"],
        last_digest_at=row["last_digest_at"],
        permanent_failures=row["permanent_failures"],
    )


def _values(prefs: Preferences) -> dict:
    return {
        "cadence": prefs.cadence,
        "trending_count": prefs.trending_count,
        "topic_query": prefs.topic_query or None,
        "topic_categories": list(prefs.topic_categories),
        "similar_to_upvotes": prefs.similar_to_upvotes,
    }


def get(session: Session, subscription_id: int) -> Subscriber | None:
    row = session.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    return _subscriber(row) if row else None


def by_email(session: Session, email: str, *, lock: bool = False) -> Subscriber | None:
    """The subscription of an address; with `lock`, its row is locked until the transaction ends
    (PostgreSQL; SQLite's write transactions hold the whole database)."""
    stmt = select(subscriptions).where(subscriptions.c.email == email)
    row = session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    return _subscriber(row) if row else None


def get_many(session: Session, ids: list[int]) -> dict[int, Subscriber]:
    out: dict[int, Subscriber] = {}
    for part in chunks(ids):
        for row in session.execute(select(subscriptions).where(subscriptions.c.id.in_(part))).mappings():
            out[row["id"]] = _subscriber(row)
    return out


def create_pending(session: Session, email: str, prefs: Preferences, secret: str, *, user_id: int | None = None) -> int | None:
    """A new pending subscription; None when the address already has one (a concurrent request)."""
    stmt = insert_for(session, subscriptions).values(
        email=email, user_id=user_id, status="pending", secret=secret, created_at=utcnow(), permanent_failures=0, **_values(prefs)
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["email"]).returning(subscriptions.c.id)
    return session.execute(stmt).scalar_one_or_none()


def restart(session: Session, subscription_id: int, prefs: Preferences, secret: str, *, user_id: int | None = None) -> None:
    """Make an unsubscribed or suspended subscription pending again, with a new secret (old links die)."""
    session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(status="pending", secret=secret, confirmed_at=None, unsubscribed_at=None, permanent_failures=0,
                user_id=user_id, **_values(prefs))
    )


def set_preferences(session: Session, subscription_id: int, prefs: Preferences, *, user_id: int | None = None) -> None:
    values = _values(prefs)
    if user_id is not None:
        values["user_id"] = user_id
    session.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values))


def note_sent(session: Session, subscription_id: int, at: dt.datetime) -> None:
    """An email (confirmation or preferences link) was handed to the mail server for this address."""
    session.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(confirm_sent_at=at))


def confirm(session: Session, subscription_id: int, at: dt.datetime) -> bool:
    """Pending -> active; True when it changed."""
    result = session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.status == "pending")
        .values(status="active", confirmed_at=at, permanent_failures=0)
    )
    return bool(result.rowcount)


def unsubscribe(session: Session, subscription_id: int, at: dt.datetime) -> bool:
    """Any state -> unsubscribed, at once; True when it changed."""
    result = session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.status != "unsubscribed")
        .values(status="unsubscribed", unsubscribed_at=at)
    )
    return bool(result.rowcount)


def reactivate(session: Session, subscription_id: int) -> bool:
    """Unsubscribed -> active again (from the preferences page, which proves the mailbox)."""
    result = session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.status == "unsubscribed", subscriptions.c.confirmed_at.is_not(None))
        .values(status="active", unsubscribed_at=None, permanent_failures=0)
    )
    return bool(result.rowcount)


def active(session: Session, cadence: str, *, email: str | None = None) -> list[Subscriber]:
    """The active subscriptions of a cadence (or the one with this address), by id."""
    stmt = select(subscriptions).where(subscriptions.c.status == "active", subscriptions.c.cadence == cadence)
    if email is not None:
        stmt = stmt.where(subscriptions.c.email == email)
    return [_subscriber(r) for r in session.execute(stmt.order_by(subscriptions.c.id)).mappings()]


def advance(session: Session, ids: list[int], covered_until: dt.datetime) -> None:
    """Topic alerts of these subscriptions have covered everything featured before `covered_until`
    (never moves backwards, so a late retry of an old period cannot make alerts repeat)."""
    for part in chunks(ids):
        session.execute(
            update(subscriptions)
            .where(
                subscriptions.c.id.in_(part),
                (subscriptions.c.last_digest_at.is_(None)) | (subscriptions.c.last_digest_at < covered_until),
            )
            .values(last_digest_at=covered_until)
        )


_delivered_statement = None


def delivered(session: Session, subscription_id: int, covered_until: dt.datetime) -> None:
    """A digest went through: its topic alerts have covered everything before `covered_until` (never
    moving backwards), and the count of consecutive permanent failures starts again. One cached
    statement: the send loop runs it once per message."""
    global _delivered_statement
    if _delivered_statement is None:
        until = bindparam("covered_until", type_=subscriptions.c.last_digest_at.type)
        last = subscriptions.c.last_digest_at
        _delivered_statement = (
            update(subscriptions)
            .where(subscriptions.c.id == bindparam("subscription_id"))
            .values(last_digest_at=case((last.is_(None) | (last < until), until), else_=last), permanent_failures=0)
        )
    session.execute(_delivered_statement, {"subscription_id": subscription_id, "covered_until": covered_until})


def failed_permanently(session: Session, subscription_id: int, suspend_after: int) -> bool:
    """Count a permanent failure; suspend the address at `suspend_after` in a row. True when suspended now."""
    session.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(permanent_failures=subscriptions.c.permanent_failures + 1)
    )
    result = session.execute(
        update(subscriptions)
        .where(
            subscriptions.c.id == subscription_id,
            subscriptions.c.status == "active",
            subscriptions.c.permanent_failures >= suspend_after,
        )
        .values(status="suspended")
    )
    return bool(result.rowcount)


def count_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(select(subscriptions.c.status, func.count()).group_by(subscriptions.c.status))
    return {status: n for status, n in rows}


def purge_unconfirmed(session: Session, created_before: dt.datetime) -> int:
    """Delete subscriptions never confirmed whose links have long expired (their addresses were
    only ever sent a confirmation request)."""
    from sqlalchemy import delete

    result = session.execute(
        delete(subscriptions).where(subscriptions.c.status == "pending", subscriptions.c.created_at < created_before)
    )
    return result.rowcount or 0
