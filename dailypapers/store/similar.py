"""Precomputed similar papers."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .dialect import upsert
from .schema import Embedding, SimilarPapers, utcnow

similar = SimilarPapers.__table__
embeddings = Embedding.__table__


def neighbours(session: Session, paper_id: int) -> list[tuple[int, float]] | None:
    """The stored neighbours of a paper, best first; None when none were computed."""
    row = session.execute(select(similar.c.neighbours).where(similar.c.paper_id == paper_id)).scalar_one_or_none()
    return None if row is None else [(int(i), float(s)) for i, s in row]


def stale(session: Session, model: str, limit: int | None = None) -> list[int]:
    """Papers embedded by `model` whose neighbours are missing or older than their vector."""
    stmt = (
        select(embeddings.c.paper_id)
        .select_from(embeddings.outerjoin(similar, similar.c.paper_id == embeddings.c.paper_id))
        .where(embeddings.c.model == model)
        .where(or_(similar.c.paper_id.is_(None), similar.c.model != model, similar.c.computed_at < embeddings.c.created_at))
        .order_by(embeddings.c.paper_id)
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


def put_many(session: Session, model: str, rows: list[tuple[int, list[tuple[int, float]]]]) -> None:
    """Store (paper id, neighbours) pairs, replacing what was there."""
    if not rows:
        return
    now = utcnow()
    found_rows = [
        {"paper_id": pid, "model": model, "neighbours": [[int(i), round(float(s), 4)] for i, s in found], "computed_at": now}
        for pid, found in rows
    ]
    upsert(session, similar, found_rows, ("paper_id",), replace=("model", "neighbours", "computed_at"))
