"""The search service: what the web pages, the JSON API and the CLI call.

    search(store, SearchQuery(text="author:Hinton \"capsule networks\"", sort="date")) -> SearchPage
    similar(store, "2410.17243", limit=6) -> list[SearchHit]
    index_new_papers(store) -> IndexReport            (the `dailypapers index` command and the job)

The query language is arXiv's (`index/query.py`): words, "phrases", ti:/au:/abs:/co:/cat:/all:/id:
prefixes, AND/OR/ANDNOT, -exclusions, grouping; author names match without accents and by initials;
an arXiv id in any form puts that paper first.

How a text query is answered: the BM25 top candidates (tantivy, `index/fulltext.py`) and the nearest
papers to the embedding of the query's positive words (`index/vectors.py`) are pooled; every
candidate gets its exact BM25 and its exact cosine; `ranking/hybrid.py` mixes the two. Everything but
the plain words (phrases, fields, authors, operators, exclusions) and the form's filters restrict both
sides. A query of filters alone lists the matching papers newest first. Any text is accepted: what
cannot be searched raises `BadQuery`, which the web answers with a 400.

SQLite and PostgreSQL deployments behave the same: both indexes are caches beside each node
(data_dir/index/<store id>/), built from the store and kept in step with it by the index job and
the web processes' follower, so one ranking code serves both and gives the same results.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import neighbours
from .errors import NotFoundError
from .index import fulltext as ft
from .index.fulltext import BadQuery, Facets, Filters, FullTextIndex, ParsedQuery
from .index.query import lone_arxiv_id
from .ranking import hybrid
from .store import papers as paper_store
from .store.engine import Store

__all__ = ["BadQuery", "SearchQuery", "SearchHit", "SearchPage", "search", "similar", "index_new_papers", "lone_arxiv_id"]

SORTS = ("relevance", "date", "upvotes")
MODES = ("hybrid", "fulltext", "semantic")
MAX_LIMIT = 100
MAX_RESULTS = 1000  # deepest result reachable by paging
EXACT_FILTER_LIMIT = 5000  # a filtered set this small is scored exactly by the dense side


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked. `text` is in the query language of `index/query.py` (words, "phrases",
    ti:/au:/abs:/co:/cat:/all:/id: prefixes, AND/OR/ANDNOT, -exclusions, arXiv ids). The other fields
    are the search form's filters; `categories` adds to the top-level cat: of the text (any of them).
    `mode` exists for evaluation and comparison; the site uses hybrid."""

    text: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    categories: tuple[str, ...] = ()
    has_code: bool | None = None
    sort: str = "relevance"  # relevance | date | upvotes
    limit: int = 20
    offset: int = 0
    mode: str = "hybrid"  # hybrid | fulltext | semantic
    facets: bool = True  # count categories and months (the JSON API, which shows none, can skip it)


@dataclass
class SearchHit:
    """One result. `paper` is the paper's full store row (for shapes.paper_info and the card);
    `title_html` and `snippet_html` are safe HTML: the text escaped, matches in <mark>, so templates
    render them with |safe. `score` is the fused relevance in [0, 1] (0 for filter-only queries, 1
    for a paper named by its id); `found_by` says how it was found: "id" (named in the query),
    "both", "fulltext", "semantic" or "filter"."""

    paper: dict
    score: float
    title_html: str
    snippet_html: str
    found_by: str


