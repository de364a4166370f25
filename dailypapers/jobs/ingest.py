"""An ingest run as the site runs it: what each source brought is findable by full text at once.

Ingest sits below the indexes and never imports them; this module, a layer above both, hands
ingest the full-text index's sync as the step after each source. The CLI, `up` and the scheduled
ingest jobs make their runs here."""

from __future__ import annotations

from ..ingest.run import IngestJob, SourceStep
from ..store.engine import Store


def fulltext_step(store: Store) -> SourceStep:
    """Sync the store's full-text index after a source (the index follows `changed_at`, so the
    changed ids only say that there is something to sync)."""

    def sync(_changed: list[int]) -> None:
        from ..index.fulltext import FullTextIndex  # tantivy loads only when a source changed papers

        FullTextIndex.for_store(store).sync(store)

    return SourceStep("full-text index", sync)


def ingest_job(store: Store, *, index: bool = True, **options) -> IngestJob:
    """An IngestJob (same options: progress, parallel, after_batch) that updates the full-text
    index after each source, unless `index` is False."""
    return IngestJob(store, after_source=fulltext_step(store) if index else None, **options)
