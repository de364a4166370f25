"""Members' libraries: collections of papers (the default one, "Saved", is what a card's Save
button fills). Every change to what a member keeps counts as a personal signal."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import Collection, CollectionPaper, utcnow
from .users import bump_signals

collections = Collection.__table__
members = CollectionPaper.__table__
DEFAULT_NAME = "Saved"


def default_collection(session: Session, user_id: int) -> int:
    """The member's "Saved" collection, made on first use (safe under a concurrent first use)."""
    found = session.execute(
        select(collections.c.id).where(collections.c.user_id == user_id, collections.c.is_default.is_(True))
    ).scalar()
    if found is not None:
        return found
    now = utcnow()
    try:
        with session.begin_nested():
            return session.execute(
                collections.insert()
                .values(user_id=user_id, name=DEFAULT_NAME, description="", is_public=False, is_default=True,
                        position=0, created_at=now, updated_at=now)
                .returning(collections.c.id)
            ).scalar_one()
    except IntegrityError:  # made meanwhile by another request, or a collection already has the name
        found = session.execute(
            select(collections.c.id).where(collections.c.user_id == user_id, collections.c.name == DEFAULT_NAME)
        ).scalar_one()
        session.execute(update(collections).where(collections.c.id == found).values(is_default=True))
        return found


def add(session: Session, collection_id: int, paper_id: int, user_id: int) -> bool:
    """Put a paper at the end of a collection (idempotent); True when it was not there."""
    last = session.execute(select(func.max(members.c.position)).where(members.c.collection_id == collection_id)).scalar()
    stmt = insert_for(session, members).values(collection_id=collection_id, paper_id=paper_id, position=(last or 0) + 1, added_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["collection_id", "paper_id"]).returning(members.c.paper_id)
    if session.execute(stmt).first() is None:
        return False
    session.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=utcnow()))
    bump_signals(session, user_id)
    return True


def remove(session: Session, collection_id: int, paper_id: int, user_id: int) -> bool:
    """Take a paper out of a collection (idempotent); True when it was there."""
    done = session.execute(
        delete(members).where(members.c.collection_id == collection_id, members.c.paper_id == paper_id).returning(members.c.paper_id)
    ).first()
    if done is None:
        return False
    session.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=utcnow()))
    bump_signals(session, user_id)
    return True


def save(session: Session, user_id: int, paper_id: int) -> bool:
    """Save a paper into the member's "Saved" collection (idempotent)."""
    return add(session, default_collection(session, user_id), paper_id, user_id)


def unsave(session: Session, user_id: int, paper_id: int) -> bool:
    """Take a paper out of "Saved" (idempotent; other collections keep it)."""
    return remove(session, default_collection(session, user_id), paper_id, user_id)


def saved(session: Session, user_id: int, paper_ids: list[int]) -> set[int]:
    """Which of these papers are in any of the member's collections."""
    out: set[int] = set()
    query = (
        select(members.c.paper_id)
        .join(collections, collections.c.id == members.c.collection_id)
        .where(collections.c.user_id == user_id)
    )
    for part in chunks(paper_ids):
        out.update(session.execute(query.where(members.c.paper_id.in_(part))).scalars())
    return out


def kept(session: Session, user_id: int) -> list[tuple[int, object]]:
    """Every paper in the member's collections: (paper id, when first added), newest first."""
    first = func.min(members.c.added_at)
    rows = session.execute(
        select(members.c.paper_id, first)
        .join(collections, collections.c.id == members.c.collection_id)
        .where(collections.c.user_id == user_id)
        .group_by(members.c.paper_id)
        .order_by(first.desc())
    )
    return [tuple(r) for r in rows]
