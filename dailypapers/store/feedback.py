"""Members' feedback on papers besides upvotes and saves: "not interested" (`dismiss`: hidden from
them, a negative for their recommender) and `shown` (recommended to them on a page, counted)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import Feedback, utcnow
from .users import bump_signals

feedback = Feedback.__table__


def dismiss(session: Session, user_id: int, paper_id: int) -> bool:
    """Mark a paper "not interested" (idempotent); True when it was not already."""
    stmt = insert_for(session, feedback).values(user_id=user_id, paper_id=paper_id, kind="dismiss", count=1, at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "paper_id", "kind"]).returning(feedback.c.paper_id)
    if session.execute(stmt).first() is None:
        return False
    bump_signals(session, user_id)
    return True


def undismiss(session: Session, user_id: int, paper_id: int) -> bool:
    """Take a "not interested" back (idempotent); True when there was one."""
    done = session.execute(
        delete(feedback)
        .where(feedback.c.user_id == user_id, feedback.c.paper_id == paper_id, feedback.c.kind == "dismiss")
        .returning(feedback.c.paper_id)
    ).first()
    if done is None:
        return False
    bump_signals(session, user_id)
    return True


def dismissed(session: Session, user_id: int, paper_ids: list[int] | None = None) -> set[int]:
    """The papers the member dismissed (of `paper_ids`, when given)."""
    query = select(feedback.c.paper_id).where(feedback.c.user_id == user_id, feedback.c.kind == "dismiss")
    if paper_ids is None:
        return set(session.execute(query).scalars())
    out: set[int] = set()
    for part in chunks(paper_ids):
        out.update(session.execute(query.where(feedback.c.paper_id.in_(part))).scalars())
    return out


def dismissed_select(user_id: int):
    """The ids of the papers the member dismissed, as a subquery: feeds leave them out
    (`column.not_in(...)`) and count what they left out (`column.in_(...)`)."""
    return select(feedback.c.paper_id).where(feedback.c.user_id == user_id, feedback.c.kind == "dismiss")


def record_shown(session: Session, user_id: int, paper_ids: list[int]) -> None:
    """Count that these papers were recommended to the member (one statement per batch)."""
    if not paper_ids:
        return
    now = utcnow()
    stmt = insert_for(session, feedback)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "paper_id", "kind"], set_={"count": feedback.c.count + 1, "at": stmt.excluded.at}
    )
    session.execute(stmt, [{"user_id": user_id, "paper_id": p, "kind": "shown", "count": 1, "at": now} for p in dict.fromkeys(paper_ids)])


def of_member(session: Session, user_id: int, kind: str) -> list[tuple[int, int, object]]:
    """(paper id, count, latest time) of the member's feedback of a kind, newest first."""
    rows = session.execute(
        select(feedback.c.paper_id, feedback.c.count, feedback.c.at)
        .where(feedback.c.user_id == user_id, feedback.c.kind == kind)
        .order_by(feedback.c.at.desc())
    )
    return [tuple(r) for r in rows]
