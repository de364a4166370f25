"""Fitted recommenders (ranking/personal.py), one per member ("user:ID") and one for the community
("community"), and what fitting one reads: a member's signals (upvotes, saves, dismissals, papers
shown, follows, read marks), the papers of followed authors, a background sample of listed papers,
papers' texts. A model's `signals` is the counter it was fitted at (users.signals for a member, their
sum for the community): a model is stale when the counter has moved past it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import (
    Collection, CollectionPaper, Feedback, Follow, Listing, Paper, PaperAuthor, PaperNote, RecModel, Upvote, User, utcnow,
)

models = RecModel.__table__
users = User.__table__
upvotes = Upvote.__table__
collections = Collection.__table__
members = CollectionPaper.__table__
feedback = Feedback.__table__
follows = Follow.__table__
notes = PaperNote.__table__
listings = Listing.__table__
papers = Paper.__table__
authors = PaperAuthor.__table__

COMMUNITY = "community"


def owner_of(user_id: int) -> str:
    return f"user:{user_id}"


def get(session: Session, owner: str) -> dict | None:
    """The stored model of an owner (its bytes in `model`), or None."""
    row = session.execute(select(models).where(models.c.owner == owner)).mappings().first()
    return dict(row) if row else None


def head(session: Session, owner: str) -> tuple[int, dt.datetime] | None:
    """(signals, trained_at) of an owner's stored model, without its bytes (to tell a cached copy is current)."""
    row = session.execute(select(models.c.signals, models.c.trained_at).where(models.c.owner == owner)).first()
    return (row[0], row[1]) if row else None


def put(session: Session, owner: str, *, user_id: int | None, method: str, model: bytes, positives: int,
        negatives: int, signals: int) -> None:
    """Store (or replace) an owner's model, fitted at `signals`; a model fitted at fewer signals
    than the stored one (a slower updater elsewhere) does not replace it."""
    stmt = insert_for(session, models).values(
        owner=owner, user_id=user_id, method=method, model=model, positives=positives, negatives=negatives,
        signals=signals, trained_at=utcnow(),
    )
    replace = ("user_id", "method", "model", "positives", "negatives", "signals", "trained_at")
    session.execute(stmt.on_conflict_do_update(
        index_elements=["owner"], set_={c: stmt.excluded[c] for c in replace}, where=models.c.signals <= stmt.excluded.signals,
    ))


def stale_members(session: Session, limit: int = 100) -> list[tuple[int, int]]:
    """(user id, signals) of enabled members whose counter moved past their stored model's (or who
    have signals and no model yet), most signals behind first. One query: the users table joined
    to the models on their user_id index."""
    behind = users.c.signals - func.coalesce(models.c.signals, 0)
    rows = session.execute(
        select(users.c.id, users.c.signals)
        .select_from(users.outerjoin(models, models.c.user_id == users.c.id))
        .where(users.c.signals > func.coalesce(models.c.signals, 0), users.c.is_disabled.is_(False))
        .order_by(behind.desc(), users.c.id)
        .limit(limit)
    )
    return [(uid, n) for uid, n in rows]


def community_signals(session: Session) -> int:
    """The community's counter: every member's signals together."""
    return int(session.execute(select(func.coalesce(func.sum(users.c.signals), 0))).scalar_one())


@dataclass
class MemberSignals:
    """What a member's model is fitted from, newest first within each kind."""

    upvoted: list[int] = field(default_factory=list)
    saved: list[int] = field(default_factory=list)
    dismissed: list[int] = field(default_factory=list)
    shown: list[tuple[int, int]] = field(default_factory=list)  # (paper id, times shown)
    read: list[int] = field(default_factory=list)
    authors: list[tuple[str, str]] = field(default_factory=list)  # (author key, label)
    categories: list[tuple[str, str]] = field(default_factory=list)
    searches: list[tuple[str, str]] = field(default_factory=list)


def member_signals(session: Session, user_id: int, *, limit: int = 1000) -> MemberSignals:
    """A member's signals (at most `limit` of each kind, newest first)."""
    out = MemberSignals()
    out.upvoted = list(session.execute(
        select(upvotes.c.paper_id).where(upvotes.c.user_id == user_id).order_by(upvotes.c.created_at.desc()).limit(limit)
    ).scalars())
    first = func.min(members.c.added_at)
    out.saved = list(session.execute(
        select(members.c.paper_id).join(collections, collections.c.id == members.c.collection_id)
        .where(collections.c.user_id == user_id).group_by(members.c.paper_id).order_by(first.desc()).limit(limit)
    ).scalars())
    for pid, kind, count in session.execute(
        select(feedback.c.paper_id, feedback.c.kind, feedback.c.count)
        .where(feedback.c.user_id == user_id).order_by(feedback.c.at.desc()).limit(4 * limit)
    ):
        if kind == "dismiss":
            out.dismissed.append(pid)
        elif kind == "shown":
            out.shown.append((pid, count))
    out.read = list(session.execute(
        select(notes.c.paper_id).where(notes.c.user_id == user_id, notes.c.read_at.is_not(None))
    ).scalars())
    followed = follows_of(session, user_id)
    out.authors, out.categories, out.searches = followed.authors, followed.categories, followed.searches
    return out


def follows_of(session: Session, user_id: int) -> MemberSignals:
    """A member's follows alone (what a ranking reads besides the stored model)."""
    out = MemberSignals()
    for kind, value, label in session.execute(
        select(follows.c.kind, follows.c.value, follows.c.label).where(follows.c.user_id == user_id).order_by(follows.c.id)
    ):
        {"author": out.authors, "category": out.categories, "search": out.searches}.get(kind, []).append((value, label or value))
    return out


