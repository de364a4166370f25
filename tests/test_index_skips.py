"""The search indexes never stop on one paper: a paper they cannot index (here written straight into
the store, bypassing ingest's checks, as an older version could have) is skipped with one log line
naming it and counted in the report, and everything else is indexed, now and in every later run."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest
from sqlalchemy import text

from support import MODELS, make_settings, need_data
from dailypapers import search as S
from dailypapers.index.embedding_runs import embed_papers
from dailypapers.index.fulltext import FullTextIndex
from dailypapers.index.vectors import VectorIndex
from dailypapers.ingest.merge import complete_new
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store import embeddings as embedding_store
from dailypapers.store import papers as paper_store
from dailypapers.store.engine import Store
from dailypapers.types import PaperRow


def old_paper(store, arxiv_id: str, **fields) -> int:
    """A paper row written as it is, with no validation."""
    row = {
        "arxiv_id": arxiv_id, "version": 1, "title": f"Quokka census number {arxiv_id}",
        "abstract": "Counting quokkas on Rottnest Island.", "authors": [{"name": "A. Ranger"}],
        "primary_category": "q-bio.PE", "categories": ["q-bio.PE"], "comment": None, "journal_ref": None,
        "doi": None, "report_no": None, "license": None, "code_url": None, "project_url": None,
        "published_at": dt.datetime(2024, 1, 2), "updated_at": None, "upvotes_imported": 0,
        "comments_imported": 0, "source": "older version",
    }  # fmt: skip
    first_featured = fields.pop("first_featured", None)
    row = complete_new(PaperRow(**row))._replace(**fields)
    with store.session() as session, session.begin():
        return paper_store.insert_many(session, [row], {arxiv_id: first_featured})[arxiv_id]


@pytest.fixture
def plain_store(db_url, tmp_path):
    store = Store(make_settings(db_url, tmp_path, search_semantic=False))
    yield store
    store.dispose()


def test_full_text_skips_a_paper_dated_beyond_its_range_and_every_later_ingest_works(plain_store, tmp_path, caplog):
    store = plain_store
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    ingest_job(store).run([str(hf)])
    old_paper(store, "2401.00001", first_featured=dt.date(9999, 12, 31))
    old_paper(store, "2401.00002", published_at=dt.datetime(1600, 1, 1))
    caplog.set_level(logging.WARNING)

    report = S.index_new_papers(store)
    assert (report.fulltext, report.skipped) == (0, 2)  # the HF papers were indexed by their ingest
    assert "2 skipped" in report.summary()
    lines = [r.getMessage() for r in caplog.records if "2401.0000" in r.getMessage()]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert "2401.00001" in lines[0] and "9999-12-31" in lines[0]

    api = need_data("fixtures", "arxiv-api", "q_testing_s0_m10_bc5a6c384fe9.xml")
    later = ingest_job(store).run([str(api)])  # failed before: every later ingest raised
    assert later.new == 10
    index = FullTextIndex.for_store(store)
    assert index.count() == 13
    assert index.rebuild(store) == 13 and index.count() == 13  # a rebuild skips them too


def test_embedding_and_full_text_skip_a_paper_whose_text_is_not_text(sqlite_url, tmp_path, caplog):
    """SQLite keeps whatever a column is given: an older version could have left a title as bytes."""
    from test_embeddings import shared_embedder

    store = Store(make_settings(sqlite_url, tmp_path, models_dir=MODELS))
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    ingest_job(store).run([str(hf)])
    bad = old_paper(store, "2401.00003")
    with store.session() as session, session.begin():
        session.execute(text("UPDATE papers SET title = X'C0FFEE', changed_at = changed_at WHERE id = :id"), {"id": bad})
    caplog.set_level(logging.WARNING)

    embedded = embed_papers(store, shared_embedder(), batch=2)  # failed before: TypeError stopped the run
    assert embedded == 3
    with store.session() as session:
        vectors = embedding_store.get_many(session, "all-MiniLM-L6-v2", [1, 2, 3, bad])
    assert sorted(vectors) == [1, 2, 3] and all(np.isfinite(v).all() for v in vectors.values())
    assert any("2401.00003" in r.getMessage() for r in caplog.records)

    skipped: list[int] = []
    assert embed_papers(store, shared_embedder(), on_skip=skipped.append) == 0 and skipped == [bad]
    report = S.index_new_papers(store)  # every run tries it again, and reports it
    assert report.skipped == 1 and report.embedded == 0
    store.dispose()


def test_the_vector_index_skips_a_vector_it_cannot_use(sqlite_url, tmp_path, caplog):
    """A vector of another size (an older model's, say) or with NaNs, written straight into the store."""
    from support import MODELS
    from test_embeddings import shared_embedder

    store = Store(make_settings(sqlite_url, tmp_path, models_dir=MODELS))
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    ingest_job(store).run([str(hf)])
    embed_papers(store, shared_embedder())
    short, nan = old_paper(store, "2401.00004"), old_paper(store, "2401.00005")
    with store.session() as session, session.begin():
        hashes = dict(session.execute(text("SELECT id, content_hash FROM papers WHERE id IN (:a, :b)"), {"a": short, "b": nan}).all())
        embedding_store.upsert_many(session, "all-MiniLM-L6-v2", [
            (short, hashes[short], np.ones(10, dtype=np.float32)),
            (nan, hashes[nan], np.full(384, np.nan, dtype=np.float32)),
        ])  # fmt: skip
    caplog.set_level(logging.WARNING)
    report = S.index_new_papers(store)  # failed before: "several sizes" stopped the vector index
    assert (report.vectors, report.embedded, report.skipped) == (3, 0, 2)
    assert len([r for r in caplog.records if "vector index: skipped" in r.getMessage()]) == 2
    assert len(VectorIndex.for_store(store, "all-MiniLM-L6-v2", 384)) == 3
    store.dispose()