@dataclass
class SearchPage:
    """A page of results. `total` counts every result reachable by paging: the papers matching a
    filter-only query, or the pooled candidates of a text query (at most about twice
    `search_candidates`, or `offset + limit` when deeper). `facets` counts categories and months over
    those results. `semantic` is False when the embedding model did not take part (turned off, not
    installed, or no vectors yet)."""

    query: SearchQuery
    parsed: ParsedQuery
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    facets: Facets = field(default_factory=Facets)
    semantic: bool = False
    took_ms: float = 0.0

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None on the last one."""
        following = self.query.offset + self.query.limit
        return following if following < min(self.total, MAX_RESULTS) else None


# --- engines ----------------------------------------------------------------------------------------


@dataclass
class Engines:
    """What answers queries for one store in this process: the full-text index, and the vector index
    with the query embedder when semantic search is on. The embedder is loaded on the first query
    that has vectors to compare with, so a site without vectors never loads (or converts) the model."""

    fulltext: FullTextIndex
    vectors: object | None = None  # index.vectors.VectorIndex
    embedder: object | None = None  # index.embeddings.Embedder, or loaded from `settings` when needed
    weight: float = 0.5
    candidates: int = 100
    settings: object | None = None
    _query_cache: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def query_embedder(self):
        """The embedder for queries, or None when the model cannot be had (said once in the log)."""
        if self.embedder is None and self.settings is not None:
            from .errors import ConfigError
            from .index.embeddings import load_embedder

            with self._lock:
                if self.embedder is None and self.settings is not None:
                    try:
                        self.embedder = load_embedder(self.settings, for_queries=True)
                    except ConfigError as exc:
                        import logging

                        logging.getLogger(__name__).warning("semantic search is off: %s", exc)
                        self.settings = None
        return self.embedder

    def query_vector(self, text: str) -> np.ndarray | None:
        """The embedding of a query's text (the last 256 kept: paging repeats a query)."""
        if not text.strip() or self.query_embedder() is None:
            return None
        with self._lock:
            hit = self._query_cache.get(text)
            if hit is not None:
                self._query_cache.move_to_end(text)
                return hit
        vector = self.embedder.embed([text])[0]
        with self._lock:
            self._query_cache[text] = vector
            while len(self._query_cache) > 256:
                self._query_cache.popitem(last=False)
        return vector

    def snapshot(self):
        """The vector index's current snapshot, or None when there is nothing to search."""
        if self.vectors is None:
            return None
        snap = self.vectors.current()
        return snap if len(snap) else None


_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="dailypapers-dense")
_engines: "weakref.WeakKeyDictionary[Store, Engines]" = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()


def engines_for(store: Store) -> Engines:
    """This process's engines for the store, opened (and, when missing, built) on first use."""
    with _engines_lock:
        engines = _engines.get(store)
        if engines is None:
            engines = _open_engines(store)
            _engines[store] = engines
    engines.fulltext.ensure(store)
    if engines.vectors is not None and not engines.vectors.usable:
        _rebuild_vectors_if_any(store, engines)
    return engines


def _open_engines(store: Store) -> Engines:
    settings = store.settings
    engines = Engines(
        FullTextIndex.for_store(store), weight=settings.search_dense_weight, candidates=settings.search_candidates
    )
    if settings.search_semantic:
        from .index.embeddings import DIM, MODEL_KEY
        from .index.vectors import VectorIndex

        engines.vectors = VectorIndex.for_store(store, MODEL_KEY, DIM)
        engines.settings = settings
    return engines


_last_vector_check: dict[int, float] = {}


def _rebuild_vectors_if_any(store: Store, engines: Engines) -> None:
    """Rebuild a missing or damaged vector index from the stored vectors (checked at most once a
    minute when the store has none, so an unindexed site does not pay a query per search)."""
    key = id(engines)
    if time.monotonic() - _last_vector_check.get(key, -1e9) < 60:
        return
    _last_vector_check[key] = time.monotonic()
    from .store import embeddings as embedding_store

    with store.session() as session:
        if embedding_store.count(session, engines.vectors.model) == 0:
            return
    engines.vectors.sync(store)
    _last_vector_check.pop(key, None)


# --- ranking ------------------------------------------------------------------------------------------


@dataclass
class Ranking:
    """The pooled candidates of a text query, best first, with each side's raw scores."""

    ranked: list[tuple[int, float]]
    bm25: dict[int, float]  # exact BM25 of every candidate that matches the words
    dense: dict[int, float]  # exact cosine of every candidate that has a vector
    semantic: bool
    from_words: set[int] = field(default_factory=set)  # the BM25 candidates
    from_meaning: set[int] = field(default_factory=set)  # the nearest-vector candidates


