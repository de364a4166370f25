"""Daily entries: which papers were featured on which day, by whom: the curated feed (members'
submissions, curators, Hugging Face imports). What arXiv listed is in store/listings.py.

Days outside the ones the site serves (periods.py: 1991 to the end of next year), which an older
version could have stored, are never the latest or first day nor a recent one: the pages, feeds and
API that start from those days stay on real ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..periods import FIRST_DAY, last_day
from .dialect import bulk_insert, chunks
from .schema import DailyEntry

entries = DailyEntry.__table__


def served(column=entries.c.day):
    """The condition that a day column holds a day the site serves."""
    return column.between(FIRST_DAY, last_day())


def existing(session: Session, paper_ids: Iterable[int]) -> set[tuple[int, dt.date]]:
    """(paper_id, day) pairs already featured, for the given papers."""
    found: set[tuple[int, dt.date]] = set()
    for part in chunks(list(paper_ids)):
        found.update(
            (pid, day)
            for pid, day in session.execute(
                select(entries.c.paper_id, entries.c.day).where(entries.c.paper_id.in_(part))
            )
        )
    return found


def add_many(session: Session, rows: list[dict]) -> None:
    """Insert entries (paper_id, day, submitted_at, submitter_name, source); duplicates are skipped."""
    bulk_insert(session, entries, rows, ignore_conflicts_on=("paper_id", "day"))


def latest_day(session: Session, category: str | tuple[str, ...] | None = None) -> dt.date | None:
    """The last day with papers (in the category, or in any of the categories, when named)."""
    stmt = select(func.max(entries.c.day)).where(served())
    if category:
        from .papers import in_categories

        stmt = stmt.where(entries.c.paper_id.in_(in_categories(category)))
    return session.execute(stmt).scalar_one_or_none()


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(entries)).scalar_one()


def first_and_last_day(session: Session) -> tuple[dt.date | None, dt.date | None]:
    row = session.execute(select(func.min(entries.c.day), func.max(entries.c.day)).where(served())).first()
    return (row[0], row[1]) if row else (None, None)


def featured_since(session: Session, paper_id: int, since: dt.date) -> dt.date | None:
    """The latest day on or after `since` the paper was featured, if any."""
    return session.execute(
        select(func.max(entries.c.day)).where(entries.c.paper_id == paper_id, entries.c.day >= since)
    ).scalar_one_or_none()


def add_submission(session: Session, paper_id: int, day: dt.date, user_id: int, submitted_at: dt.datetime) -> None:
    """A user featured a paper on a day (the caller checked the rules)."""
    session.execute(
        entries.insert().values(paper_id=paper_id, day=day, submitted_at=submitted_at, submitted_by_id=user_id, source="user")
    )
    from .papers import set_first_featured

    set_first_featured(session, {paper_id: day})


def recent_days(session: Session, n: int) -> list[dt.date]:
    """The last `n` days that have papers, oldest first."""
    days = session.execute(
        select(entries.c.day).distinct().where(served()).order_by(entries.c.day.desc()).limit(n)
    ).scalars().all()
    return sorted(days)


def feature_many(session: Session, pairs: Iterable[tuple[int, dt.date]], *, source: str = "curator") -> int:
    """Feature papers on days ((paper_id, day) pairs) by a curator's hand, at midnight of each day,
    by no member; pairs already featured are left alone. Returns how many were added."""
    wanted = sorted(set(pairs))
    if not wanted:
        return 0
    have = existing(session, {pid for pid, _ in wanted})
    rows = [
        {"paper_id": pid, "day": day, "submitted_at": dt.datetime.combine(day, dt.time()), "source": source}
        for pid, day in wanted
        if (pid, day) not in have
    ]
    add_many(session, rows)
    first: dict[int, dt.date] = {}
    for row in rows:
        if row["paper_id"] not in first or row["day"] < first[row["paper_id"]]:
            first[row["paper_id"]] = row["day"]
    from .papers import set_first_featured

    set_first_featured(session, first)
    return len(rows)
