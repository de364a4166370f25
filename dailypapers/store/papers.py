"""Papers, their versions and categories: the only module that writes them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from ..types import CARD_FIELDS, FULL_FIELDS, PAPER_COLUMNS, PaperCard, PaperFull, PaperRow, StoredVersion
from .dialect import bulk_insert, bulk_insert_values, chunks, converter, insert_for, max_id
from .schema import IngestedRecord, Listing, Paper, PaperCategory, PaperVersion, utcnow

papers = Paper.__table__
versions = PaperVersion.__table__
categories = PaperCategory.__table__
records = IngestedRecord.__table__


class Stored(NamedTuple):
    """What ingest needs to know of a stored paper before it reads the rest."""

    id: int
    version: int | None
    content_hash: str


def existing(session: Session, arxiv_ids: Iterable[str]) -> dict[str, Stored]:
    """arxiv_id -> (id, version, content_hash) for the ids already stored."""
    found: dict[str, Stored] = {}
    for part in chunks(list(arxiv_ids)):
        rows = session.execute(
            select(papers.c.arxiv_id, papers.c.id, papers.c.version, papers.c.content_hash).where(
                papers.c.arxiv_id.in_(part)
            )
        )
        for arxiv_id, pid, version, chash in rows:
            found[arxiv_id] = Stored(pid, version, chash)
    return found


def ingest_rows(session: Session, paper_ids: Iterable[int]) -> dict[str, PaperRow]:
    """The ingest-owned columns of stored papers, by arxiv_id, for merging."""
    cols = [papers.c[name] for name in PAPER_COLUMNS]
    out: dict[str, PaperRow] = {}
    for part in chunks(list(paper_ids)):
        for row in session.execute(select(*cols).where(papers.c.id.in_(part))):
            out[row.arxiv_id] = PaperRow(*row)
    return out


# What a new paper's row holds besides PAPER_COLUMNS, and the columns kept as JSON.
_NEW_COLUMNS = PAPER_COLUMNS + ("first_featured", "upvote_count", "comment_count", "created_at", "changed_at")
_JSON_COLUMNS = ("authors", "categories")


def insert_many(session: Session, rows: list[PaperRow], first_featured: dict[str, dt.date] | None = None) -> dict[str, int]:
    """Insert new papers, each with its first featured day if it has one; returns arxiv_id -> id.

    A row's authors may be their JSON text already (encoded in the reader process of a parallel
    import, see ingest.prepare.pack), which spares this, the writing process, the encoding."""
    if not rows:
        return {}
    first_featured = first_featured or {}
    now = utcnow()
    sqlite = session.get_bind().dialect.name == "sqlite"
    convert = {name: converter(session, papers.c[name]) for name in _NEW_COLUMNS}
    plain = [n for n in _NEW_COLUMNS if n not in _JSON_COLUMNS and convert[n] is None]
    typed = [(n, convert[n]) for n in _NEW_COLUMNS if n not in _JSON_COLUMNS and convert[n] is not None]
    columns = tuple(plain) + tuple(n for n, _ in typed) + _JSON_COLUMNS
    encode_json = convert["authors"]
    data = []
    for paper in rows:
        row = paper._asdict()
        row.update(upvote_count=0, comment_count=0, created_at=now, changed_at=now)
        row["first_featured"] = first_featured.get(paper.arxiv_id)
        values = [row[n] for n in plain]
        values += [None if (v := row[n]) is None else fn(v) for n, fn in typed]
        authors = paper.authors
        if isinstance(authors, str):  # encoded by ingest.prepare; PostgreSQL takes the list
            values.append(authors if sqlite else encode_json(json.loads(authors)))
        else:
            values.append(encode_json(authors or []))
        values.append(encode_json(paper.categories))
        data.append(values)
    bulk_insert_values(session, papers, columns, data)
    if sqlite:
        # Inside our write transaction SQLite gives each new row max(rowid) + 1, in insert order.
        last = max_id(session, papers)
        first = last - len(rows) + 1
        return {row.arxiv_id: first + i for i, row in enumerate(rows)}
    return {aid: v.id for aid, v in existing(session, [row.arxiv_id for row in rows]).items()}


def update_many(session: Session, rows: dict[int, PaperRow]) -> None:
    """Rewrite the ingest-owned columns of existing papers, by id."""
    if not rows:
        return
    now = utcnow()
    params = []
    for pid, row in rows.items():
        p = {f"v_{k}": v for k, v in zip(PAPER_COLUMNS, row, strict=True) if k != "arxiv_id"}
        p["b_id"] = pid
        p["v_changed_at"] = now
        params.append(p)
    values = {k: bindparam(f"v_{k}") for k in PAPER_COLUMNS if k != "arxiv_id"}
    values["changed_at"] = bindparam("v_changed_at")
    stmt = update(papers).where(papers.c.id == bindparam("b_id")).values(**values)
    session.connection().execute(stmt, params)


def replace_categories(session: Session, by_paper: dict[int, list[str]], *, fresh: bool = False) -> None:
    """Set each paper's categories (primary first). `fresh`: the papers have none yet."""
    if not by_paper:
        return
    if not fresh:
        for part in chunks(list(by_paper)):
            session.execute(delete(categories).where(categories.c.paper_id.in_(part)))
    rows = [
        {"paper_id": pid, "category": cat, "is_primary": i == 0}
        for pid, cats in by_paper.items()
        for i, cat in enumerate(cats)
    ]
    bulk_insert(session, categories, rows)


