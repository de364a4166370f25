"""Paper embeddings: one float32 vector per paper and model, with the paper's content hash it was
computed from (a changed paper is embedded again). The only module that writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .dialect import chunks, upsert
from .schema import Embedding, Paper, utcnow

embeddings = Embedding.__table__
papers = Paper.__table__


def _stale_condition(model: str):
    """Papers without a vector from `model`, or whose vector predates their current text."""
    e = embeddings
    joined = papers.outerjoin(e, and_(e.c.paper_id == papers.c.id, e.c.model == model))
    return joined, or_(e.c.paper_id.is_(None), e.c.content_hash != papers.c.content_hash)


def count_stale(session: Session, model: str) -> int:
    """How many papers need (re)embedding with `model`."""
    joined, stale = _stale_condition(model)
    return session.execute(select(func.count()).select_from(joined).where(stale)).scalar_one()


def stale(session: Session, model: str, *, after_id: int = 0, limit: int = 256) -> list[dict]:
    """The next papers needing a vector, by id after `after_id`: {id, arxiv_id, title, abstract, content_hash}."""
    joined, cond = _stale_condition(model)
    stmt = (
        select(papers.c.id, papers.c.arxiv_id, papers.c.title, papers.c.abstract, papers.c.content_hash)
        .select_from(joined)
        .where(cond, papers.c.id > after_id)
        .order_by(papers.c.id)
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def upsert_many(session: Session, model: str, rows: list[tuple[int, str, np.ndarray]]) -> None:
    """Store vectors: (paper id, content hash it was computed from, float32 vector). Replaces any
    earlier vector of the same paper and model; `created_at` marks the change for the vector index."""
    if not rows:
        return
    now = utcnow()
    values = [
        {
            "paper_id": pid,
            "model": model,
            "dim": int(vec.shape[0]),
            "vector": np.asarray(vec, dtype="<f4").tobytes(),
            "content_hash": chash,
            "created_at": now,
        }
        for pid, chash, vec in rows
    ]
    upsert(session, embeddings, values, ("paper_id", "model"), replace=("dim", "vector", "content_hash", "created_at"))


def _decode(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(np.float32, copy=False)


def get_many(session: Session, model: str, paper_ids: list[int]) -> dict[int, np.ndarray]:
    """Vectors of these papers (those that have one)."""
    out: dict[int, np.ndarray] = {}
    for part in chunks(list(paper_ids)):
        rows = session.execute(
            select(embeddings.c.paper_id, embeddings.c.dim, embeddings.c.vector).where(
                embeddings.c.model == model, embeddings.c.paper_id.in_(part)
            )
        )
        for pid, dim, blob in rows:
            out[pid] = np.frombuffer(blob, dtype="<f4", count=dim).astype(np.float32)
    return out


def changed_since(
    session: Session, model: str, after: dt.datetime | None, *, dim: int, batch: int = 20000
) -> Iterator[tuple[np.ndarray, np.ndarray, dt.datetime, list[int]]]:
    """Vectors stored after `after` (all when None), oldest first, in batches of (paper ids,
    vectors, newest created_at in the batch, ids of papers whose vector is unusable). Unusable: not
    `dim` numbers, or not finite; such vectors are left out. Keyed on (created_at, paper_id) so a
    batch boundary inside one timestamp loses nothing."""
    last: tuple[dt.datetime, int] | None = None
    e = embeddings
    while True:
        stmt = select(e.c.paper_id, e.c.dim, e.c.vector, e.c.created_at).where(e.c.model == model)
        if after is not None:
            stmt = stmt.where(e.c.created_at > after)
        if last is not None:
            stmt = stmt.where(or_(e.c.created_at > last[0], and_(e.c.created_at == last[0], e.c.paper_id > last[1])))
        rows = session.execute(stmt.order_by(e.c.created_at, e.c.paper_id).limit(batch)).all()
        if not rows:
            return
        sized = [r for r in rows if r.dim == dim and len(r.vector) == 4 * dim]
        unusable = [r.paper_id for r in rows if not (r.dim == dim and len(r.vector) == 4 * dim)]
        ids = np.fromiter((r.paper_id for r in sized), dtype=np.int64, count=len(sized))
        vectors = _decode([r.vector for r in sized], dim)
        finite = np.isfinite(vectors).all(axis=1)
        if not finite.all():
            unusable += ids[~finite].tolist()
            ids, vectors = ids[finite], vectors[finite]
        yield ids, vectors, rows[-1].created_at, unusable
        last = (rows[-1].created_at, rows[-1].paper_id)


def count(session: Session, model: str) -> int:
    """How many papers have a vector from `model`."""
    return session.execute(select(func.count()).select_from(embeddings).where(embeddings.c.model == model)).scalar_one()


def paper_ids(session: Session, model: str) -> set[int]:
    """Ids of papers that have a vector from `model` (to find papers deleted since indexing)."""
    return set(session.execute(select(embeddings.c.paper_id).where(embeddings.c.model == model)).scalars())
