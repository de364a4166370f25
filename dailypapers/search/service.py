"""The search service: a page of results for a query, and the papers like one paper.

    search(store, SearchQuery(text="author:Hinton \"capsule networks\"", sort="date")) -> SearchPage
    similar(store, "2410.17243", limit=6) -> list[SearchHit]

A text query is ranked by the planner (`planner.py`); a query of filters alone lists the matching
papers newest first; papers the query names by arXiv id come first, within the form's filters.
"""

from __future__ import annotations

import time

from .. import neighbours
from ..errors import NotFoundError
from ..index.matches import Matches
from ..index.queries import Filters
from ..index.query import ParsedQuery
from ..ranking import hybrid
from ..store import papers as paper_store
from ..store.engine import Store
from .engines import POOL, engines_for
from .planner import rank_matches
from .query import MAX_RESULTS, SearchQuery, check_limit, read
from .results import SearchHit, SearchPage, hits, ordered


def search(store: Store, query: SearchQuery) -> SearchPage:
    """Answer a search: a page of hits with snippets, the total and the facets. Raises BadQuery
    (and nothing else for any text) when the query cannot be answered. Papers the query names by
    arXiv id come first, within the form's filters."""
    started = time.perf_counter()
    parsed, filters = read(query)
    engines = engines_for(store)
    matches = engines.fulltext.matches(parsed, filters)
    parsed = matches.parsed
    page = SearchPage(query=query, parsed=parsed)
    named = matches.named()
    counting = None
    if parsed.has_text:
        ranking = rank_matches(engines, matches, mode=query.mode, depth=max(engines.candidates, query.offset + query.limit))
        scores = dict(ranking.ranked)
        rest = [pid for pid, _ in ranking.ranked if pid not in named]
        page.semantic = ranking.semantic
        page.total = len(named) + len(rest)
        # Counted on the pool while the page's papers are ordered, loaded and highlighted here.
        counting = POOL.submit(matches.facets_of, named + rest) if query.facets and page.total else None
        ids = named + ordered(store, matches, rest, scores, query.sort)
        page_ids = ids[query.offset : query.offset + query.limit]
        normalized = hybrid.normalize(scores) | {pid: 1.0 for pid in named}
        found_by = {pid: "id" if pid in named else ranking.found_by(pid) for pid in page_ids}
    elif parsed.tree.clauses or parsed.categories or (filters.active and not parsed.ids):
        page_ids, page.total = _listing(store, matches, query, named)
        if query.facets:
            page.facets = matches.listing_facets(named)
        normalized = {pid: 1.0 for pid in named}
        found_by = {pid: "id" if pid in named else "filter" for pid in page_ids}
    else:  # arXiv ids alone
        page_ids, page.total = named[query.offset : query.offset + query.limit], len(named)
        if query.facets and named:
            page.facets = matches.facets_of(named)
        normalized = {pid: 1.0 for pid in named}
        found_by = {pid: "id" for pid in page_ids}
    page.hits = hits(store, matches, page_ids, normalized, found_by)
    if counting is not None:
        page.facets = counting.result()
    page.took_ms = (time.perf_counter() - started) * 1000
    return page


def _listing(store: Store, matches: Matches, query: SearchQuery, named: list[int]) -> tuple[list[int], int]:
    """A page of a filter-only query, newest first (or most upvoted), after the papers it names;
    and how many there are in all."""
    head = named[query.offset : query.offset + query.limit]
    skip, room = max(0, query.offset - len(named)), query.limit - len(head)
    if query.sort == "upvotes":
        newest, total = matches.listing(MAX_RESULTS, without=named)
        tail = ordered(store, matches, newest, {}, "upvotes")[skip : skip + room]
    else:
        tail, total = matches.listing(room, skip, without=named)
    return head + tail, len(named) + total


def similar(store: Store, arxiv_id: str, limit: int = 6) -> list[SearchHit]:
    """Papers like this one, best first: nearest by embedding, or by shared words when it has no
    vector and the model is unavailable. Raises NotFoundError for an unknown paper."""
    check_limit(limit)
    with store.session() as session:
        paper = paper_store.get(session, arxiv_id)
    if paper is None:
        raise NotFoundError(f"no paper {arxiv_id}")
    engines = engines_for(store)
    ranked = neighbours.similar_to(engines, store, paper, limit)
    plain = engines.fulltext.matches(ParsedQuery(), Filters())  # nothing to mark
    return hits(store, plain, [pid for pid, _ in ranked], dict(ranked), {pid: "semantic" for pid, _ in ranked})