def known_fingerprints(session: Session, fingerprints: list[str]) -> set[str]:
    """The fingerprints of input records applied before."""
    found: set[str] = set()
    for part in chunks(fingerprints):
        found.update(
            f for (f,) in session.execute(select(records.c.fingerprint).where(records.c.fingerprint.in_(part)))
        )
    return found


def remember_fingerprints(session: Session, rows: list[dict]) -> None:
    """Record input records as applied ({fingerprint, paper_id}); in the batch's transaction."""
    bulk_insert(session, records, rows, ignore_conflicts_on=("fingerprint",))


def known_versions(session: Session, paper_ids: Iterable[int]) -> dict[tuple[int, int], tuple[bool, bool, bool]]:
    """(paper_id, version) -> (has submitted_at, has title, has abstract) for stored versions."""
    out: dict[tuple[int, int], tuple[bool, bool, bool]] = {}
    for part in chunks(list(paper_ids)):
        rows = session.execute(
            select(
                versions.c.paper_id,
                versions.c.version,
                versions.c.submitted_at,
                versions.c.title,
                versions.c.abstract.is_not(None),
            ).where(versions.c.paper_id.in_(part))
        )
        for pid, version, submitted, title, has_abstract in rows:
            out[(pid, version)] = (submitted is not None, title is not None, bool(has_abstract))
    return out


def upsert_versions(session: Session, rows: list[dict]) -> None:
    """Record versions; a known version only gains the date, title or abstract it lacked."""
    if not rows:
        return
    stmt = insert_for(session, versions)
    stmt = stmt.on_conflict_do_update(
        index_elements=["paper_id", "version"],
        set_={
            "submitted_at": func.coalesce(versions.c.submitted_at, stmt.excluded.submitted_at),
            "title": func.coalesce(versions.c.title, stmt.excluded.title),
            "abstract": func.coalesce(versions.c.abstract, stmt.excluded.abstract),
        },
    )
    session.execute(stmt, rows)


def set_first_featured(session: Session, first_days: dict[int, dt.date]) -> None:
    """Lower each paper's first_featured day to the given one when it is earlier (or unset)."""
    if not first_days:
        return
    now = utcnow()
    stmt = (
        update(papers)
        .where(papers.c.id == bindparam("b_id"))
        .where((papers.c.first_featured.is_(None)) | (papers.c.first_featured > bindparam("b_day")))
        .values(first_featured=bindparam("b_day"), changed_at=now)
    )
    session.connection().execute(stmt, [{"b_id": pid, "b_day": day} for pid, day in first_days.items()])


# What a card is read from (types.CARD_FIELDS), and a paper's own page (types.FULL_FIELDS).
CARD_COLUMNS = tuple(papers.c[name] for name in CARD_FIELDS)
FULL_COLUMNS = tuple(papers.c[name] for name in FULL_FIELDS)


def card(row) -> PaperCard:
    """A card from a row (a mapping) holding CARD_COLUMNS."""
    return PaperCard(**{name: row[name] for name in CARD_FIELDS})


