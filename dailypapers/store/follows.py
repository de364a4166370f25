"""What members follow: authors (by folded author key), categories and saved searches."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .dialect import insert_for
from .schema import Follow, utcnow
from .users import bump_signals

follows = Follow.__table__
KINDS = ("author", "category", "search")


def follow(session: Session, user_id: int, kind: str, value: str, label: str) -> bool:
    """Follow (idempotent); True when it is new."""
    if kind not in KINDS:
        raise ValueError(f"unknown follow kind {kind!r}")
    stmt = insert_for(session, follows).values(user_id=user_id, kind=kind, value=value[:400], label=label[:400], created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "kind", "value"]).returning(follows.c.id)
    if session.execute(stmt).first() is None:
        return False
    bump_signals(session, user_id)
    return True


def unfollow(session: Session, user_id: int, kind: str, value: str) -> bool:
    """Stop following (idempotent); True when there was such a follow."""
    done = session.execute(
        delete(follows).where(follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value).returning(follows.c.id)
    ).first()
    if done is None:
        return False
    bump_signals(session, user_id)
    return True


def of_member(session: Session, user_id: int, kind: str | None = None) -> list[dict]:
    """The member's follows (kind, value, label, created_at), oldest first."""
    query = select(follows.c.kind, follows.c.value, follows.c.label, follows.c.created_at).where(follows.c.user_id == user_id)
    if kind:
        query = query.where(follows.c.kind == kind)
    return [dict(r) for r in session.execute(query.order_by(follows.c.created_at, follows.c.id)).mappings()]


def is_following(session: Session, user_id: int, kind: str, value: str) -> bool:
    return session.execute(
        select(follows.c.id).where(follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value)
    ).first() is not None
