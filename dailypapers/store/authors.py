"""The author index: each author of each paper under a folded key (personnames.author_key), and
the queries of the author pages (an author's papers, the spellings folded into the page, the
co-authors). Ingest writes the index with the papers; `dailypapers index` fills what is missing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased

from ..personnames import author_key
from .dialect import bulk_insert, chunks
from .feedback import dismissed_select
from .schema import Paper, PaperAuthor

papers = Paper.__table__
index = PaperAuthor.__table__


def rows_for(paper_id: int, authors: list | str | None) -> list[dict]:
    """A paper's index rows, from its author list (or that list's JSON text)."""
    if isinstance(authors, str):
        authors = json.loads(authors)
    out = []
    for position, author in enumerate(authors or []):
        name = author.get("name") if isinstance(author, dict) else None
        folded = author_key(name) if isinstance(name, str) else None
        if folded:
            out.append({"paper_id": paper_id, "position": position, "key": folded, "name": name})
    return out


def replace(session: Session, by_paper: dict[int, list | str | None], *, fresh: bool = False) -> int:
    """Index these papers' authors, replacing what was indexed of them (`fresh`: nothing was).
    Returns how many of the papers have a name indexed."""
    if not by_paper:
        return 0
    if not fresh:
        for part in chunks(list(by_paper)):
            session.execute(delete(index).where(index.c.paper_id.in_(part)))
    rows = [row for pid, authors in by_paper.items() for row in rows_for(pid, authors)]
    bulk_insert(session, index, rows)
    return len({row["paper_id"] for row in rows})


def fill_missing(session: Session, *, batch: int = 5000) -> int:
    """Index the papers that have no index rows (stored before the index existed, or written
    around ingest); returns how many got index rows. Papers without a name to index are
    looked at each time: a quick pass, as there are few."""
    indexed = select(index.c.paper_id).where(index.c.paper_id == papers.c.id).exists()
    last, done = 0, 0
    while True:
        rows = session.execute(
            select(papers.c.id, papers.c.authors).where(~indexed, papers.c.id > last).order_by(papers.c.id).limit(batch)
        ).all()
        if not rows:
            return done
        done += replace(session, {pid: authors for pid, authors in rows}, fresh=True)
        last = rows[-1][0]


@dataclass
class AuthorPage:
    """What an author's page shows: the key, every spelling folded into it with its paper count
    (most papers first), how many papers, one page of their ids (newest first), the co-authors."""

    key: str
    variants: list[tuple[str, int]]
    total: int
    paper_ids: list[int]
    coauthors: list[tuple[str, int]]  # (the spelling most of their shared papers use, papers together)
    hidden: int = 0  # of `total`, papers left out as dismissed by the member the page was asked for

    @property
    def name(self) -> str:
        return self.variants[0][0] if self.variants else self.key


def page(
    session: Session, name: str, *, limit: int = 30, offset: int = 0, coauthors: int = 30, hide_for: int | None = None
) -> AuthorPage | None:
    """The author page of a name, in any of its spellings; None when no paper here has the author.
    With `hide_for` (a member), the page's papers leave out those they dismissed, counted in `hidden`."""
    folded = author_key(name)
    if folded is None:
        return None
    variants = [
        (spelling, n)
        for spelling, n in session.execute(
            select(index.c.name, func.count(func.distinct(index.c.paper_id)))
            .where(index.c.key == folded)
            .group_by(index.c.name)
            .order_by(func.count(func.distinct(index.c.paper_id)).desc(), index.c.name)
        )
    ]
    if not variants:
        return None
    mine = select(index.c.paper_id).where(index.c.key == folded).distinct().subquery("mine")
    total = session.execute(select(func.count()).select_from(mine)).scalar_one()
    shown = [papers.c.id.in_(select(mine.c.paper_id))]
    hidden = 0
    if hide_for is not None:
        dismissed = dismissed_select(hide_for)
        hidden = session.execute(select(func.count()).select_from(mine).where(mine.c.paper_id.in_(dismissed))).scalar_one()
        shown.append(papers.c.id.not_in(dismissed))
    ids = list(
        session.execute(
            select(papers.c.id)
            .where(*shown)
            .order_by(papers.c.published_at.desc().nulls_last(), papers.c.arxiv_id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
    return AuthorPage(folded, variants, total, ids, _coauthors(session, folded, coauthors), hidden)


def _coauthors(session: Session, folded: str, limit: int) -> list[tuple[str, int]]:
    """The author's co-authors, most papers together first: one per key, named by the spelling
    most of those papers use. Ranked in SQL first, then spelled for the few kept (an author of
    3,000 papers has some 20,000 co-author rows: ranking them all in Python took 200 ms)."""
    mine = select(index.c.paper_id).where(index.c.key == folded).distinct().subquery("mine")
    other = aliased(PaperAuthor)
    together = func.count()  # rows: a co-author named twice on one paper counts twice (rare)
    joined = select().select_from(mine).join(other, other.paper_id == mine.c.paper_id).where(other.key != folded)
    ranked = session.execute(
        joined.add_columns(other.key, together).group_by(other.key).order_by(together.desc(), other.key).limit(limit)
    ).all()
    if not ranked:
        return []
    spellings: dict[str, Counter[str]] = {}
    for key, spelling, n in session.execute(
        joined.add_columns(other.key, other.name, func.count())
        .where(other.key.in_([key for key, _ in ranked]))
        .group_by(other.key, other.name)
    ):
        spellings.setdefault(key, Counter())[spelling] = n
    return [(spellings[key].most_common(1)[0][0], n) for key, n in ranked]


def keys_of(session: Session, paper_ids: Iterable[int]) -> dict[int, list[str]]:
    """The folded keys of the papers' authors, in author order (for tests and checks)."""
    out: dict[int, list[str]] = {}
    for part in chunks(list(paper_ids)):
        for pid, key in session.execute(
            select(index.c.paper_id, index.c.key).where(index.c.paper_id.in_(part)).order_by(index.c.paper_id, index.c.position)
        ):
            out.setdefault(pid, []).append(key)
    return out
