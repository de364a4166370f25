"""Upvotes: one per user and paper. The paper's upvote_count moves in the same transaction, and so
does the member's signals counter (an upvote is a positive for their recommender)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import Paper, Upvote, utcnow
from .users import bump_signals

upvotes = Upvote.__table__
papers = Paper.__table__


def _total(session: Session, paper_id: int) -> int:
    return session.execute(select(papers.c.upvotes_imported + papers.c.upvote_count).where(papers.c.id == paper_id)).scalar_one()


def _move(session: Session, paper_id: int, by: int) -> int:
    """Move the stored count by one vote in one UPDATE: the row lock it takes orders racing votes
    on PostgreSQL (a recount by subquery at READ COMMITTED lost updates); returns the new total."""
    stmt = (
        update(papers)
        .where(papers.c.id == paper_id)
        .values(upvote_count=papers.c.upvote_count + by)
        .returning(papers.c.upvotes_imported + papers.c.upvote_count)
    )
    return session.execute(stmt).scalar_one()


def add(session: Session, user_id: int, paper_id: int) -> int:
    """Upvote (idempotent); returns the paper's total upvotes. The count moves only when this
    statement inserted the row (RETURNING, not rowcount: see jobruns.claim)."""
    stmt = insert_for(session, upvotes).values(user_id=user_id, paper_id=paper_id, created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "paper_id"]).returning(upvotes.c.paper_id)
    if session.execute(stmt).first() is not None:
        bump_signals(session, user_id)
        return _move(session, paper_id, 1)
    return _total(session, paper_id)


def remove(session: Session, user_id: int, paper_id: int) -> int:
    """Withdraw an upvote (idempotent); returns the paper's total upvotes. The count moves only
    when this statement deleted the row."""
    stmt = delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id).returning(upvotes.c.paper_id)
    if session.execute(stmt).first() is not None:
        bump_signals(session, user_id)
        return _move(session, paper_id, -1)
    return _total(session, paper_id)


def voted(session: Session, user_id: int, paper_ids: list[int]) -> set[int]:
    """Which of these papers the user has upvoted."""
    out: set[int] = set()
    for part in chunks(paper_ids):
        out.update(
            session.execute(
                select(upvotes.c.paper_id).where(upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(part))
            ).scalars()
        )
    return out


def papers_upvoted_by(session: Session, user_id: int, limit: int = 100) -> list[int]:
    """The user's upvoted paper ids, newest vote first."""
    return list(
        session.execute(
            select(upvotes.c.paper_id).where(upvotes.c.user_id == user_id).order_by(upvotes.c.created_at.desc()).limit(limit)
        ).scalars()
    )


def per_day(session: Session, since) -> list[tuple]:
    """(day, local upvotes cast that day) since a date, for statistics."""
    day = func.date(upvotes.c.created_at)
    return [tuple(r) for r in session.execute(select(day, func.count()).where(upvotes.c.created_at >= since).group_by(day).order_by(day))]
