"""The code repositories papers link to (paper_repos) and their GitHub stars: the only module that
writes them. Stars come from Hugging Face's githubStars until the github-stars job has read the
repository itself (checked_at set); from then on only the job changes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .dialect import chunks, insert_for
from .schema import Paper, PaperRepo

repos = PaperRepo.__table__
papers = Paper.__table__


def add_many(session: Session, rows: list[dict]) -> int:
    """Record repositories ({paper_id, url, host, owner_repo, source, stars?}); a repository already
    recorded for the paper is kept, its stars refreshed from HF's figure while the job has not read
    them. Idempotent. Returns the rows given."""
    if not rows:
        return 0
    by_key = {(r["paper_id"], r["url"]): {"stars": None, "etag": None, "checked_at": None, **r} for r in rows}
    stmt = insert_for(session, repos)
    stmt = stmt.on_conflict_do_update(
        index_elements=["paper_id", "url"],
        set_={"stars": func.coalesce(stmt.excluded.stars, repos.c.stars)},
        where=repos.c.checked_at.is_(None),
    )
    for part in chunks(list(by_key.values())):
        session.execute(stmt, part)
    return len(by_key)


def due_github(session: Session, limit: int, older_than: dt.datetime) -> list[tuple[str, str, str | None]]:
    """(url, owner/repo, etag) of GitHub repositories to read: never read first, then those read
    before `older_than`, the oldest first; each repository once, however many papers link it."""
    base = select(repos.c.url, func.min(repos.c.owner_repo), func.max(repos.c.etag)).where(repos.c.host == "github")
    never = session.execute(
        base.where(repos.c.checked_at.is_(None)).group_by(repos.c.url).order_by(repos.c.url).limit(limit)
    ).all()
    out = [(u, o, e) for u, o, e in never]
    if len(out) < limit:
        seen = {u for u, _, _ in out}
        stale = session.execute(
            select(repos.c.url, func.min(repos.c.owner_repo), func.max(repos.c.etag), func.min(repos.c.checked_at).label("at"))
            .where(repos.c.host == "github", repos.c.checked_at < older_than)
            .group_by(repos.c.url)
            .order_by(func.min(repos.c.checked_at))
            .limit(limit)
        ).all()
        out += [(u, o, e) for u, o, e, _ in stale if u not in seen][: limit - len(out)]
    return out


def checked(session: Session, url: str, at: dt.datetime, *, stars: int | None = None, etag: str | None = None, keep: bool = False) -> None:
    """The job read a repository: its stars and ETag (`keep`: a 304, the stars stay as they were;
    stars None and no ETag: GitHub has no such repository)."""
    values: dict = {"checked_at": at}
    if not keep:
        values.update(stars=stars, etag=etag)
    session.execute(update(repos).where(repos.c.url == url).values(**values))


def cards_for(session: Session, paper_ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """paper id -> (the repository a card links, its stars): the most starred GitHub repository,
    else the first one recorded (HF's before the abstract's); papers without one are absent."""
    best: dict[int, tuple[int, str, int | None]] = {}
    rank = {"hf": 0, "abstract": 1, "comment": 2}
    for part in chunks(list(paper_ids)):
        rows = session.execute(
            select(repos.c.paper_id, repos.c.url, repos.c.host, repos.c.stars, repos.c.source).where(repos.c.paper_id.in_(part))
        )
        for pid, url, host, stars, source in rows:
            score = (stars or 0) * 10 + 1_000_000_000 * (host == "github") - rank.get(source, 3)
            if pid not in best or score > best[pid][0]:
                best[pid] = (score, url, stars if host == "github" else None)
    return {pid: (url, stars) for pid, (_, url, stars) in best.items()}


def stars_of_paper():
    """A correlated subquery: the paper's most starred GitHub repository's stars (for sorting)."""
    return (
        select(func.max(repos.c.stars))
        .where(repos.c.paper_id == papers.c.id, repos.c.host == "github")
        .scalar_subquery()
    )


def papers_after(session: Session, after_id: int, limit: int) -> list[dict]:
    """Papers by id after `after_id`, with the fields links are found in (the backfill's pages)."""
    rows = session.execute(
        select(papers.c.id, papers.c.abstract, papers.c.comment, papers.c.code_url, papers.c.source, papers.c.hf_meta)
        .where(papers.c.id > after_id)
        .order_by(papers.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]