def rank(
    engines: Engines,
    parsed: ParsedQuery,
    filters: Filters,
    *,
    mode: str = "hybrid",
    depth: int | None = None,
    vector: np.ndarray | None = None,
) -> Ranking:
    """Rank papers for a query with text: BM25 candidates and dense candidates pooled, both scores
    exact for every candidate, fused (or one side alone for mode "fulltext" / "semantic").
    `vector` is the query's embedding when the caller has it (evaluation); else it is computed."""
    fulltext = engines.fulltext
    schema = fulltext.schema
    depth = depth or engines.candidates
    searcher = fulltext.searcher()
    parsed = ft.resolve(searcher, schema, parsed)
    restrictions = ft.filter_queries(schema, filters)
    scoring = ft.match_query(schema, parsed)
    words = ft.compose(scoring, restrictions)
    snap = engines.snapshot() if mode != "fulltext" else None

    def dense_side():
        query_vector = vector if vector is not None else engines.query_vector(parsed.plain)
        if query_vector is None:
            return None, {}
        # All but the plain words is required (phrases, fields, operators, exclusions), so the dense
        # side keeps to the papers meeting it too.
        required = ft.compose(ft.required_query(schema, parsed), restrictions)
        return query_vector, _dense_candidates(fulltext, snap, query_vector, required, depth, searcher)

    # The model, numpy's products and tantivy release the GIL: the embedding and the nearest
    # vectors are found on the pool while BM25 runs here (at 1M papers each takes 10 to 20 ms).
    pending = _pool.submit(dense_side) if snap is not None else None
    bm25: dict[int, float] = {}
    if mode != "semantic" and words is not None:
        bm25 = dict(fulltext.top(words, depth, searcher=searcher))
    from_words, from_meaning = set(bm25), set()
    dense: dict[int, float] = {}
    if pending is not None:
        vector, dense = pending.result()
        from_meaning = set(dense)
        if vector is not None and mode == "hybrid":
            missing = [i for i in dense if i not in bm25]
            if missing and scoring is not None:  # dense candidates meet the restrictions already
                bm25.update(fulltext.among(scoring, missing, searcher=searcher))
            only_bm25 = [i for i in bm25 if i not in dense]
            dense.update(snap.score(vector, only_bm25))
    semantic = bool(dense)
    if mode == "fulltext" or not semantic:
        ranked = sorted(bm25.items(), key=lambda s: (-s[1], s[0]))
    elif mode == "semantic":
        ranked = sorted(dense.items(), key=lambda s: (-s[1], s[0]))
    else:
        ranked = hybrid.fuse(bm25, dense, engines.weight)
    return Ranking(ranked, bm25, dense, semantic, from_words, from_meaning)


def _dense_candidates(fulltext, snap, vector, required, depth, searcher) -> dict[int, float]:
    """The nearest papers to the query vector among those meeting the restrictions: scored exactly
    when the restricted set is small, else nearest neighbours checked against the restrictions,
    over-fetched by the share the restrictions let through."""
    if required is None:
        return dict(snap.search(vector, depth))
    allowed = fulltext.matching(required, searcher=searcher)
    if allowed == 0:
        return {}
    if allowed <= EXACT_FILTER_LIMIT:
        ids = [pid for pid, _ in fulltext.top(required, allowed, searcher=searcher)]
        scores = snap.score(vector, ids)
        return dict(sorted(scores.items(), key=lambda s: -s[1])[:depth])
    share = allowed / max(len(snap), 1)
    fetch = int(min(max(depth / share * 2, depth), 20 * EXACT_FILTER_LIMIT))
    near = snap.search(vector, fetch)
    passing = fulltext.which(required, [pid for pid, _ in near], searcher=searcher)
    return dict([(pid, score) for pid, score in near if pid in passing][:depth])


# --- the service ----------------------------------------------------------------------------------------


def _validate(query: SearchQuery) -> None:
    if query.sort not in SORTS:
        raise BadQuery(f"sort must be one of {', '.join(SORTS)}")
    if query.mode not in MODES:
        raise BadQuery(f"mode must be one of {', '.join(MODES)}")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= query.offset or query.offset + query.limit > MAX_RESULTS:
        raise BadQuery(f"results go {MAX_RESULTS} deep at most")


