"""Aggregates for the statistics page."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .schema import DailyEntry, Paper, PaperCategory, User

entries = DailyEntry.__table__
papers = Paper.__table__
categories = PaperCategory.__table__


def papers_per_day_by_category(session: Session, start: dt.date, end: dt.date, top: int = 5) -> dict:
    """{"days": [...], "series": {category: [count per day]}} for the `top` primary categories of the
    span, the rest summed as "other"."""
    rows = session.execute(
        select(entries.c.day, papers.c.primary_category, func.count())
        .select_from(entries.join(papers, papers.c.id == entries.c.paper_id))
        .where(entries.c.day.between(start, end))
        .group_by(entries.c.day, papers.c.primary_category)
    ).all()
    totals: Counter = Counter()
    by_day: dict = defaultdict(Counter)
    for day, cat, n in rows:
        cat = cat or "unknown"
        totals[cat] += n
        by_day[day][cat] += n
    days = sorted(by_day)
    keep = [c for c, _ in totals.most_common(top)]
    series = {c: [by_day[d][c] for d in days] for c in keep}
    other = [sum(n for c, n in by_day[d].items() if c not in keep) for d in days]
    if any(other):
        series["other"] = other
    return {"days": days, "series": series}


def upvotes_per_day(session: Session, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """(day, upvotes of the papers first featured that day)."""
    rows = session.execute(
        select(papers.c.first_featured, func.sum(papers.c.upvotes_imported + papers.c.upvote_count))
        .where(papers.c.first_featured.between(start, end))
        .group_by(papers.c.first_featured)
        .order_by(papers.c.first_featured)
    ).all()
    return [(d, int(n or 0)) for d, n in rows]


def top_categories(session: Session, start: dt.date, end: dt.date, limit: int = 10) -> list[tuple[str, int]]:
    """Categories (primary or cross-listed) with the most papers featured in the span."""
    featured = select(entries.c.paper_id).where(entries.c.day.between(start, end)).distinct().subquery()
    rows = session.execute(
        select(categories.c.category, func.count())
        .where(categories.c.paper_id.in_(select(featured.c.paper_id)))
        .group_by(categories.c.category)
        .order_by(func.count().desc(), categories.c.category)
        .limit(limit)
    ).all()
    return [(c, int(n)) for c, n in rows]


def totals(session: Session) -> dict:
    return {
        "papers": session.execute(select(func.count()).select_from(papers)).scalar_one(),
        "days": session.execute(select(func.count(func.distinct(entries.c.day)))).scalar_one(),
        "users": session.execute(select(func.count()).select_from(User.__table__)).scalar_one(),
        "upvotes": session.execute(select(func.coalesce(func.sum(papers.c.upvotes_imported + papers.c.upvote_count), 0))).scalar_one(),
    }
