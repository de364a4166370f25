"""Discussion comments on papers. The paper's comment_count moves in the same transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .schema import Comment, Paper, User, utcnow

comments = Comment.__table__
papers = Paper.__table__
users = User.__table__


def add(session: Session, paper_id: int, user_id: int, body: str, body_html: str, parent_id: int | None = None) -> int:
    cid = session.execute(
        comments.insert()
        .values(paper_id=paper_id, user_id=user_id, parent_id=parent_id, body=body, body_html=body_html, created_at=utcnow())
        .returning(comments.c.id)
    ).scalar_one()
    # Counted in the UPDATE itself: its row lock orders racing comments on PostgreSQL, where a
    # recount by subquery at READ COMMITTED lost updates.
    session.execute(update(papers).where(papers.c.id == paper_id).values(comment_count=papers.c.comment_count + 1))
    return cid


def for_paper(session: Session, paper_id: int) -> list[dict]:
    """A paper's comments, oldest first, with their authors' names."""
    rows = session.execute(
        select(comments, users.c.username)
        .select_from(comments.outerjoin(users, users.c.id == comments.c.user_id))
        .where(comments.c.paper_id == paper_id, comments.c.is_deleted.is_(False))
        .order_by(comments.c.created_at, comments.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def exists(session: Session, comment_id: int, paper_id: int) -> bool:
    return (
        session.execute(select(comments.c.id).where(comments.c.id == comment_id, comments.c.paper_id == paper_id)).first()
        is not None
    )
