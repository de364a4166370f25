"""The search service: what the web pages, the JSON API, the digest and the CLI call.

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

The package, by concern:
    query.py      what is asked (SearchQuery, sorts, modes, paging limits) and its checks
    engines.py    this process's indexes and query embedder per store, and the thread pool
    planner.py    how a text query is ranked: both sides pooled, restricted, fused
    highlight.py  safe HTML titles and snippets with the matches marked
    results.py    SearchHit, SearchPage, the orders other than relevance
    service.py    search() and similar()
The indexes answer it through `FullTextIndex.matches` (index/matches.py) and the vector index's
snapshot; the indexing job is index/update.py.
"""

from ..index.update import IndexReport, index_new_papers
from .engines import Engines, engines_for
from .planner import Ranking, rank
from .query import MAX_LIMIT, MAX_RESULTS, MODES, SORTS, BadQuery, SearchQuery, lone_arxiv_id
from .results import SearchHit, SearchPage
from .service import search, similar

__all__ = [
    "BadQuery",
    "Engines",
    "IndexReport",
    "MAX_LIMIT",
    "MAX_RESULTS",
    "MODES",
    "Ranking",
    "SORTS",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "engines_for",
    "index_new_papers",
    "lone_arxiv_id",
    "rank",
    "search",
    "similar",
]
