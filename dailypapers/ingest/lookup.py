"""A paper by id: from the store, or fetched from arXiv and stored (for submissions)."""

from __future__ import annotations

from ..errors import NotFoundError
from ..sources import harvest
from ..store import papers as paper_store
from ..store.engine import Store
from .pipeline import ingest


def ensure_paper(store: Store, arxiv_id: str) -> dict:
    """The stored paper, fetching it from the arXiv API first when the store lacks it."""
    with store.session() as session:
        paper = paper_store.get(session, arxiv_id)
    if paper is not None:
        return paper
    record = harvest.fetch_one(store.settings, arxiv_id)
    if record is None:
        raise NotFoundError(f"arXiv has no paper {arxiv_id}")
    report = ingest(store, [record])
    if report.rejected:
        raise NotFoundError(f"arXiv's record of {arxiv_id} could not be stored: {report.rejections[0].reason}")
    with store.session() as session:
        paper = paper_store.get(session, arxiv_id)
    assert paper is not None
    return paper
