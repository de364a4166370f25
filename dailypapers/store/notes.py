"""A member's own marks on papers, private to them: a note (Markdown as written, with its rendered
HTML made at read time by the web), tags (folded to lower case) and read marks. Read marks and tags
count as personal signals (the recommender leaves read papers out and learns from tags); notes do
not."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..types import PaperCard
from .dialect import chunks, insert_for
from .library import LibraryError
from .papers import CARD_COLUMNS, card
from .schema import Paper, PaperNote, PaperTag, utcnow
from .users import bump_signals

notes = PaperNote.__table__
tags = PaperTag.__table__
papers = Paper.__table__

MAX_NOTE = 20_000
MAX_TAG = 60
MAX_TAGS_PER_PAPER = 50
_TAG_SPACE = re.compile(r"\s+")


def fold_tag(tag: str) -> str:
    """A tag as stored: spaces collapsed, lower case (casefold), no commas, 1 to 60 characters."""
    folded = _TAG_SPACE.sub(" ", (tag or "").replace(",", " ")).strip().casefold()
    if not folded:
        raise LibraryError("a tag needs at least one letter or digit")
    if len(folded) > MAX_TAG:
        raise LibraryError(f"a tag has at most {MAX_TAG} characters")
    if any(ch < " " for ch in folded):
        raise LibraryError("a tag cannot hold control characters")
    return folded


def _row(session: Session, user_id: int, paper_id: int) -> dict | None:
    found = session.execute(select(notes).where(notes.c.user_id == user_id, notes.c.paper_id == paper_id)).mappings().first()
    return dict(found) if found else None


def _upsert(session: Session, user_id: int, paper_id: int, **values) -> None:
    values["updated_at"] = utcnow()
    stmt = insert_for(session, notes).values(user_id=user_id, paper_id=paper_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["user_id", "paper_id"], set_=values))


def _drop_if_empty(session: Session, user_id: int, paper_id: int) -> None:
    session.execute(
        delete(notes).where(notes.c.user_id == user_id, notes.c.paper_id == paper_id, notes.c.note.is_(None), notes.c.read_at.is_(None))
    )


def set_note(session: Session, user_id: int, paper_id: int, note: str | None) -> bool:
    """Write the member's note on a paper (blank clears it); True when it changed."""
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise LibraryError(f"a note has at most {MAX_NOTE:,} characters")
    row = _row(session, user_id, paper_id)
    if (row["note"] if row else None) == note:
        return False
    _upsert(session, user_id, paper_id, note=note)
    _drop_if_empty(session, user_id, paper_id)
    return True


def mark_read(session: Session, user_id: int, paper_id: int, read: bool = True, *, at: dt.datetime | None = None) -> bool:
    """Mark a paper read (or unread); True when it changed. Counts a signal."""
    row = _row(session, user_id, paper_id)
    if bool(row and row["read_at"]) == read:
        return False
    _upsert(session, user_id, paper_id, read_at=(at or utcnow()) if read else None)
    _drop_if_empty(session, user_id, paper_id)
    bump_signals(session, user_id)
    return True


def of_paper(session: Session, user_id: int, paper_id: int) -> dict:
    """The member's marks on one paper: {"note", "read_at", "tags"}."""
    row = _row(session, user_id, paper_id) or {}
    found = session.execute(
        select(tags.c.tag).where(tags.c.user_id == user_id, tags.c.paper_id == paper_id).order_by(tags.c.tag)
    ).scalars()
    return {"note": row.get("note"), "read_at": row.get("read_at"), "tags": list(found)}


def read_among(session: Session, user_id: int, paper_ids: list[int]) -> set[int]:
    """Which of these papers the member marked read."""
    out: set[int] = set()
    for part in chunks(paper_ids):
        out.update(
            session.execute(
                select(notes.c.paper_id).where(notes.c.user_id == user_id, notes.c.read_at.is_not(None), notes.c.paper_id.in_(part))
            ).scalars()
        )
    return out