def get(session: Session, arxiv_id: str) -> PaperFull | None:
    """A paper with its version history, or None."""
    row = session.execute(select(*FULL_COLUMNS).where(papers.c.arxiv_id == arxiv_id)).mappings().first()
    if row is None:
        return None
    history = session.execute(
        select(versions.c.version, versions.c.submitted_at, versions.c.title, versions.c.abstract)
        .where(versions.c.paper_id == row["id"])
        .order_by(versions.c.version)
    )
    return PaperFull(**{name: row[name] for name in FULL_FIELDS}, versions=tuple(StoredVersion(*v) for v in history))


@dataclass
class PaperDetail:
    """A paper with its version history and the days it was featured (first submitter included)."""

    paper: PaperFull
    days: list[dt.date]
    first_submitted_at: dt.datetime | None
    first_submitter: str | None


def detail(session: Session, arxiv_id: str) -> PaperDetail | None:
    from .schema import DailyEntry, User

    paper = get(session, arxiv_id)
    if paper is None:
        return None
    e, u = DailyEntry.__table__, User.__table__
    rows = session.execute(
        select(e.c.day, e.c.submitted_at, e.c.submitter_name, u.c.username)
        .select_from(e.outerjoin(u, u.c.id == e.c.submitted_by_id))
        .where(e.c.paper_id == paper.id)
        .order_by(e.c.day)
    ).all()
    first = rows[0] if rows else None
    return PaperDetail(
        paper=paper,
        days=[r.day for r in rows],
        first_submitted_at=first.submitted_at if first else None,
        first_submitter=(first.username or first.submitter_name) if first else None,
    )


def get_many(session: Session, paper_ids: list[int]) -> dict[int, PaperCard]:
    """Cards by id."""
    out: dict[int, PaperCard] = {}
    for part in chunks(paper_ids):
        for row in session.execute(select(*CARD_COLUMNS).where(papers.c.id.in_(part))).mappings():
            out[row["id"]] = card(row)
    return out


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(papers)).scalar_one()


def changed_since(session: Session, after: dt.datetime | None) -> list[tuple[int, dt.datetime]]:
    """(id, changed_at) of papers changed after `after` (all papers when None), oldest first."""
    stmt = select(papers.c.id, papers.c.changed_at).order_by(papers.c.changed_at, papers.c.id)
    if after is not None:
        stmt = stmt.where(papers.c.changed_at > after)
    return [(pid, at) for pid, at in session.execute(stmt)]


INDEX_COLUMNS = (
    papers.c.id,
    papers.c.arxiv_id,
    papers.c.title,
    papers.c.abstract,
    papers.c.authors,
    papers.c.categories,
    papers.c.comment,
    papers.c.journal_ref,  # jr: in search
    papers.c.report_no,  # rn: in search
    papers.c.code_url,
    papers.c.first_featured,
    # The first day arXiv listed it: the search's date for a paper never featured.
    select(func.min(Listing.__table__.c.day))
    .where(Listing.__table__.c.paper_id == papers.c.id)
    .scalar_subquery()
    .label("first_listed"),
    papers.c.published_at,
    papers.c.changed_at,
    papers.c.content_hash,
)


def rows_for_index(session: Session, paper_ids: list[int]) -> list[dict]:
    """What the search indexes need of each paper."""
    out: list[dict] = []
    for part in chunks(paper_ids):
        out.extend(dict(r) for r in session.execute(select(*INDEX_COLUMNS).where(papers.c.id.in_(part))).mappings())
    return out


def all_ids(session: Session) -> list[int]:
    return list(session.execute(select(papers.c.id).order_by(papers.c.id)).scalars())


def in_categories(category: str | tuple[str, ...]):
    """The ids of the papers in the category, or in any of the categories."""
    names = (category,) if isinstance(category, str) else tuple(category)
    return select(categories.c.paper_id).where(categories.c.category.in_(names))


def without_categories(session: Session, arxiv_ids: Iterable[str]) -> list[str]:
    """Those of the papers that have no arXiv category yet (imported from a source without them,
    such as Hugging Face's daily papers), for filling in from arXiv."""
    out: list[str] = []
    for part in chunks(sorted(set(arxiv_ids))):
        has = select(categories.c.paper_id).where(categories.c.paper_id == papers.c.id).exists()
        out.extend(session.execute(select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(part), ~has)).scalars())
    return sorted(out)