def follows_of_many(session: Session, user_ids: list[int]) -> dict[int, MemberSignals]:
    """follows_of for many members (one query per 500)."""
    out: dict[int, MemberSignals] = {}
    for part in chunks(list(user_ids)):
        for uid, kind, value, label in session.execute(
            select(follows.c.user_id, follows.c.kind, follows.c.value, follows.c.label)
            .where(follows.c.user_id.in_(part)).order_by(follows.c.id)
        ):
            found = out.setdefault(uid, MemberSignals())
            {"author": found.authors, "category": found.categories, "search": found.searches}.get(kind, []).append((value, label or value))
    return out


def _excluded_queries(where_user):
    """(user id, paper id) of what members never get recommended: saved, dismissed, read, upvoted."""
    return union_all(
        select(collections.c.user_id, members.c.paper_id).join(collections, collections.c.id == members.c.collection_id)
        .where(where_user(collections.c.user_id)),
        select(feedback.c.user_id, feedback.c.paper_id).where(where_user(feedback.c.user_id), feedback.c.kind == "dismiss"),
        select(notes.c.user_id, notes.c.paper_id).where(where_user(notes.c.user_id), notes.c.read_at.is_not(None)),
        select(upvotes.c.user_id, upvotes.c.paper_id).where(where_user(upvotes.c.user_id)),
    )


def excluded_many(session: Session, user_ids: list[int]) -> dict[int, set[int]]:
    """excluded for many members (one query per 500)."""
    out: dict[int, set[int]] = {}
    for part in chunks(list(user_ids)):
        for uid, pid in session.execute(_excluded_queries(lambda column: column.in_(part))):
            out.setdefault(uid, set()).add(pid)
    return out


def get_many(session: Session, owners: list[str]) -> dict[str, dict]:
    """The stored models of these owners, by owner."""
    out: dict[str, dict] = {}
    for part in chunks(list(owners)):
        out.update((r["owner"], dict(r)) for r in session.execute(select(models).where(models.c.owner.in_(part))).mappings())
    return out


def excluded(session: Session, user_id: int) -> set[int]:
    """The papers never recommended to the member: saved (in any collection), dismissed, read, and
    those they upvoted (they have seen and liked them already)."""
    return {pid for _uid, pid in session.execute(_excluded_queries(lambda column: column == user_id))}


def papers_of_authors(session: Session, keys: list[str], limit: int = 200) -> list[int]:
    """Papers by any of these folded author keys, newest (highest id) first."""
    if not keys:
        return []
    return list(session.execute(
        select(authors.c.paper_id).where(authors.c.key.in_(keys[:500])).group_by(authors.c.paper_id)
        .order_by(authors.c.paper_id.desc()).limit(limit)
    ).scalars())


def community_positives(session: Session, limit: int = 2000) -> list[tuple[int, int]]:
    """(paper id, members who upvoted or saved it) of the community's papers, most first, then newest."""
    votes = select(upvotes.c.paper_id.label("paper_id"), upvotes.c.user_id.label("user_id"))
    saves = select(members.c.paper_id.label("paper_id"), collections.c.user_id.label("user_id")).join(
        collections, collections.c.id == members.c.collection_id
    )
    both = union_all(votes, saves).subquery("liked")
    n = func.count(func.distinct(both.c.user_id))
    rows = session.execute(
        select(both.c.paper_id, n).group_by(both.c.paper_id).order_by(n.desc(), both.c.paper_id.desc()).limit(limit)
    )
    return [(pid, count) for pid, count in rows]


def background(session: Session, n: int, *, seed: int = 0) -> list[int]:
    """About `n` listed papers drawn evenly over the listings (deterministic for a seed): the
    negatives every model is fitted against. By id strides, not ORDER BY random(): one index range."""
    lo, hi = session.execute(select(func.min(listings.c.paper_id), func.max(listings.c.paper_id))).one()
    if lo is None or n <= 0:
        return []
    total = session.execute(select(func.count()).select_from(listings)).scalar_one()
    step = max(1, total // n)
    position = func.row_number().over(order_by=listings.c.paper_id).label("position")
    ranked = select(listings.c.paper_id, position).subquery("ranked")
    offset = seed % step
    return list(dict.fromkeys(session.execute(
        select(ranked.c.paper_id).where((ranked.c.position + literal(offset)) % step == 0).limit(n)
    ).scalars()))


def texts(session: Session, paper_ids: list[int]) -> dict[int, tuple[str, str, str, list[str]]]:
    """(title, abstract, content hash, categories) of these papers."""
    out: dict[int, tuple[str, str, str, list[str]]] = {}
    for part in chunks(list(paper_ids)):
        for pid, title, abstract, chash, cats in session.execute(
            select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.content_hash, papers.c.categories)
            .where(papers.c.id.in_(part))
        ):
            out[pid] = (title or "", abstract or "", chash or "", list(cats or []))
    return out


def author_keys(session: Session, paper_ids: list[int]) -> dict[int, set[str]]:
    """The folded author keys of these papers."""
    out: dict[int, set[str]] = {}
    for part in chunks(list(paper_ids)):
        for pid, key in session.execute(select(authors.c.paper_id, authors.c.key).where(authors.c.paper_id.in_(part))):
            out.setdefault(pid, set()).add(key)
    return out


def titles(session: Session, paper_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(list(dict.fromkeys(paper_ids))):
        out.update((pid, title) for pid, title in session.execute(select(papers.c.id, papers.c.title).where(papers.c.id.in_(part))))
    return out