def read_papers(session: Session, user_id: int, *, limit: int = 50, offset: int = 0) -> tuple[list[tuple[PaperCard, dt.datetime]], int]:
    """The papers the member marked read, last read first, with when; and how many in all."""
    where = (notes.c.user_id == user_id, notes.c.read_at.is_not(None))
    total = session.execute(select(func.count()).select_from(notes).where(*where)).scalar_one()
    rows = session.execute(
        select(*CARD_COLUMNS, notes.c.read_at)
        .select_from(notes.join(papers, papers.c.id == notes.c.paper_id))
        .where(*where)
        .order_by(notes.c.read_at.desc(), papers.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [(card(r), r["read_at"]) for r in rows], total


def noted_papers(session: Session, user_id: int) -> dict[int, str]:
    """{paper id: note} of every paper the member wrote a note on."""
    rows = session.execute(select(notes.c.paper_id, notes.c.note).where(notes.c.user_id == user_id, notes.c.note.is_not(None)))
    return dict(rows.all())


def add_tag(session: Session, user_id: int, paper_id: int, tag: str) -> bool:
    """Tag a paper (idempotent); True when the tag is new on it. Counts a signal."""
    tag = fold_tag(tag)
    held = session.execute(select(func.count()).select_from(tags).where(tags.c.user_id == user_id, tags.c.paper_id == paper_id)).scalar_one()
    if held >= MAX_TAGS_PER_PAPER:
        raise LibraryError(f"a paper takes at most {MAX_TAGS_PER_PAPER} tags")
    stmt = insert_for(session, tags).values(user_id=user_id, tag=tag, paper_id=paper_id, created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "tag", "paper_id"]).returning(tags.c.tag)
    if session.execute(stmt).first() is None:
        return False
    bump_signals(session, user_id)
    return True


def remove_tag(session: Session, user_id: int, paper_id: int, tag: str) -> bool:
    """Take a tag off a paper (idempotent); True when it was there. Counts a signal."""
    try:
        tag = fold_tag(tag)
    except LibraryError:
        return False
    done = session.execute(
        delete(tags).where(tags.c.user_id == user_id, tags.c.paper_id == paper_id, tags.c.tag == tag).returning(tags.c.tag)
    ).first()
    if done is None:
        return False
    bump_signals(session, user_id)
    return True


def tags_of_member(session: Session, user_id: int) -> list[tuple[str, int]]:
    """The member's tags with how many papers carry each, most used first, then by name."""
    n = func.count().label("n")
    rows = session.execute(select(tags.c.tag, n).where(tags.c.user_id == user_id).group_by(tags.c.tag).order_by(n.desc(), tags.c.tag))
    return [(t, c) for t, c in rows]


def tags_by_paper(session: Session, user_id: int) -> dict[int, list[str]]:
    """{paper id: its tags} over the member's whole library."""
    out: dict[int, list[str]] = {}
    for pid, tag in session.execute(select(tags.c.paper_id, tags.c.tag).where(tags.c.user_id == user_id).order_by(tags.c.tag)):
        out.setdefault(pid, []).append(tag)
    return out


def tagged(session: Session, user_id: int, tag: str, *, limit: int = 50, offset: int = 0) -> tuple[list[PaperCard], int]:
    """The member's papers carrying a tag, most recently tagged first; and how many."""
    try:
        tag = fold_tag(tag)
    except LibraryError:
        return [], 0
    where = (tags.c.user_id == user_id, tags.c.tag == tag)
    total = session.execute(select(func.count()).select_from(tags).where(*where)).scalar_one()
    rows = session.execute(
        select(*CARD_COLUMNS)
        .select_from(tags.join(papers, papers.c.id == tags.c.paper_id))
        .where(*where)
        .order_by(tags.c.created_at.desc(), papers.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [card(r) for r in rows], total

