"""Members' libraries: collections of papers (the default one, "Saved", is what a card's Save
button fills). Every change to what a member keeps counts as a personal signal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import DailyPapersError, NotFoundError
from ..types import FULL_FIELDS, PaperCard, PaperFull
from .dialect import chunks, insert_for
from .papers import CARD_COLUMNS, FULL_COLUMNS, card
from .schema import Collection, CollectionPaper, Paper, User, utcnow
from .users import bump_signals

collections = Collection.__table__
members = CollectionPaper.__table__
papers_table = Paper.__table__
users_table = User.__table__
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


def saved(session: Session, user_id: int, paper_ids: list[int], *, in_saved_only: bool = False) -> set[int]:
    """Which of these papers are in any of the member's collections (`in_saved_only`: in their
    "Saved" collection, what a card's Save / Saved button shows and toggles)."""
    out: set[int] = set()
    query = (
        select(members.c.paper_id)
        .join(collections, collections.c.id == members.c.collection_id)
        .where(collections.c.user_id == user_id)
    )
    if in_saved_only:
        query = query.where(collections.c.is_default.is_(True))
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


# --- collections: made, renamed, described, shared, ordered and deleted by their member ---------

MAX_NAME = 200
MAX_DESCRIPTION = 2_000


class LibraryError(DailyPapersError):
    """A change to a library that cannot be made (a taken name, the default collection deleted):
    one line, shown to the member."""


@dataclass(frozen=True)
class CollectionRow:
    """A collection as pages and the API show it, with how many papers it holds."""

    id: int
    user_id: int
    name: str
    description: str
    is_public: bool
    is_default: bool
    position: int
    created_at: dt.datetime
    updated_at: dt.datetime
    papers: int = 0
    owner: str | None = None  # the member's username


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("a collection needs a name")
    if len(name) > MAX_NAME:
        raise LibraryError(f"a collection's name has at most {MAX_NAME} characters")
    return name


def _clean_description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise LibraryError(f"a description has at most {MAX_DESCRIPTION:,} characters")
    return text


def _count():
    return (
        select(func.count()).select_from(members).where(members.c.collection_id == collections.c.id).scalar_subquery().label("papers")
    )


def _rows(session: Session, *where, order=None) -> list[CollectionRow]:
    stmt = (
        select(*collections.c, _count(), users_table.c.username.label("owner"))
        .select_from(collections.join(users_table, users_table.c.id == collections.c.user_id))
        .where(*where)
        .order_by(*(order or (collections.c.is_default.desc(), collections.c.position, collections.c.id)))
    )
    return [CollectionRow(**r) for r in session.execute(stmt).mappings()]


def create(session: Session, user_id: int, name: str, description: str = "", *, is_public: bool = False) -> int:
    """A new collection at the end of the member's; LibraryError when they have one of that name."""
    name = _clean_name(name)
    default_collection(session, user_id)  # "Saved" always comes first, and its name stays taken
    if by_name(session, user_id, name) is not None:
        raise LibraryError(f"you have a collection named {name!r} already")
    last = session.execute(select(func.max(collections.c.position)).where(collections.c.user_id == user_id)).scalar()
    now = utcnow()
    try:
        with session.begin_nested():
            return session.execute(
                collections.insert()
                .values(user_id=user_id, name=name, description=_clean_description(description), is_public=bool(is_public),
                        is_default=False, position=(last or 0) + 1, created_at=now, updated_at=now)
                .returning(collections.c.id)
            ).scalar_one()
    except IntegrityError:  # made meanwhile by a concurrent request
        raise LibraryError(f"you have a collection named {name!r} already") from None


def by_name(session: Session, user_id: int, name: str) -> int | None:
    """The member's collection of this name (any case), if any."""
    return session.execute(
        select(collections.c.id).where(collections.c.user_id == user_id, func.lower(collections.c.name) == " ".join(name.split()).lower())
    ).scalar()


def get(session: Session, collection_id: int) -> CollectionRow | None:
    found = _rows(session, collections.c.id == collection_id)
    return found[0] if found else None


def visible(session: Session, collection_id: int, viewer_id: int | None) -> CollectionRow | None:
    """The collection if this viewer may see it: its owner, or anyone when it is public. Another
    member's private collection is None, exactly as a missing one."""
    found = get(session, collection_id)
    if found is None or not (found.is_public or (viewer_id is not None and found.user_id == viewer_id)):
        return None
    return found


def owned(session: Session, collection_id: int, user_id: int) -> CollectionRow | None:
    """The collection if this member owns it (else None, as for a missing one)."""
    found = get(session, collection_id)
    return found if found is not None and found.user_id == user_id else None


