"""Hugging Face users who submitted the papers we imported: their full name and avatar."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import HfUser, utcnow

hf_users = HfUser.__table__


def upsert_many(session: Session, rows: list[dict]) -> None:
    """Record or refresh profiles ({name, fullname, avatar_url}); a value the import lacks is kept."""
    if not rows:
        return
    now = utcnow()
    stmt = insert_for(session, hf_users)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "fullname": func.coalesce(stmt.excluded.fullname, hf_users.c.fullname),
            "avatar_url": func.coalesce(stmt.excluded.avatar_url, hf_users.c.avatar_url),
            "updated_at": now,
        },
    )
    session.execute(stmt, [dict(row, updated_at=now) for row in rows])


def get_many(session: Session, names: list[str]) -> dict[str, dict]:
    """Profiles by name, for the names that have one."""
    out: dict[str, dict] = {}
    for part in chunks(sorted(set(names))):
        for row in session.execute(select(hf_users).where(hf_users.c.name.in_(part))).mappings():
            out[row["name"]] = dict(row)
    return out
