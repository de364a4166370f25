"""The ingest run log and harvest cursors."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..types import IngestReport
from .dialect import insert_for
from .schema import HarvestState, IngestRun, utcnow

runs = IngestRun.__table__
harvest = HarvestState.__table__


def start(session: Session, source: str) -> int:
    return session.execute(runs.insert().values(source=source[:2000], started_at=utcnow()).returning(runs.c.id)).scalar_one()


def finish(session: Session, run_id: int, report: IngestReport | None, status: str) -> None:
    values: dict = {"finished_at": utcnow(), "status": status}
    if report is not None:
        values.update(new=report.new, updated=report.updated, unchanged=report.unchanged, rejected=report.rejected)
    session.execute(update(runs).where(runs.c.id == run_id).values(**values))


def recent(session: Session, limit: int = 20) -> list[dict]:
    rows = session.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def get_cursor(session: Session, key: str) -> dict | None:
    row = session.execute(select(harvest).where(harvest.c.key == key)).mappings().first()
    return dict(row) if row else None


def save_cursor(session: Session, key: str, cursor: str | None, records: int, done: bool) -> None:
    stmt = insert_for(session, harvest).values(key=key, cursor=cursor, records=records, done=done, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"cursor": cursor, "records": records, "done": done, "updated_at": utcnow()},
    )
    session.execute(stmt)
