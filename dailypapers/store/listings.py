"""Listings: the papers arXiv announced on a day (daily listing files, OAI-PMH harvests), in the
day's order. Everything listed, apart from the curated feed (daily_entries, store/feed.py): the
/new pages, /api/listings and topic alerts read these.

One query (`list_listed`) feeds the /new page and /api/listings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .daily import served
from .dialect import bulk_insert, chunks
from .feedback import dismissed_select
from .feed import FeedItem, FeedPage, decorate
from .papers import CARD_COLUMNS, card, in_categories
from .schema import Listing, Paper, utcnow

listings = Listing.__table__
papers = Paper.__table__


@dataclass(frozen=True)
class ListingQuery:
    """Which listed papers: those of one day (optionally in one category or any of several), in
    the day's listing order; which page."""

    day: dt.date
    category: str | tuple[str, ...] | None = None
    limit: int = 50
    offset: int = 0
    hide_for: int | None = None  # a member: leave out the papers they dismissed (FeedPage.hidden counts them)


def existing(session: Session, paper_ids: Iterable[int]) -> set[tuple[int, dt.date]]:
    """(paper_id, day) pairs already listed, for the given papers."""
    found: set[tuple[int, dt.date]] = set()
    for part in chunks(list(paper_ids)):
        found.update(
            (pid, day) for pid, day in session.execute(select(listings.c.paper_id, listings.c.day).where(listings.c.paper_id.in_(part)))
        )
    return found


def add_many(session: Session, rows: list[dict]) -> None:
    """List papers ({paper_id, day, source} each, in listing order): each goes after the ones its
    day already has. Pairs already listed are skipped (the caller leaves them out; a concurrent
    run's are ignored). Papers listed earlier than before are marked changed, for the search index
    (its date is the first day a paper was featured or listed)."""
    if not rows:
        return
    days = sorted({r["day"] for r in rows})
    last: dict[dt.date, int] = {}
    for part in chunks(days):
        last.update(
            (day, n)
            for day, n in session.execute(
                select(listings.c.day, func.max(listings.c.position)).where(listings.c.day.in_(part)).group_by(listings.c.day)
            )
        )
    out = []
    for r in rows:
        last[r["day"]] = position = last.get(r["day"], 0) + 1
        out.append({"paper_id": r["paper_id"], "day": r["day"], "position": position, "source": r.get("source") or "listing"})
    bulk_insert(session, listings, out, ignore_conflicts_on=("paper_id", "day"))


def touch(session: Session, paper_ids: Iterable[int]) -> None:
    """Mark stored papers changed (a new listing day: the search index's date may move)."""
    now = utcnow()
    for part in chunks(sorted(set(paper_ids))):
        session.execute(update(papers).where(papers.c.id.in_(part)).values(changed_at=now))


def list_listed(session: Session, query: ListingQuery) -> FeedPage:
    """The page of papers listed on the query's day, in listing order, with the day's total. Each
    item's `day` is the listing day; its paper's `first_featured` says whether (and since when) it
    is on the curated feed."""
    where = [listings.c.day == query.day]
    if query.category:
        where.append(listings.c.paper_id.in_(in_categories(query.category)))
    hidden = 0
    if query.hide_for is not None:
        mine = dismissed_select(query.hide_for)
        hidden = session.execute(
            select(func.count()).select_from(listings).where(*where, listings.c.paper_id.in_(mine))
        ).scalar_one()
        where.append(listings.c.paper_id.not_in(mine))
    total = session.execute(select(func.count()).select_from(listings).where(*where)).scalar_one()
    upvotes = (papers.c.upvotes_imported + papers.c.upvote_count).label("upvotes")
    rows = session.execute(
        select(*CARD_COLUMNS, listings.c.day, listings.c.position, upvotes)
        .select_from(listings.join(papers, papers.c.id == listings.c.paper_id))
        .where(*where)
        .order_by(listings.c.position, papers.c.arxiv_id)
        .limit(query.limit)
        .offset(query.offset)
    ).mappings()
    items = [
        FeedItem(
            paper=card(r),
            day=r["day"],
            submitted_at=None,
            submitter=None,
            upvotes=r["upvotes"],
            comments=r["comments_imported"] + r["comment_count"],
        )
        for r in rows
    ]
    return FeedPage(decorate(session, items), total, hidden)


def latest_day(session: Session) -> dt.date | None:
    """The last day with listed papers."""
    return session.execute(select(func.max(listings.c.day)).where(served(listings.c.day))).scalar_one_or_none()


def adjacent_days(session: Session, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The nearest earlier and later days with listed papers."""
    prev_day = session.execute(
        select(func.max(listings.c.day)).where(listings.c.day < day, served(listings.c.day))
    ).scalar_one_or_none()
    next_day = session.execute(
        select(func.min(listings.c.day)).where(listings.c.day > day, served(listings.c.day))
    ).scalar_one_or_none()
    return prev_day, next_day


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(listings)).scalar_one()


def listed_on(session: Session, day: dt.date) -> list[tuple[int, str]]:
    """(paper_id, arxiv_id) of every paper listed on the day, in listing order."""
    stmt = (
        select(papers.c.id, papers.c.arxiv_id)
        .select_from(listings.join(papers, papers.c.id == listings.c.paper_id))
        .where(listings.c.day == day)
        .order_by(listings.c.position, papers.c.arxiv_id)
    )
    return [(pid, aid) for pid, aid in session.execute(stmt)]


def pairs_between(session: Session, start: dt.date | None, end: dt.date | None) -> list[tuple[int, dt.date]]:
    """(paper_id, day) of every listing from `start` to `end` (inclusive; None: unbounded)."""
    stmt = select(listings.c.paper_id, listings.c.day)
    if start is not None:
        stmt = stmt.where(listings.c.day >= start)
    if end is not None:
        stmt = stmt.where(listings.c.day <= end)
    return [(pid, day) for pid, day in session.execute(stmt)]


def listed_ids(session: Session, day: dt.date, category: str | tuple[str, ...] | None = None) -> list[int]:
    """The ids of the papers listed on the day (in the category or any of several), in listing
    order: the candidates a recommender ranks."""
    where = [listings.c.day == day]
    if category:
        where.append(listings.c.paper_id.in_(in_categories(category)))
    return list(session.execute(select(listings.c.paper_id).where(*where).order_by(listings.c.position, listings.c.paper_id)).scalars())


def items_of(session: Session, day: dt.date, paper_ids: list[int]) -> list[FeedItem]:
    """Cards of papers listed on the day, in the order given (a ranking's page)."""
    if not paper_ids:
        return []
    upvotes = (papers.c.upvotes_imported + papers.c.upvote_count).label("upvotes")
    rows = session.execute(
        select(*CARD_COLUMNS, listings.c.day, upvotes)
        .select_from(listings.join(papers, papers.c.id == listings.c.paper_id))
        .where(listings.c.day == day, listings.c.paper_id.in_(paper_ids))
    ).mappings()
    by_id = {
        r["id"]: FeedItem(paper=card(r), day=r["day"], submitted_at=None, submitter=None, upvotes=r["upvotes"],
                          comments=r["comments_imported"] + r["comment_count"])
        for r in rows
    }
    return decorate(session, [by_id[p] for p in paper_ids if p in by_id])