def search(store: Store, query: SearchQuery) -> SearchPage:
    """Answer a search: a page of hits with snippets, the total and the facets. Raises BadQuery
    (and nothing else for any text) when the query cannot be answered. Papers the query names by
    arXiv id come first, within the form's filters."""
    started = time.perf_counter()
    _validate(query)
    parsed = ft.parse(query.text)
    filters = Filters(
        since=query.since,
        until=query.until,
        categories=tuple(dict.fromkeys(tuple(ft.check_category(c) for c in query.categories) + parsed.categories)),
        has_code=query.has_code,
    )
    if parsed.is_empty and not filters.active:
        raise BadQuery("the query is empty: type some words, or filter by au:, cat:, dates or code")
    engines = engines_for(store)
    fulltext = engines.fulltext
    searcher = fulltext.searcher()
    parsed = ft.resolve(searcher, fulltext.schema, parsed)
    page = SearchPage(query=query, parsed=parsed)
    restrictions = ft.filter_queries(fulltext.schema, filters)
    named = _named(fulltext, parsed.ids, restrictions, searcher)
    counting = None
    if parsed.has_text:
        ranking = rank(engines, parsed, filters, mode=query.mode, depth=max(engines.candidates, query.offset + query.limit))
        scores = dict(ranking.ranked)
        rest = [pid for pid, _ in ranking.ranked if pid not in named]
        page.semantic = ranking.semantic
        page.total = len(named) + len(rest)
        # Counted on the pool while the page's papers are ordered, loaded and highlighted here.
        counting = _pool.submit(ft.facets, fulltext, ft.ids_query(fulltext, named + rest)) if query.facets and page.total else None
        ids = named + _sorted(store, fulltext, rest, scores, query.sort)
        page_ids = ids[query.offset : query.offset + query.limit]
        normalized = hybrid.normalize(scores) | {pid: 1.0 for pid in named}
        found_by = {pid: "id" if pid in named else _found_by(pid, ranking) for pid in page_ids}
    elif parsed.tree.clauses or parsed.categories or (filters.active and not parsed.ids):
        restricted = ft.compose(ft.match_query(fulltext.schema, parsed), restrictions)
        page_ids, page.total = _listing(store, fulltext, query, restricted, named, searcher)
        if query.facets:
            listed = ft.excluding(restricted)
            page.facets = ft.facets(fulltext, ft.either(listed, ft.ids_query(fulltext, named)) if named else listed)
        normalized = {pid: 1.0 for pid in named}
        found_by = {pid: "id" if pid in named else "filter" for pid in page_ids}
    else:  # arXiv ids alone
        page_ids, page.total = named[query.offset : query.offset + query.limit], len(named)
        if query.facets and named:
            page.facets = ft.facets(fulltext, ft.ids_query(fulltext, named))
        normalized = {pid: 1.0 for pid in named}
        found_by = {pid: "id" for pid in page_ids}
    page.hits = _hits(store, fulltext, parsed, page_ids, normalized, found_by)
    if counting is not None:
        page.facets = counting.result()
    page.took_ms = (time.perf_counter() - started) * 1000
    return page


def _named(fulltext: FullTextIndex, arxiv_ids, restrictions, searcher) -> list[int]:
    """The papers named by arXiv id that the index holds and the form's filters let through, in the
    order named."""
    out: list[int] = []
    for arxiv_id in arxiv_ids:
        found = fulltext.top(ft.compose(ft.papers_query(fulltext.schema, [arxiv_id]), restrictions), 1, searcher=searcher)
        out += [pid for pid, _ in found if pid not in out]
    return out


def _listing(store, fulltext: FullTextIndex, query: SearchQuery, restricted, named: list[int], searcher) -> tuple[list[int], int]:
    """A page of a filter-only query, newest first (or most upvoted), after the papers it names;
    and how many there are in all."""
    head = named[query.offset : query.offset + query.limit]
    skip, room = max(0, query.offset - len(named)), query.limit - len(head)
    rest = ft.excluding(restricted, ft.ids_query(fulltext, named) if named else None)
    if query.sort == "upvotes":
        newest, total = fulltext.newest(rest, MAX_RESULTS, searcher=searcher)
        tail = _sorted(store, fulltext, newest, {}, "upvotes")[skip : skip + room]
    else:
        tail, total = fulltext.newest(rest, room, skip, searcher=searcher)
    return head + tail, len(named) + total


