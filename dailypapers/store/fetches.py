"""Fetch requests: papers the store lacks, to be fetched from arXiv in the background. The web
opens them (a member's submission, a visitor at the page of an unknown paper); the fetch-papers job
takes the due ones with one atomic UPDATE (so racing workers split them), and ends each with its
outcome. While open, a request holds `open_key`, which is unique: asking again is idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from .dialect import insert_for
from .schema import FetchRequest, utcnow

requests = FetchRequest.__table__
OPEN = ("pending", "fetching")


def open_key(arxiv_id: str, user_id: int | None, collection_id: int | None = None) -> str:
    key = f"{arxiv_id} {user_id or ''}".strip()
    return f"{key} c{collection_id}" if collection_id is not None else key


def open_request(
    session: Session, arxiv_id: str, *, reason: str, user_id: int | None = None, day: dt.date | None = None,
    collection_id: int | None = None,
) -> bool:
    """Open a request unless the same one (paper and member, or paper for a lookup; paper and
    collection for an import) is open; True when this call opened it. In the caller's transaction."""
    now = utcnow()
    stmt = insert_for(session, requests).values(
        arxiv_id=arxiv_id, reason=reason, user_id=user_id, day=day, collection_id=collection_id, state="pending", attempts=0,
        open_key=open_key(arxiv_id, user_id, collection_id), next_attempt_at=now, created_at=now, updated_at=now,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["open_key"]).returning(requests.c.id)
    return session.execute(stmt).first() is not None


def any_open(session: Session, arxiv_id: str) -> bool:
    """Whether anyone's request for the paper is open."""
    return session.execute(
        select(exists().where(requests.c.arxiv_id == arxiv_id, requests.c.state.in_(OPEN)))
    ).scalar_one()


def latest(session: Session, arxiv_id: str, *, user_id: int | None = None, reason: str | None = None) -> dict | None:
    """The newest request for the paper (by this member, of this reason, when given)."""
    stmt = select(requests).where(requests.c.arxiv_id == arxiv_id)
    if user_id is not None:
        stmt = stmt.where(requests.c.user_id == user_id)
    if reason is not None:
        stmt = stmt.where(requests.c.reason == reason)
    row = session.execute(stmt.order_by(requests.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def of_member(session: Session, user_id: int, limit: int = 20) -> list[dict]:
    """A member's submissions that went through the queue, newest first."""
    stmt = (
        select(requests)
        .where(requests.c.user_id == user_id, requests.c.reason == "submission")
        .order_by(requests.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def open_imports(session: Session, collection_id: int) -> list[dict]:
    """The import requests still waiting to fill a collection, oldest first."""
    stmt = (
        select(requests)
        .where(requests.c.collection_id == collection_id, requests.c.reason == "import", requests.c.state.in_(OPEN))
        .order_by(requests.c.id)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def imports_of_member(session: Session, user_id: int, limit: int = 100) -> list[dict]:
    """A member's import requests, open ones and those that failed, newest first."""
    stmt = (
        select(requests)
        .where(requests.c.user_id == user_id, requests.c.reason == "import", requests.c.state.in_(OPEN + ("failed",)))
        .order_by(requests.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def _due(now: dt.datetime, lease: dt.timedelta):
    """Pending requests whose time has come, and fetching ones whose worker fell silent."""
    return or_(
        and_(requests.c.state == "pending", requests.c.next_attempt_at <= now),
        and_(requests.c.state == "fetching", requests.c.updated_at < now - lease),
    )


def has_due(session: Session, lease: dt.timedelta) -> bool:
    """Whether any request waits to be fetched now (the scheduler's cheap, indexed check)."""
    return session.execute(select(exists().where(_due(utcnow(), lease)))).scalar_one()


def take_due(session: Session, lease: dt.timedelta, limit: int) -> list[dict]:
    """Mark up to `limit` due requests as fetching by this caller and return them, oldest first.
    One UPDATE whose condition is checked again on each row, so two workers never take the same."""
    now = utcnow()
    due = _due(now, lease)
    chosen = select(requests.c.id).where(due).order_by(requests.c.id).limit(limit).scalar_subquery()
    stmt = (
        update(requests)
        .where(requests.c.id.in_(chosen), due)
        .values(state="fetching", attempts=requests.c.attempts + 1, updated_at=now)
        .returning(*requests.c)
    )
    return sorted((dict(r) for r in session.execute(stmt).mappings()), key=lambda r: r["id"])


def finish(session: Session, request_id: int, state: str, outcome: str | None = None, *, error: str | None = None) -> None:
    """End a request: done, featured, refused or failed (with the reason shown to the member)."""
    now = utcnow()
    values = dict(state=state, outcome=outcome, open_key=None, updated_at=now, finished_at=now)
    if error is not None:
        values["last_error"] = error[:2000]
    session.execute(update(requests).where(requests.c.id == request_id).values(**values))


def retry_at(session: Session, request_id: int, error: str, when: dt.datetime) -> None:
    """Put a request back to wait for another attempt at `when`, keeping why the last one failed."""
    session.execute(
        update(requests)
        .where(requests.c.id == request_id)
        .values(state="pending", last_error=error[:2000], next_attempt_at=when, updated_at=utcnow())
    )


def purge_finished(session: Session, before: dt.datetime) -> int:
    """Delete requests that ended before `before` (their outcome has been shown long enough)."""
    result = session.execute(delete(requests).where(requests.c.open_key.is_(None), requests.c.finished_at < before))
    return result.rowcount or 0
