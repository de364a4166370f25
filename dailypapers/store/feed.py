"""The feed query: papers featured in a span of days. One function feeds the HTML pages, the JSON
API, the Atom/RSS feeds and the CLI, so they always agree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.orm import Session

from ..trending_formula import score as trending_score
from ..types import PaperCard
from .daily import served
from .feedback import dismissed_select
from .claims import confirmed as confirmed_claims
from .papers import CARD_COLUMNS, card, in_categories
from .repos import cards_for, stars_of_paper
from .schema import DailyEntry, HfUser, Paper, PaperCategory, PaperVersion, User
from .summaries import Summary, for_papers
from .thumbnails import versions_for as thumbnail_versions

papers = Paper.__table__
entries = DailyEntry.__table__
users = User.__table__
categories = PaperCategory.__table__
hf_users = HfUser.__table__
versions = PaperVersion.__table__

SORTS = ("upvotes", "time", "trending", "stars")


@dataclass(frozen=True)
class FeedQuery:
    """Which papers: featured between `start` and `end` (inclusive), optionally by one submitter or in
    one category (or any of several: an archive's, taxonomy.categories_in); in which order; which page."""

    start: dt.date | None = None
    end: dt.date | None = None
    sort: str = "upvotes"  # upvotes | time | trending | stars (its GitHub repository's)
    limit: int = 50
    offset: int = 0
    submitter: str | None = None  # a local username or an upstream (HF) submitter name, any case
    category: str | tuple[str, ...] | None = None
    hide_for: int | None = None  # a member: leave out the papers they dismissed (FeedPage.hidden counts them)


@dataclass
class FeedItem:
    """A paper as a feed shows it: the paper's card plus the featuring entry."""

    paper: PaperCard
    day: dt.date | None  # None: a paper never featured (a search result)
    submitted_at: dt.datetime | None
    submitter: str | None
    upvotes: int
    comments: int
    trending_score: float = 0.0
    # The submitter's full name (a local member's display name, an HF user's fullname) and avatar
    # URL (an HF user's, as imported), when known.
    submitter_fullname: str | None = None
    submitter_avatar_url: str | None = None
    # The version of the paper's thumbnail (store/thumbnails.py), None while it has none: the card
    # then shows a generated picture.
    thumbnail: str | None = None
    # The code repository the card links (paper_repos; the most starred GitHub one) and its stars.
    repo_url: str | None = None
    stars: int | None = None
    # The one line and key phrases shown under the title (store/summaries.py), when there are any.
    summary: Summary | None = None
    # Members confirmed as authors: author position -> username (store/claims.py).
    claimed: dict[int, str] = field(default_factory=dict)
    # The newest version submitted after the day the paper was featured, if any ("v2 since").
    newer_version: int | None = None


def with_repos(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    """The items, each with its repository and stars filled in (one query for the page)."""
    found = cards_for(session, [i.paper.id for i in items])
    for item in items:
        item.repo_url, item.stars = found.get(item.paper.id, (None, None))
    return items


def with_summaries(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    """The items, each given its summary and key phrases (one query for all)."""
    found = for_papers(session, [item.paper for item in items])
    for item in items:
        item.summary = found.get(item.paper.id)
    return items


@dataclass
class FeedPage:
    items: list[FeedItem] = field(default_factory=list)
    total: int = 0
    hidden: int = 0  # papers of the query left out as dismissed by FeedQuery.hide_for (not in total)


def _featured(query: FeedQuery):
    """One row per paper featured in the span: its first day there, and who featured it."""
    conds = []
    if query.start is not None:
        conds.append(entries.c.day >= query.start)
    if query.end is not None:
        conds.append(entries.c.day <= query.end)
    sub = select(
        entries.c.paper_id.label("paper_id"),
        func.min(entries.c.day).label("day"),
        func.min(entries.c.submitted_at).label("submitted_at"),
        func.max(entries.c.submitter_name).label("submitter_name"),
        func.max(entries.c.submitted_by_id).label("submitted_by_id"),
    )
    if conds:
        sub = sub.where(and_(*conds))
    if query.submitter:
        name = query.submitter.lower()
        local = select(users.c.id).where(func.lower(users.c.username) == name)
        sub = sub.where((func.lower(entries.c.submitter_name) == name) | entries.c.submitted_by_id.in_(local))
    return sub.group_by(entries.c.paper_id).subquery("f")


# Who submitted a paper: a local member (username, display name) or an upstream user (the entry's
# submitter_name, and the profile its import carried).
SUBMITTER_COLUMNS = (users.c.username, users.c.display_name, hf_users.c.fullname, hf_users.c.avatar_url)


def list_featured(session: Session, query: FeedQuery, *, now: dt.datetime | None = None) -> FeedPage:
    """The page of papers the query asks for, with the total count for pagination."""
    f = _featured(query)
    upvotes = (papers.c.upvotes_imported + papers.c.upvote_count).label("upvotes")
    base = select(
        *CARD_COLUMNS, f.c.day, f.c.submitted_at, f.c.submitter_name, upvotes, *SUBMITTER_COLUMNS
    ).select_from(
        f.join(papers, papers.c.id == f.c.paper_id)
        .outerjoin(users, users.c.id == f.c.submitted_by_id)
        .outerjoin(hf_users, hf_users.c.name == f.c.submitter_name)
    )
    count_q = select(func.count()).select_from(f)
    if query.category:
        in_cat = in_categories(query.category)
        base = base.where(papers.c.id.in_(in_cat))
        count_q = count_q.where(f.c.paper_id.in_(in_cat))
    hidden = 0
    if query.hide_for is not None:
        mine = dismissed_select(query.hide_for)
        hidden = session.execute(count_q.where(f.c.paper_id.in_(mine))).scalar_one()
        base = base.where(papers.c.id.not_in(mine))
        count_q = count_q.where(f.c.paper_id.not_in(mine))
    total = session.execute(count_q).scalar_one()
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if query.sort == "trending":
        # Trending needs the decayed score of every candidate; spans are a day to a month, so
        # scoring in Python is cheap and keeps the formula in one pure, tested function.
        rows = session.execute(base).mappings().all()
        items = [_item(r, trending_score(r["upvotes"], r["submitted_at"], now)) for r in rows]
        items.sort(key=lambda i: (-i.trending_score, -i.upvotes, i.paper.arxiv_id))
        return FeedPage(decorate(session, items[query.offset : query.offset + query.limit]), total, hidden)
    if query.sort == "time":
        order = (f.c.submitted_at.desc(), papers.c.arxiv_id.desc())
    elif query.sort == "stars":
        order = (func.coalesce(stars_of_paper(), -1).desc(), literal_column("upvotes").desc(), papers.c.arxiv_id.desc())
    else:
        order = (literal_column("upvotes").desc(), f.c.submitted_at.desc(), papers.c.arxiv_id.desc())
    rows = session.execute(base.order_by(*order).limit(query.limit).offset(query.offset)).mappings().all()
    return FeedPage(decorate(session, [_item(r, trending_score(r["upvotes"], r["submitted_at"], now)) for r in rows]), total, hidden)


def with_thumbnails(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    """The items, each told its thumbnail's version (one query for the page)."""
    versions = thumbnail_versions(session, [i.paper.id for i in items]) if items else {}
    for item in items:
        item.thumbnail = versions.get(item.paper.id)
    return items


def decorate(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    """The items with what cards show beside the paper row: thumbnail, repository and stars, the
    one line and key phrases, the members confirmed as its authors and a newer version; a few
    queries for the whole page."""
    return annotate(session, with_summaries(session, with_repos(session, with_thumbnails(session, items))))


def annotate(session: Session, items: list[FeedItem]) -> list[FeedItem]:
    """Fill in what cards show beyond the paper's row: the members confirmed as its authors, and
    a version newer than the day it was featured. Two queries for the whole page."""
    ids = [item.paper.id for item in items]
    if not ids:
        return items
    claimed = confirmed_claims(session, ids)
    later: dict[int, list[tuple[int, dt.datetime]]] = {}
    for pid, version, submitted in session.execute(
        select(versions.c.paper_id, versions.c.version, versions.c.submitted_at).where(
            versions.c.paper_id.in_(ids), versions.c.version > 1, versions.c.submitted_at.is_not(None)
        )
    ):
        later.setdefault(pid, []).append((version, submitted))
    for item in items:
        pid = item.paper.id
        item.claimed = claimed.get(pid, {})
        if item.day is not None:
            newer = [v for v, at in later.get(pid, ()) if at.date() > item.day]
            item.newer_version = max(newer) if newer else None
    return items


def _item(row, score: float) -> FeedItem:
    paper = card(row)
    local = row["username"] is not None
    return FeedItem(
        paper=paper,
        day=row["day"],
        submitted_at=row["submitted_at"],
        submitter=row["username"] or row["submitter_name"],
        upvotes=row["upvotes"],
        comments=paper.comments_imported + paper.comment_count,
        trending_score=score,
        submitter_fullname=row["display_name"] if local else row["fullname"],
        submitter_avatar_url=None if local else row["avatar_url"],
    )


def items_for(session: Session, cards: list[PaperCard]) -> list[FeedItem]:
    """Feed items for given papers (cards, e.g. search results), in their order: each with the
    first day it was featured and who featured it then, or no day for a paper never featured."""
    if not cards:
        return []
    ids = [p.id for p in cards]
    first = (
        select(
            entries.c.paper_id,
            entries.c.day,
            entries.c.submitted_at,
            entries.c.submitter_name,
            entries.c.submitted_by_id,
            func.row_number().over(partition_by=entries.c.paper_id, order_by=(entries.c.day, entries.c.id)).label("n"),
        )
        .where(entries.c.paper_id.in_(ids))
        .subquery("e")
    )
    rows = session.execute(
        select(first.c.paper_id, first.c.day, first.c.submitted_at, first.c.submitter_name, *SUBMITTER_COLUMNS)
        .select_from(
            first.outerjoin(users, users.c.id == first.c.submitted_by_id).outerjoin(
                hf_users, hf_users.c.name == first.c.submitter_name
            )
        )
        .where(first.c.n == 1)
    ).mappings()
    by_paper = {r["paper_id"]: r for r in rows}
    out = []
    for paper in cards:
        entry = by_paper.get(paper.id)
        local = entry is not None and entry["username"] is not None
        out.append(
            FeedItem(
                paper=paper,
                day=entry["day"] if entry else None,
                submitted_at=entry["submitted_at"] if entry else None,
                submitter=(entry["username"] or entry["submitter_name"]) if entry else None,
                upvotes=paper.upvotes_imported + paper.upvote_count,
                comments=paper.comments_imported + paper.comment_count,
                submitter_fullname=(entry["display_name"] if local else entry["fullname"]) if entry else None,
                submitter_avatar_url=None if local or entry is None else entry["avatar_url"],
            )
        )
    return decorate(session, out)


def adjacent_days(session: Session, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The nearest earlier and later days that have papers (empty days, and days outside the ones
    the site serves, are skipped)."""
    prev_day = session.execute(select(func.max(entries.c.day)).where(entries.c.day < day, served())).scalar_one_or_none()
    next_day = session.execute(select(func.min(entries.c.day)).where(entries.c.day > day, served())).scalar_one_or_none()
    return prev_day, next_day
