"""Papers' one-line summaries and key phrases (index/summaries.py computes them): which papers need
them, storing them, and reading them for cards, pages, digests and the API. The only module that
writes them.

What a reader is shown (`shown`): Hugging Face's AI summary and keywords when the paper's mirrored
metadata has them, even before the index job has run; otherwise the stored extracted ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ..types import PaperCard
from .dialect import chunks, insert_for
from .schema import Embedding, Paper, PaperSummary, utcnow

summaries = PaperSummary.__table__
papers = Paper.__table__
embeddings = Embedding.__table__

SHOWN_KEYWORDS = 6  # chips on a card or page: HF's lists can be longer


@dataclass(frozen=True)
class Summary:
    """What a reader is shown of a paper: one line and a few phrases, each with where it came from."""

    text: str
    keywords: tuple[str, ...]
    text_by: str  # "hf" (Hugging Face's AI summary) | "extracted"
    keywords_by: str  # "hf" | "extracted"

    @property
    def label(self) -> str:
        """How the line is labelled where it is shown."""
        return "AI summary (Hugging Face)" if self.text_by == "hf" else "Extracted summary"

    @property
    def keywords_label(self) -> str:
        return "AI keywords (Hugging Face)" if self.keywords_by == "hf" else "Key phrases"


def _hf(meta: dict | None) -> tuple[str, list[str]]:
    meta = meta or {}
    text = meta.get("ai_summary") if isinstance(meta.get("ai_summary"), str) else ""
    keywords = [k for k in (meta.get("ai_keywords") or []) if isinstance(k, str) and k.strip()]
    return (text or "").strip(), keywords


def shown(hf_meta: dict | None, stored: dict | None) -> Summary | None:
    """What to show for a paper with these Hugging Face fields (papers.hf_meta), given its stored
    row (summary, keywords, method) or None: HF's wins; None when there is nothing to show yet."""
    hf_text, hf_keywords = _hf(hf_meta)
    text, text_by = (hf_text, "hf") if hf_text else ((stored or {}).get("summary") or "", "extracted")
    if hf_keywords:
        keywords, keywords_by = hf_keywords, "hf"
    else:
        keywords = list((stored or {}).get("keywords") or [])
        keywords_by = "hf" if stored and stored.get("method") == "hf" else "extracted"
    if not text and not keywords:
        return None
    return Summary(text, tuple(keywords), text_by, keywords_by)


def get_many(session: Session, paper_ids: list[int]) -> dict[int, dict]:
    """Stored rows of these papers (those that have one): {summary, keywords, method}."""
    out: dict[int, dict] = {}
    for part in chunks(list(dict.fromkeys(paper_ids))):
        rows = session.execute(
            select(summaries.c.paper_id, summaries.c.summary, summaries.c.keywords, summaries.c.method).where(
                summaries.c.paper_id.in_(part)
            )
        ).mappings()
        for r in rows:
            out[r["paper_id"]] = {"summary": r["summary"], "keywords": r["keywords"] or [], "method": r["method"]}
    return out


def for_papers(session: Session, paper_rows: list[PaperCard]) -> dict[int, Summary]:
    """What to show for each of these papers' cards, by paper id."""
    stored = get_many(session, [p.id for p in paper_rows])
    out = {}
    for paper in paper_rows:
        summary = shown(paper.hf_meta, stored.get(paper.id))
        if summary is not None:
            out[paper.id] = summary
    return out


def _stale(version: int, model: str | None):
    """Papers without a summary of this method version, or changed since theirs was computed, or
    (when `model` is given) summarized by TF-IDF for want of a vector that they now have."""
    s = summaries
    joined = papers.outerjoin(s, s.c.paper_id == papers.c.id)
    conds = [s.c.paper_id.is_(None), s.c.method_version != version, s.c.computed_at < papers.c.changed_at]
    if model is not None:
        has_vector = exists().where(embeddings.c.paper_id == papers.c.id, embeddings.c.model == model)
        conds.append(and_(s.c.method.in_(("tfidf", "hf+tfidf")), has_vector))
    return joined, or_(*conds)


def count_stale(session: Session, version: int, model: str | None = None) -> int:
    """How many papers need a (new) summary."""
    joined, cond = _stale(version, model)
    return session.execute(select(func.count()).select_from(joined).where(cond)).scalar_one()


def stale(
    session: Session, version: int, model: str | None = None, *, after_id: int = 0, limit: int = 512, everything: bool = False
) -> list[dict]:
    """The next papers needing a summary (every paper when `everything`), by id after `after_id`:
    {id, title, abstract, hf_meta}."""
    joined, cond = _stale(version, model)
    stmt = select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.hf_meta).select_from(joined)
    stmt = stmt.where(papers.c.id > after_id) if everything else stmt.where(cond, papers.c.id > after_id)
    return [dict(r) for r in session.execute(stmt.order_by(papers.c.id).limit(limit)).mappings()]


def sample_texts(session: Session, limit: int = 5000) -> list[str]:
    """Titles and abstracts of up to `limit` of the newest papers: the sample TF-IDF's rarities are read from."""
    rows = session.execute(select(papers.c.title, papers.c.abstract).order_by(papers.c.id.desc()).limit(limit))
    return [f"{t or ''} {a or ''}" for t, a in rows]


def upsert_many(session: Session, version: int, rows: list[tuple[int, str, list[str], str]], *, now: dt.datetime | None = None) -> None:
    """Store (paper id, summary, keywords, method) rows of this method version, replacing earlier ones."""
    if not rows:
        return
    now = now or utcnow()
    values = [
        {"paper_id": pid, "summary": text, "keywords": list(keywords), "method": method, "method_version": version, "computed_at": now}
        for pid, text, keywords, method in rows
    ]
    stmt = insert_for(session, summaries)
    stmt = stmt.on_conflict_do_update(
        index_elements=["paper_id"],
        set_={name: stmt.excluded[name] for name in ("summary", "keywords", "method", "method_version", "computed_at")},
    )
    session.execute(stmt, values)


def count(session: Session) -> int:
    """How many papers have a stored summary."""
    return session.execute(select(func.count()).select_from(summaries)).scalar_one()
