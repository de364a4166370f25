"""The indexing job: bring every index of this node up to date with the store (full text, then the
embeddings of new and changed papers, then the vector index). What the scheduled job and
`dailypapers index` run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..store import authors as author_store
from ..store.engine import Store
from .fulltext import FullTextIndex


@dataclass
class IndexReport:
    """What one indexing run did."""

    fulltext: int = 0  # papers (re)indexed by full text
    embedded: int = 0  # papers embedded
    vectors: int = 0  # vectors added to or replaced in the vector index
    summarized: int = 0  # papers whose one-line summary and key phrases were (re)computed
    runtime: str = ""  # the embedding runtime used
    seconds: float = 0.0
    skipped: int = 0  # papers an index could not take (each logged on a line of its own)
    authors: int = 0  # papers added to the author index (missing from it: stored before it existed)

    def summary(self) -> str:
        skipped = f"; {self.skipped} skipped (see the log)" if self.skipped else ""
        skipped += f"; {self.authors} papers added to the author index" if self.authors else ""
        return (
            f"{self.fulltext} papers full-text indexed, {self.embedded} embedded ({self.runtime or 'no model'}),"
            f" {self.vectors} vectors indexed, {self.summarized} summarized in {self.seconds:.1f}s{skipped}"
        )

    __str__ = summary


def index_new_papers(
    store: Store, *, on_progress=None, limit: int | None = None, runtime: str | None = None, should_stop=None,
    resummarize: bool = False,
) -> IndexReport:
    """Bring every index up to date with the store: full text, then embeddings of new and changed
    papers (committed in batches: resumable), then the vector index, then the papers' one-line
    summaries and key phrases (after the vectors, which they read; `resummarize` recomputes them
    all). What the scheduled job and `dailypapers index` run. `on_progress(done, total)` follows the
    embedding; `should_stop()` ends the embedding and the summaries early, between batches (a
    process shutting down); `limit` bounds each of the two."""
    from .embedding_runs import embed_papers
    from .embeddings import load_embedder
    from .model import DIM, MODEL_KEY
    from .summaries import summarize_papers
    from .vectors import VectorIndex

    started = time.perf_counter()
    report = IndexReport()
    skipped: set[int] = set()
    with store.session() as session, session.begin():  # the author pages' index (store/authors.py)
        report.authors = author_store.fill_missing(session)
    fulltext = FullTextIndex.for_store(store)
    fulltext.ensure(store, on_skip=skipped.add)
    report.fulltext = fulltext.sync(store, on_skip=skipped.add)
    if store.settings.search_semantic:
        embedder = load_embedder(store.settings, runtime=runtime)
        report.runtime = embedder.runtime
        report.embedded = embed_papers(
            store, embedder, batch=store.settings.embedding_batch_size, on_batch=on_progress, stop_after=limit,
            on_skip=skipped.add, should_stop=should_stop,
        )
        report.vectors = VectorIndex.for_store(store, MODEL_KEY, DIM).sync(store, on_skip=skipped.add)
    report.summarized = summarize_papers(store, rebuild=resummarize, limit=limit, should_stop=should_stop)
    report.skipped = len(skipped)
    report.seconds = time.perf_counter() - started
    return report
