"""The search service on a real store (SQLite and PostgreSQL): indexing, hybrid search, query syntax,
filters, snippets, facets, similar papers, freshness and rebuilding."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time

import pytest
from sqlalchemy import update

from support import MODELS, arxiv_sample, make_settings
from dailypapers import search as S
from dailypapers.errors import NotFoundError
from dailypapers.index.fulltext import LAYOUT, FullTextIndex
from dailypapers.index.vectors import VectorIndex
from dailypapers.jobs.ingest import ingest_job
from dailypapers.search import planner
from dailypapers.store import embeddings as embedding_store
from dailypapers.store import kv
from dailypapers.store import papers as paper_store
from dailypapers.store.engine import Store
from dailypapers.store.schema import Paper, utcnow
from test_embeddings import shared_embedder

CRAFTED = [
    {
        "id": "2601.00001",
        "title": "<script>alert(1)</script> Sparse Attention for Quokka Detection",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.CV", "cs.AI"],
        "comment": None,
        "abstract": "We detect quokkas with sparse attention. For all $x<y$ we bound $\\alpha \\& \\beta$ "
        "and show <b>bold</b> claims hold: quokka detection improves.",
        "listed": "2026-01-15",
    },
    {
        "id": "2601.00002",
        "title": "Graph neural networks for molecule property prediction",
        "authors": ["Grace Hopper"],
        "categories": ["cs.LG"],
        "comment": None,
        "abstract": "Message passing neural networks predict properties of molecules from their graphs; "
        "we study over-smoothing in deep graph networks.",
        "listed": "2025-05-02",
    },
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class Memo:
    """The real int8 model, remembering each text's vector: the tests embed the same papers many
    times over, and the model's own quality is tested in test_embeddings."""

    def __init__(self, inner):
        self.inner, self.model, self.dim, self.runtime = inner, inner.model, inner.dim, inner.runtime
        self.seen: dict[str, object] = {}

    def embed(self, texts, *, batch_size=32):
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            self.seen.update(zip(todo, self.inner.embed(todo, batch_size=batch_size), strict=True))
        import numpy as np

        return np.stack([self.seen[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


@pytest.fixture(scope="session", autouse=True)
def memo_embedder():
    """Installs the remembering embedder where load_embedder finds the test settings' model."""
    from dailypapers.index import embeddings as E

    memo = Memo(shared_embedder())
    keys = [E.EmbedderKey("onnx-int8", str(MODELS.resolve()), threads, queries) for threads, queries in ((0, False), (1, True))]
    for key in keys:
        E._embedders[key] = memo
    yield
    for key in keys:
        E._embedders.pop(key, None)


def make_search_store(db_url, tmp_path, **overrides) -> Store:
    """A store with 60 real papers and two crafted ones, indexed (full text, embeddings, vectors)."""
    store = Store(make_settings(db_url, tmp_path, models_dir=MODELS, **overrides))
    papers = arxiv_sample(60, step=997)
    ingest_job(store).run([str(write_jsonl(tmp_path / "papers.jsonl", papers + CRAFTED))])
    report = S.index_new_papers(store)
    assert (report.embedded, report.vectors) == (62, 62) and report.runtime == "onnx-int8"
    store.papers = papers  # the sample, for the tests
    return store


@pytest.fixture
def search_store(db_url, tmp_path):
    store = make_search_store(db_url, tmp_path)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One SQLite search store for the many read-only tests of odd queries."""
    tmp = tmp_path_factory.mktemp("search")
    store = make_search_store(f"sqlite:///{tmp / 'dailypapers.db'}", tmp)
    yield store
    store.dispose()


def listed_days(store) -> dict[str, dt.date]:
    """The day each paper of the search store was listed (its search date: none is featured)."""
    return {p["id"]: dt.date.fromisoformat(p["listed"]) for p in store.papers + CRAFTED}


def ids_of(page) -> list[str]:
    return [h.paper.arxiv_id for h in page.hits]


def test_hybrid_search_finds_papers_by_title_and_by_meaning(search_store):
    target = search_store.papers[17]
    page = S.search(search_store, S.SearchQuery(text=target["title"], limit=5))
    assert page.semantic and ids_of(page)[0] == target["id"] and page.hits[0].found_by == "both"
    assert page.total >= 5 and page.hits[0].score == 1.0
    # No word in common with the crafted abstract, only the meaning.
    page = S.search(search_store, S.SearchQuery(text="chemistry with deep learning on molecular structures", limit=3))
    assert "2601.00002" in ids_of(page)
    lexical = S.search(search_store, S.SearchQuery(text="chemistry with deep learning on molecular structures", mode="fulltext"))
    assert lexical.hits and not lexical.semantic and {h.found_by for h in lexical.hits} == {"fulltext"}


def test_indexing_is_incremental_and_follows_changed_papers(search_store, tmp_path):
    again = S.index_new_papers(search_store)
    assert (again.embedded, again.vectors, again.fulltext) == (0, 0, 0)
    changed = dict(CRAFTED[1], title="Graph transformers for molecule property prediction")
    ingest_job(search_store).run([str(write_jsonl(tmp_path / "changed.jsonl", [changed]))])
    after = S.index_new_papers(search_store)
    assert after.embedded == 1 and after.vectors == 1
    page = S.search(search_store, S.SearchQuery(text="graph transformers molecule", limit=1))
    assert page.hits[0].paper.title == changed["title"]


def test_query_syntax_and_filters(search_store):
    def search(text="", **kw):
        return S.search(search_store, S.SearchQuery(text=text, **kw))

    # "phrase" is required: the crafted paper says "sparse attention", none says "attention sparse".
    assert ids_of(search('"sparse attention" quokka')) == ["2601.00001"]
    assert search('"attention sparse quokka"').hits == []
    # author: narrows to the author's papers; alone it lists them.
    assert ids_of(search("author:Hopper")) == ["2601.00002"]
    assert ids_of(search('networks author:"Grace Hopper"')) == ["2601.00002"]
    assert search('author:"Hopper Grace"').hits == []
    # cat: and the categories filter (any of them), in any case.
    assert {h.paper.arxiv_id for h in search("cat:cs.lg", limit=100).hits} >= {"2601.00002"}
    assert all("cs.CV" in h.paper.categories for h in search("neural networks cat:cs.CV", limit=50).hits)
    both = search("networks", categories=("cs.LG", "cs.CV"), limit=100)
    assert all({"cs.LG", "cs.CV"} & set(h.paper.categories) for h in both.hits) and both.hits
    # Dates: the span is inclusive and applies to both sides of hybrid search. A paper's date is
    # the day it was first featured, else listed (these are listed only), else published.
    listed = listed_days(search_store)
    page = search("networks", since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31), limit=100)
    assert page.hits and all(dt.date(2026, 1, 1) <= listed[h.paper.arxiv_id] <= dt.date(2026, 1, 31) for h in page.hits)
    with pytest.raises(S.BadQuery, match="empty"):
        search("x", since=dt.date(2026, 2, 1), until=dt.date(2026, 1, 1))
    # Code: only papers with a code link.
    with search_store.session() as session, session.begin():
        session.execute(update(Paper).where(Paper.arxiv_id == "2601.00002").values(code_url="https://github.com/x/y", changed_at=utcnow()))
    FullTextIndex.for_store(search_store).sync(search_store)
    with_code = search("molecules", has_code=True, limit=100)
    assert "2601.00002" in ids_of(with_code) and all(h.paper.code_url for h in with_code.hits)
    without = search("molecules", has_code=False, limit=100)
    assert without.hits and not any(h.paper.code_url for h in without.hits)


def test_sorting_and_paging(search_store):
    by_date = S.search(search_store, S.SearchQuery(text="learning", sort="date", limit=50))
    days = [listed_days(search_store)[h.paper.arxiv_id] for h in by_date.hits]  # listed, none featured
    assert days == sorted(days, reverse=True) and len(days) > 5
    with search_store.session() as session, session.begin():
        session.execute(update(Paper).where(Paper.arxiv_id == by_date.hits[-1].paper.arxiv_id).values(upvotes_imported=99))
    by_votes = S.search(search_store, S.SearchQuery(text="learning", sort="upvotes", limit=50))
    assert by_votes.hits[0].paper.arxiv_id == by_date.hits[-1].paper.arxiv_id
    listing = S.search(search_store, S.SearchQuery(text="cat:cs.CV", limit=5))
    assert listing.total > 5 and all(h.found_by == "filter" for h in listing.hits)
    second = S.search(search_store, S.SearchQuery(text="cat:cs.CV", limit=5, offset=5))
    assert not set(ids_of(listing)) & set(ids_of(second)) and listing.next_offset == 5
    first = S.search(search_store, S.SearchQuery(text="neural networks", limit=10))
    more = S.search(search_store, S.SearchQuery(text="neural networks", limit=10, offset=10))
    assert not set(ids_of(first)) & set(ids_of(more)) and first.total == more.total


def test_facets_count_the_results(search_store):
    page = S.search(search_store, S.SearchQuery(text="cat:cs.CV", limit=3))
    cats = dict(page.facets.categories)
    assert cats["cs.CV"] == page.total and all(n <= page.total for n in cats.values())
    assert sum(n for _, n in page.facets.months) == page.total
    assert all(re.fullmatch(r"\d{4}-\d{2}", m) for m, _ in page.facets.months)
    text = S.search(search_store, S.SearchQuery(text="graph networks molecules", limit=3))
    assert sum(n for _, n in text.facets.months) == text.total


TAG = re.compile(r"<[^>]*>")


def test_snippets_are_escaped_and_marked(search_store):
    page = S.search(search_store, S.SearchQuery(text="quokka detection alpha", limit=1))
    hit = page.hits[0]
    assert hit.paper.arxiv_id == "2601.00001"
    for html_text in (hit.title_html, hit.snippet_html):
        assert set(TAG.findall(html_text)) <= {"<mark>", "</mark>"}, html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.title_html
    assert "<mark>Quokka</mark> <mark>Detection</mark>" in hit.title_html
    assert "$x&lt;y$" in hit.snippet_html and "\\&amp;" in hit.snippet_html and "&lt;b&gt;bold&lt;/b&gt;" in hit.snippet_html
    assert "<mark>quokkas</mark>" in hit.snippet_html  # stemmed like the index


WEIRD = [
    "", "   ", "\x00", '"', '""', '"unbalanced quote', "unbalanced quote\"", ':*?()[]{}^~!\\', "AND OR NOT",
    "title:foo", "abstract:[a TO z]", "-", "+", "+-&&||", "author:", 'author:""', "cat:", "cat:!!", "cat:cs.CL.x",
    "a" * 300, "x " * 5000, "y" * 10_000, "🚀 émbeddings 中文 \u202e", "<script>alert(1)</script>", "$\\alpha$ \\frac{1}{2}",
    "author:Turing cat:cs.CV \"sparse", "NOT", "*", "field:value:other", "%", "'; DROP TABLE papers; --",
]


@pytest.mark.parametrize("text", WEIRD)
def test_any_text_gives_results_or_bad_query(shared_store, text):
    for sort in S.SORTS:
        try:
            page = S.search(shared_store, S.SearchQuery(text=text, sort=sort))
        except S.BadQuery as exc:
            assert str(exc)  # a message the user can act on
        else:
            assert page.total >= len(page.hits)
            for hit in page.hits:
                assert set(TAG.findall(hit.title_html + hit.snippet_html)) <= {"<mark>", "</mark>"}


def test_bad_parameters_are_bad_queries(shared_store):
    for query in (
        S.SearchQuery(text="x", sort="random"),
        S.SearchQuery(text="x", limit=0),
        S.SearchQuery(text="x", limit=101),
        S.SearchQuery(text="x", offset=5000),
        S.SearchQuery(text="x", mode="magic"),
        S.SearchQuery(text="x", categories=("not a category",)),
    ):
        with pytest.raises(S.BadQuery):
            S.search(shared_store, query)


def test_similar_papers(search_store):
    hits = S.similar(search_store, "2601.00002", limit=5)
    assert hits and "2601.00002" not in [h.paper.arxiv_id for h in hits]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] >= 0.3
    with pytest.raises(NotFoundError):
        S.similar(search_store, "2401.99999")


def test_new_paper_is_found_at_once_then_semantically(search_store, tmp_path):
    fresh = {
        "id": "2607.00009",
        "title": "Zebrafinch song learning with recurrent spiking networks",
        "authors": ["Nova Writer"],
        "categories": ["q-bio.NC"],
        "comment": None,
        "abstract": "Songbirds learn their songs; zebrafinch vocal learning is modelled with spiking networks.",
        "listed": "2026-07-01",
    }
    ingest_job(search_store).run([str(write_jsonl(tmp_path / "fresh.jsonl", [fresh]))])
    page = S.search(search_store, S.SearchQuery(text="zebrafinch song", limit=3))
    assert ids_of(page)[0] == "2607.00009" and page.hits[0].found_by == "fulltext"  # no vector yet
    S.index_new_papers(search_store)
    page = S.search(search_store, S.SearchQuery(text="zebrafinch song", limit=3))
    assert ids_of(page)[0] == "2607.00009" and page.hits[0].found_by == "both"
    meaning = S.search(search_store, S.SearchQuery(text="how birds acquire vocalizations", limit=3))
    assert "2607.00009" in ids_of(meaning)


def _restart(store) -> Store:
    """What a new process sees: no index objects in memory."""
    FullTextIndex._instances.clear()
    VectorIndex._instances.clear()
    fresh = Store(store.settings)
    fresh.papers = store.papers
    return fresh


def test_indexes_are_rebuilt_when_missing_or_damaged(search_store):
    target = search_store.papers[3]
    query = S.SearchQuery(text=target["title"], limit=3)
    expected = ids_of(S.search(search_store, query))
    folder = search_store.settings.data_dir / "index" / kv.store_id(search_store)
    shutil.rmtree(folder)
    store = _restart(search_store)
    page = S.search(store, query)
    assert ids_of(page) == expected and page.semantic  # both rebuilt from the store
    # Damage both: tantivy's meta.json and the vector state.
    (folder / LAYOUT / "meta.json").write_text("garbage")
    (folder / f"vectors-v1-{embedding_store_model()}" / "state.json").write_text("{")
    store = _restart(store)
    page = S.search(store, query)
    assert ids_of(page) == expected and page.semantic
    # The same index folder survives a restart untouched.
    stamp = (folder / LAYOUT / "meta.json").stat().st_mtime_ns
    store = _restart(store)
    assert ids_of(S.search(store, query)) == expected
    assert (folder / LAYOUT / "meta.json").stat().st_mtime_ns == stamp
    store.dispose()


def embedding_store_model() -> str:
    from dailypapers.index.model import MODEL_KEY

    return MODEL_KEY


def test_search_without_semantic_search(db_url, tmp_path):
    settings = make_settings(db_url, tmp_path, search_semantic=False)
    store = Store(settings)
    ingest_job(store).run([str(write_jsonl(tmp_path / "p.jsonl", CRAFTED))])
    report = S.index_new_papers(store)
    assert report.embedded == 0 and report.fulltext == 0  # ingest already indexed the words
    page = S.search(store, S.SearchQuery(text="molecule graphs", limit=3))
    assert not page.semantic and ids_of(page) == ["2601.00002"]
    similar = S.similar(store, "2601.00001")  # by shared words, without a model
    assert [h.paper.arxiv_id for h in similar] == ["2601.00002"] and similar[0].score == 1.0
    with store.session() as session:
        assert embedding_store.count(session, "all-MiniLM-L6-v2") == 0 and paper_store.count(session) == 2
    store.dispose()


def test_a_site_without_vectors_never_loads_the_model(db_url, tmp_path):
    store = Store(make_settings(db_url, tmp_path))  # semantic search on, but nothing embedded yet
    ingest_job(store).run([str(write_jsonl(tmp_path / "p.jsonl", CRAFTED))])
    page = S.search(store, S.SearchQuery(text="quokka", limit=3))
    assert ids_of(page) == ["2601.00001"] and not page.semantic
    assert [h.paper.arxiv_id for h in S.similar(store, "2601.00002")] == ["2601.00001"]
    engines = S.engines_for(store)
    assert engines.embedder is None and not (tmp_path / "data" / "models").exists()
    store.dispose()


def test_filters_hold_when_the_dense_side_checks_its_neighbours(search_store, monkeypatch):
    """Above EXACT_FILTER_LIMIT papers, dense candidates are nearest neighbours checked against the
    restrictions instead of the restricted set scored exactly: the same rules must hold."""
    monkeypatch.setattr(planner, "EXACT_FILTER_LIMIT", 1)
    page = S.search(search_store, S.SearchQuery(text="neural networks cat:cs.CV", limit=50))
    assert page.hits and all("cs.CV" in h.paper.categories for h in page.hits)
    assert {h.found_by for h in page.hits} & {"semantic", "both"}
    phrase = S.search(search_store, S.SearchQuery(text='"sparse attention" detection', limit=50))
    assert ids_of(phrase) == ["2601.00001"]


def test_a_web_process_reports_ready_once_its_indexes_have_caught_up(search_store, tmp_path):
    """A paper another host stored after this node's last indexing: the web process's follower takes
    it in at start-up (not an interval later), and /healthz says 503 until its indexes are current."""
    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app

    late = dict(CRAFTED[0], id="2601.00099", title="Quokka populations tracked by satellite imagery")
    ingest_job(search_store).run([str(write_jsonl(tmp_path / "late.jsonl", [late]))])
    settings = search_store.settings.model_copy(update={"index_follow_seconds": 3600.0})
    with TestClient(create_app(settings, search_store), base_url="http://testserver") as client:
        deadline = time.monotonic() + 60
        while (health := client.get("/healthz")).status_code == 503 and time.monotonic() < deadline:
            assert health.json()["ready"] is False
            time.sleep(0.1)
        assert health.status_code == 200 and health.json()["ready"] is True
        found = client.get("/api/papers/search", params={"q": "quokka satellite imagery", "limit": 3}).json()
        assert found and found[0]["paper"]["id"] == "2601.00099"

        client.app.state.site.indexes_ready = lambda: False  # as while a first pass is still running
        behind = client.get("/healthz")
        assert behind.status_code == 503 and behind.json() == {"ok": False, "ready": False, "papers": 63}

        # The ready answer comes from the page cache until the store's content changes: a paper
        # stored anywhere shows in the count at the cache's next version check.
        client.app.state.site.indexes_ready = lambda: True
        assert client.get("/healthz").json()["papers"] == 63
        later = dict(CRAFTED[0], id="2601.00098", title="Wombat burrows mapped by ground radar")
        ingest_job(search_store).run([str(write_jsonl(tmp_path / "later.jsonl", [later]))])
        deadline = time.monotonic() + 10
        while (health := client.get("/healthz").json())["papers"] == 63 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health == {"ok": True, "ready": True, "papers": 64}
