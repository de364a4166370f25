"""Denormalized counts against their rows: papers.upvote_count (rows in upvotes) and
papers.comment_count (comments not deleted). Votes and comments keep them in step as they are
written; versions before that lost updates under concurrency, so `dailypapers db check` finds any
drift and `--repair` sets the counts to their rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import kv
from .dialect import chunks
from .schema import Comment, Paper, Upvote

papers = Paper.__table__
upvotes = Upvote.__table__
comments = Comment.__table__

# Each count: the papers column, what its rows are called, and the rows it counts (per paper_id).
COUNTS = (
    ("upvote_count", "upvotes", upvotes, ()),
    ("comment_count", "comments", comments, (comments.c.is_deleted.is_(False),)),
)


@dataclass(frozen=True)
class Drift:
    paper_id: int
    arxiv_id: str
    column: str  # upvote_count | comment_count
    rows_name: str  # upvotes | comments
    stored: int
    actual: int

    def describe(self) -> str:
        return f"{self.arxiv_id}: {self.column} is {self.stored}, {self.actual} {self.rows_name} stored"


def _per_paper(table, where):
    return select(table.c.paper_id, func.count().label("n")).where(*where).group_by(table.c.paper_id).subquery()


def _row_count(table, where):
    return select(func.count()).select_from(table).where(table.c.paper_id == papers.c.id, *where).scalar_subquery()


def drift(session: Session) -> list[Drift]:
    """Every count that differs from its rows, by paper id. One statement per count, so each sees
    one snapshot in which a vote's row and its count were committed together. About a second per
    million papers."""
    found: list[Drift] = []
    for column, rows_name, table, where in COUNTS:
        per = _per_paper(table, where)
        actual = func.coalesce(per.c.n, 0)
        query = (
            select(papers.c.id, papers.c.arxiv_id, papers.c[column], actual)
            .select_from(papers.outerjoin(per, per.c.paper_id == papers.c.id))
            .where(papers.c[column] != actual)
        )
        found.extend(Drift(r[0], r[1], column, rows_name, r[2], r[3]) for r in session.execute(query))
    return sorted(found, key=lambda d: d.paper_id)  # stable: a paper's counts in COUNTS order


def repair(session: Session) -> list[Drift]:
    """Set every drifted count to its rows, in the caller's transaction; returns what was wrong.
    The drifted papers are locked first (SELECT ... FOR UPDATE, in id order, on PostgreSQL; on
    SQLite the caller holds the write lock), then checked again: a vote in flight either committed
    before the lock (and is counted) or moves the count after this transaction, from its rows."""
    ids = sorted({d.paper_id for d in drift(session)})
    if not ids:
        return []
    for part in chunks(ids):
        session.execute(select(papers.c.id).where(papers.c.id.in_(part)).order_by(papers.c.id).with_for_update())
    locked = set(ids)
    fixed = [d for d in drift(session) if d.paper_id in locked]
    for column, _rows_name, table, where in COUNTS:
        for part in chunks([d.paper_id for d in fixed if d.column == column]):
            session.execute(update(papers).where(papers.c.id.in_(part)).values({column: _row_count(table, where)}))
    if fixed:
        kv.bump(session)  # cached pages show the counts
    return fixed


def papers_checked(session: Session) -> int:
    return session.execute(select(func.count()).select_from(papers)).scalar_one()


def rows_of(session: Session, paper_id: int) -> dict[str, int]:
    """A paper's rows behind each count: {"upvotes": n, "comments": n}."""
    return {
        rows_name: session.execute(
            select(func.count()).select_from(table).where(table.c.paper_id == paper_id, *where)
        ).scalar_one()
        for _column, rows_name, table, where in COUNTS
    }