def _found_by(pid: int, ranking: Ranking) -> str:
    words, near = pid in ranking.from_words, pid in ranking.from_meaning
    return "both" if words and near else "fulltext" if words else "semantic"


def _sorted(store: Store, fulltext: FullTextIndex, ids: list[int], scores: dict[int, float], sort: str) -> list[int]:
    """The result ids in the order asked (relevance: as ranked)."""
    if sort == "date":
        days = fulltext.day_numbers(ids)
        return sorted(ids, key=lambda i: (-days.get(i, -1), -scores.get(i, 0.0), i))
    if sort == "upvotes":
        with store.session() as session:
            rows = paper_store.get_many(session, ids)
        votes = {i: r["upvotes_imported"] + r["upvote_count"] for i, r in rows.items()}
        return sorted(ids, key=lambda i: (-votes.get(i, -1), -scores.get(i, 0.0), i))
    return ids


def _hits(store, fulltext, parsed, ids, scores, found_by) -> list[SearchHit]:
    """Load the page's papers and render their highlighted title and snippet."""
    if not ids:
        return []
    with store.session() as session:
        rows = paper_store.get_many(session, ids)
    marks = ft.Highlighter(fulltext, parsed)
    return [
        SearchHit(
            paper=rows[i],
            score=round(scores.get(i, 0.0), 6),
            title_html=marks.title(rows[i]["title"]),
            snippet_html=marks.snippet(rows[i]["abstract"]),
            found_by=found_by.get(i, "filter"),
        )
        for i in ids
        if i in rows  # a paper deleted since it was indexed
    ]


def similar(store: Store, arxiv_id: str, limit: int = 6) -> list[SearchHit]:
    """Papers like this one, best first: nearest by embedding, or by shared words when it has no
    vector and the model is unavailable. Raises NotFoundError for an unknown paper."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}")
    with store.session() as session:
        paper = paper_store.get(session, arxiv_id)
    if paper is None:
        raise NotFoundError(f"no paper {arxiv_id}")
    engines = engines_for(store)
    ranked = neighbours.similar_to(engines, store, paper, limit)
    empty = ParsedQuery()
    return _hits(store, engines.fulltext, empty, [pid for pid, _ in ranked], dict(ranked), {pid: "semantic" for pid, _ in ranked})


# --- indexing ---------------------------------------------------------------------------------------------


@dataclass
class IndexReport:
    """What one indexing run did."""

    fulltext: int = 0  # papers (re)indexed by full text
    embedded: int = 0  # papers embedded
    vectors: int = 0  # vectors added to or replaced in the vector index
    runtime: str = ""  # the embedding runtime used
    seconds: float = 0.0
    skipped: int = 0  # papers an index could not take (each logged on a line of its own)

    def summary(self) -> str:
        skipped = f"; {self.skipped} skipped (see the log)" if self.skipped else ""
        return (
            f"{self.fulltext} papers full-text indexed, {self.embedded} embedded ({self.runtime or 'no model'}),"
            f" {self.vectors} vectors indexed in {self.seconds:.1f}s{skipped}"
        )

    __str__ = summary


def index_new_papers(
    store: Store, *, on_progress=None, limit: int | None = None, runtime: str | None = None, should_stop=None
) -> IndexReport:
    """Bring every index up to date with the store: full text, then embeddings of new and changed
    papers (committed in batches: resumable), then the vector index. What the scheduled job and
    `dailypapers index` run. `on_progress(done, total)` follows the embedding; `should_stop()` ends
    the embedding early, between batches (a process shutting down)."""
    from .index.embeddings import DIM, MODEL_KEY, embed_papers, load_embedder
    from .index.vectors import VectorIndex

    started = time.perf_counter()
    report = IndexReport()
    skipped: set[int] = set()
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
    report.skipped = len(skipped)
    report.seconds = time.perf_counter() - started
    return report

