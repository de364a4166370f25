"""Members' claims of authorship: a member says which author of a paper they are; a curator
confirms or rejects it, or the site confirms it at once (web/claims.py says when)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import DailyPapersError
from .dialect import chunks
from .schema import AuthorClaim, Paper, User, utcnow

claims = AuthorClaim.__table__
papers = Paper.__table__
users = User.__table__

STATUSES = ("pending", "confirmed", "rejected")


class ClaimRefused(DailyPapersError):
    """A claim that cannot be made: made before, or of an author someone else has claimed."""


def add(session: Session, paper_id: int, user_id: int, position: int, name: str, *, how: str | None = None) -> str:
    """Record a member's claim to be the paper's author at `position`: confirmed when `how` says
    what confirmed it, else pending. Returns the status. One claim per member and paper; an author
    someone has been confirmed as cannot be claimed again."""
    taken = session.execute(
        select(claims.c.user_id).where(
            claims.c.paper_id == paper_id, claims.c.position == position, claims.c.status == "confirmed"
        )
    ).first()
    if taken is not None and taken.user_id != user_id:
        raise ClaimRefused(f"{name} is already confirmed as another member")
    status = "confirmed" if how else "pending"
    now = utcnow()
    try:
        with session.begin_nested():
            session.execute(
                claims.insert().values(
                    paper_id=paper_id, user_id=user_id, position=position, name=name, status=status, how=how,
                    created_at=now, decided_at=now if how else None,
                )
            )
    except IntegrityError:
        raise ClaimRefused("you have claimed an author of this paper already") from None
    return status


def of_paper(session: Session, paper_id: int) -> list[dict]:
    """Every claim of a paper, with the member's name: the page picks what its viewer may see."""
    rows = session.execute(
        select(claims.c.id, claims.c.user_id, claims.c.position, claims.c.name, claims.c.status, claims.c.how, users.c.username)
        .join(users, users.c.id == claims.c.user_id)
        .where(claims.c.paper_id == paper_id)
        .order_by(claims.c.position, claims.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def confirmed(session: Session, paper_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    """paper id -> {author position: the confirmed member's username}, for cards."""
    out: dict[int, dict[int, str]] = {}
    for part in chunks(list(paper_ids)):
        rows = session.execute(
            select(claims.c.paper_id, claims.c.position, users.c.username)
            .join(users, users.c.id == claims.c.user_id)
            .where(claims.c.paper_id.in_(part), claims.c.status == "confirmed")
        )
        for pid, position, username in rows:
            out.setdefault(pid, {})[position] = username
    return out


def pending(session: Session, limit: int = 100) -> list[dict]:
    """The curators' queue: pending claims, oldest first, with the paper and the member."""
    rows = session.execute(
        select(
            claims.c.id, claims.c.position, claims.c.name, claims.c.created_at,
            papers.c.arxiv_id, papers.c.title, users.c.username, users.c.email,
        )
        .join(papers, papers.c.id == claims.c.paper_id)
        .join(users, users.c.id == claims.c.user_id)
        .where(claims.c.status == "pending")
        .order_by(claims.c.created_at, claims.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def decide(session: Session, claim_id: int, curator_id: int, *, confirm: bool) -> str | None:
    """A curator confirms or rejects a pending claim; returns the paper's arXiv id, or None when
    there is no such pending claim (decided already). Confirming refuses an author someone else
    has been confirmed as."""
    row = session.execute(
        select(claims.c.paper_id, claims.c.position, claims.c.user_id, claims.c.name, papers.c.arxiv_id)
        .join(papers, papers.c.id == claims.c.paper_id)
        .where(claims.c.id == claim_id, claims.c.status == "pending")
    ).first()
    if row is None:
        return None
    if confirm:
        taken = session.execute(
            select(claims.c.id).where(
                claims.c.paper_id == row.paper_id, claims.c.position == row.position, claims.c.status == "confirmed"
            )
        ).first()
        if taken is not None:
            raise ClaimRefused(f"{row.name} is already confirmed as another member")
    done = session.execute(
        update(claims)
        .where(claims.c.id == claim_id, claims.c.status == "pending")
        .values(
            status="confirmed" if confirm else "rejected", how="curator" if confirm else None,
            decided_at=utcnow(), decided_by_id=curator_id,
        )
    ).rowcount
    return row.arxiv_id if done else None