def of_member(session: Session, user_id: int, *, public_only: bool = False) -> list[CollectionRow]:
    """The member's collections, "Saved" first, then in their order, each with its paper count."""
    where = [collections.c.user_id == user_id]
    if public_only:
        where.append(collections.c.is_public.is_(True))
    return _rows(session, *where)


def owned_or_missing(session: Session, collection_id: int, user_id: int) -> CollectionRow:
    """The member's collection, or NotFoundError (for another member's as for a missing one)."""
    found = owned(session, collection_id, user_id)
    if found is None:
        raise NotFoundError("no such collection")
    return found


def edit(
    session: Session, collection_id: int, user_id: int, *, name: str | None = None, description: str | None = None,
    is_public: bool | None = None,
) -> bool:
    """Rename, describe, make public or private (what is given); True when something changed.
    "Saved" keeps its name."""
    row = owned_or_missing(session, collection_id, user_id)
    values: dict = {}
    if name is not None:
        name = _clean_name(name)
        if name != row.name:
            if row.is_default:
                raise LibraryError(f'"{DEFAULT_NAME}" keeps its name')
            other = by_name(session, user_id, name)
            if other is not None and other != collection_id:
                raise LibraryError(f"you have a collection named {name!r} already")
            values["name"] = name
    if description is not None and _clean_description(description) != row.description:
        values["description"] = _clean_description(description)
    if is_public is not None and bool(is_public) != row.is_public:
        values["is_public"] = bool(is_public)
    if not values:
        return False
    values["updated_at"] = utcnow()
    try:
        with session.begin_nested():
            session.execute(update(collections).where(collections.c.id == collection_id).values(**values))
    except IntegrityError:
        raise LibraryError(f"you have a collection named {name!r} already") from None
    return True


def delete_collection(session: Session, collection_id: int, user_id: int) -> bool:
    """Delete a collection and its list (the papers stay in the store and in other collections).
    "Saved" cannot be deleted. Counts a signal when it held papers."""
    row = owned_or_missing(session, collection_id, user_id)
    if row.is_default:
        raise LibraryError(f'"{DEFAULT_NAME}" cannot be deleted')
    session.execute(delete(members).where(members.c.collection_id == collection_id))
    session.execute(delete(collections).where(collections.c.id == collection_id))
    if row.papers:
        bump_signals(session, user_id)
    return True


def _renumber(session: Session, table, key_column, keys: list, where) -> None:
    for position, key in enumerate(keys, 1):
        session.execute(update(table).where(where, key_column == key).values(position=position))


def reorder_collections(session: Session, user_id: int, ids: list[int]) -> None:
    """Put the member's collections in this order ("Saved" stays first; ids left out keep their
    relative order after the given ones; others' ids are ignored)."""
    mine = [r.id for r in of_member(session, user_id) if not r.is_default]
    wanted = [i for i in dict.fromkeys(ids) if i in mine]
    order = wanted + [i for i in mine if i not in wanted]
    _renumber(session, collections, collections.c.id, order, collections.c.user_id == user_id)


def move_collection(session: Session, user_id: int, collection_id: int, step: int) -> bool:
    """Move a collection up (step -1) or down (+1) in the member's order; False at an end."""
    mine = [r.id for r in of_member(session, user_id) if not r.is_default]
    if collection_id not in mine:
        return False
    i = mine.index(collection_id)
    j = i + step
    if not 0 <= j < len(mine):
        return False
    mine[i], mine[j] = mine[j], mine[i]
    reorder_collections(session, user_id, mine)
    return True


def paper_order(session: Session, collection_id: int) -> list[int]:
    return list(
        session.execute(
            select(members.c.paper_id).where(members.c.collection_id == collection_id).order_by(members.c.position, members.c.added_at)
        ).scalars()
    )


def reorder_papers(session: Session, collection_id: int, user_id: int, paper_ids: list[int]) -> None:
    """Put a collection's papers in this order (papers left out follow in their order)."""
    owned_or_missing(session, collection_id, user_id)
    current = paper_order(session, collection_id)
    held = set(current)
    wanted = [p for p in dict.fromkeys(paper_ids) if p in held]
    order = wanted + [p for p in current if p not in set(wanted)]
    _renumber(session, members, members.c.paper_id, order, members.c.collection_id == collection_id)
    session.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=utcnow()))


def move_paper(session: Session, collection_id: int, user_id: int, paper_id: int, to: str) -> bool:
    """Move a paper up, down, to the top or to the bottom of its collection; False when it is not
    there or already at that end."""
    owned_or_missing(session, collection_id, user_id)
    order = paper_order(session, collection_id)
    if paper_id not in order:
        return False
    i = order.index(paper_id)
    target = {"up": i - 1, "down": i + 1, "top": 0, "bottom": len(order) - 1}.get(to)
    if target is None:
        raise LibraryError("move a paper up, down, to the top or to the bottom")
    if not 0 <= target < len(order) or target == i:
        return False
    order.insert(target, order.pop(i))
    reorder_papers(session, collection_id, user_id, order)
    return True


