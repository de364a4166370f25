"""Hugging Face users who submitted the papers we imported: their full name and avatar."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .dialect import chunks, upsert
from .schema import HfUser, utcnow

hf_users = HfUser.__table__


def upsert_many(session: Session, rows: list[dict]) -> None:
    """Record or refresh profiles ({name, fullname, avatar_url}); a value the import lacks is kept."""
    if not rows:
        return
    now = utcnow()
    upsert(
        session, hf_users, [dict(row, updated_at=now) for row in rows], ("name",),
        update_if_given=("fullname", "avatar_url"), also={"updated_at": now},
    )


def get_many(session: Session, names: list[str]) -> dict[str, dict]:
    """Profiles by name, for the names that have one."""
    out: dict[str, dict] = {}
    for part in chunks(sorted(set(names))):
        for row in session.execute(select(hf_users).where(hf_users.c.name.in_(part))).mappings():
            out[row["name"]] = dict(row)
    return out
