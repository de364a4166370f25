"""Each featured paper's card picture: where its WebP file is, and how making it went.

The thumbnails job (ingest/thumbnails.py) asks for the featured papers that lack one (`due`), makes
each and records the outcome; the feed asks which of its papers have one (`versions_for`) and the
web serves the file (`of_paper`). A failed try waits next_attempt_at; after the job's limit of tries
the paper keeps its generated card."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from . import kv
from .dialect import chunks, insert_for
from .schema import DailyEntry, Paper, Thumbnail, utcnow

thumbs = Thumbnail.__table__
papers = Paper.__table__
entries = DailyEntry.__table__


def due(session: Session, now: dt.datetime, limit: int, max_tries: int) -> list[dict]:
    """Featured papers without a thumbnail that may be tried now, the most recently featured first:
    {id, arxiv_id, hf_meta, tries}."""
    latest = (
        select(entries.c.paper_id, func.max(entries.c.day).label("day")).group_by(entries.c.paper_id).subquery("f")
    )
    waiting = or_(
        thumbs.c.paper_id.is_(None),
        and_(thumbs.c.status == "failed", thumbs.c.tries < max_tries, thumbs.c.next_attempt_at <= now),
    )
    rows = session.execute(
        select(papers.c.id, papers.c.arxiv_id, papers.c.hf_meta, func.coalesce(thumbs.c.tries, 0).label("tries"))
        .select_from(latest.join(papers, papers.c.id == latest.c.paper_id).outerjoin(thumbs, thumbs.c.paper_id == papers.c.id))
        .where(waiting)
        .order_by(latest.c.day.desc(), papers.c.arxiv_id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def record_ok(session: Session, paper_id: int, path: str, width: int, height: int, source: str) -> None:
    """The paper's thumbnail is at `path` (relative to data_dir); cards show it from now on."""
    now = utcnow()
    values = dict(path=path, width=width, height=height, source=source, status="ok", error=None, next_attempt_at=None, updated_at=now)
    stmt = insert_for(session, thumbs).values(paper_id=paper_id, tries=1, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["paper_id"], set_={**values, "tries": thumbs.c.tries + 1}))
    kv.bump(session)  # pages cached with the generated card pick up the picture


def record_failure(session: Session, paper_id: int, error: str, next_attempt_at: dt.datetime) -> None:
    """A try failed (one line, why); the next waits until `next_attempt_at`."""
    values = dict(status="failed", error=error[:500], next_attempt_at=next_attempt_at, updated_at=utcnow())
    stmt = insert_for(session, thumbs).values(paper_id=paper_id, tries=1, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["paper_id"], set_={**values, "tries": thumbs.c.tries + 1}))


def version_of(updated_at: dt.datetime) -> str:
    """The version a thumbnail's URL carries, so a new picture is a new URL (cached forever)."""
    return format(int(updated_at.replace(tzinfo=dt.UTC).timestamp()), "x")


def versions_for(session: Session, paper_ids: list[int]) -> dict[int, str]:
    """{paper id: version} of the papers among `paper_ids` that have a thumbnail."""
    out: dict[int, str] = {}
    for part in chunks(list(paper_ids)):
        rows = session.execute(
            select(thumbs.c.paper_id, thumbs.c.updated_at).where(thumbs.c.paper_id.in_(part), thumbs.c.status == "ok")
        )
        out.update({pid: version_of(at) for pid, at in rows})
    return out


def of_paper(session: Session, arxiv_id: str) -> dict | None:
    """What the thumbnail URL serves: the paper's title and category for a generated card, and its
    thumbnail's path and version when it has one. None for a paper not in the store."""
    row = session.execute(
        select(
            papers.c.arxiv_id, papers.c.title, papers.c.primary_category, papers.c.categories,
            thumbs.c.path, thumbs.c.status, thumbs.c.width, thumbs.c.height, thumbs.c.updated_at,
        )
        .select_from(papers.outerjoin(thumbs, thumbs.c.paper_id == papers.c.id))
        .where(papers.c.arxiv_id == arxiv_id)
    ).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["version"] = version_of(row["updated_at"]) if row["status"] == "ok" else None
    return out


def state(session: Session, paper_id: int) -> dict | None:
    row = session.execute(select(thumbs).where(thumbs.c.paper_id == paper_id)).mappings().first()
    return dict(row) if row else None