# --- what collections hold ------------------------------------------------------------------------


def papers_of(session: Session, collection_id: int, *, limit: int | None = 50, offset: int = 0) -> tuple[list[PaperCard], int]:
    """One page of a collection's papers as cards, in the member's order, and how many it holds."""
    total = session.execute(select(func.count()).select_from(members).where(members.c.collection_id == collection_id)).scalar_one()
    stmt = (
        select(*CARD_COLUMNS)
        .select_from(members.join(papers_table, papers_table.c.id == members.c.paper_id))
        .where(members.c.collection_id == collection_id)
        .order_by(members.c.position, members.c.added_at, papers_table.c.id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [card(r) for r in session.execute(stmt).mappings()], total


def added_recently(session: Session, collection_id: int, limit: int) -> list[tuple[PaperCard, dt.datetime]]:
    """A collection's papers most recently added first, with when (its Atom feed)."""
    rows = session.execute(
        select(*CARD_COLUMNS, members.c.added_at)
        .select_from(members.join(papers_table, papers_table.c.id == members.c.paper_id))
        .where(members.c.collection_id == collection_id)
        .order_by(members.c.added_at.desc(), members.c.position.desc())
        .limit(limit)
    ).mappings()
    return [(card(r), r["added_at"]) for r in rows]


def full_papers(session: Session, paper_ids: list[int]) -> list[PaperFull]:
    """Papers with their bibliographic columns (DOI, journal reference), in the given order: what
    an export writes."""
    found: dict[int, PaperFull] = {}
    for part in chunks(paper_ids):
        for row in session.execute(select(*FULL_COLUMNS).where(papers_table.c.id.in_(part))).mappings():
            found[row["id"]] = PaperFull(**{name: row[name] for name in FULL_FIELDS})
    return [found[i] for i in paper_ids if i in found]


def library_order(session: Session, user_id: int) -> list[int]:
    """Every paper in the member's collections, once, in the order of their collections and,
    within each, of its papers: the whole library as an export lists it."""
    out: dict[int, None] = {}
    for row in of_member(session, user_id):
        out.update(dict.fromkeys(paper_order(session, row.id)))
    return list(out)


def collections_with(session: Session, user_id: int, paper_id: int) -> set[int]:
    """Which of the member's collections hold the paper."""
    return set(
        session.execute(
            select(members.c.collection_id)
            .join(collections, collections.c.id == members.c.collection_id)
            .where(collections.c.user_id == user_id, members.c.paper_id == paper_id)
        ).scalars()
    )


def add_many(session: Session, collection_id: int, paper_ids: list[int], user_id: int) -> int:
    """Append papers to a collection in this order, skipping those it holds; how many were added
    (one signal for the lot)."""
    held = set(paper_order(session, collection_id))
    new = [p for p in dict.fromkeys(paper_ids) if p not in held]
    if not new:
        return 0
    last = session.execute(select(func.max(members.c.position)).where(members.c.collection_id == collection_id)).scalar() or 0
    now = utcnow()
    stmt = insert_for(session, members).on_conflict_do_nothing(index_elements=["collection_id", "paper_id"])
    session.execute(stmt, [dict(collection_id=collection_id, paper_id=p, position=last + i, added_at=now) for i, p in enumerate(new, 1)])
    session.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=now))
    bump_signals(session, user_id)
    return len(new)


# --- finding the papers an import names -----------------------------------------------------------


def ids_by_arxiv(session: Session, arxiv_ids: list[str]) -> dict[str, int]:
    """arxiv_id -> paper id, for those stored."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(arxiv_ids))):
        found.update(session.execute(select(papers_table.c.arxiv_id, papers_table.c.id).where(papers_table.c.arxiv_id.in_(part))).all())
    return found


def ids_by_title(session: Session, titles: dict[str, str], key) -> dict[str, int]:
    """Papers whose title folds (`key`) to the key of one of `titles` ({title key: title as
    written}): {title key: paper id}, for keys only one stored paper has. Candidates are found by
    the title's longest word, then compared folded."""
    out: dict[str, int] = {}
    for wanted, title in titles.items():
        words = sorted(re.findall(r"[A-Za-z0-9]{3,}", title), key=len, reverse=True)
        if not words:
            continue
        like = f"%{words[0].lower()}%"
        rows = session.execute(
            select(papers_table.c.id, papers_table.c.title).where(func.lower(papers_table.c.title).like(like)).limit(500)
        ).all()
        hits = {pid for pid, stored in rows if key(stored) == wanted}
        if len(hits) == 1:
            out[wanted] = hits.pop()
    return out
