"""Result shaping: a page of results as the web pages, the JSON API and the CLI show it (the
papers' store rows with highlighted title and snippet, the score, how each was found), and the
orders other than relevance."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..index.facets import Facets
from ..index.matches import Matches
from ..index.query import ParsedQuery
from ..store import papers as paper_store
from ..store.engine import Store
from ..types import PaperCard
from .highlight import Highlighter
from .query import MAX_RESULTS, SearchQuery


@dataclass
class SearchHit:
    """One result. `paper` is the paper's card (for shapes.paper_info and the page);
    `title_html` and `snippet_html` are safe HTML: the text escaped, matches in <mark>, so templates
    render them with |safe. `score` is the fused relevance in [0, 1] (0 for filter-only queries, 1
    for a paper named by its id); `found_by` says how it was found: "id" (named in the query),
    "both", "fulltext", "semantic" or "filter"."""

    paper: PaperCard
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


def ordered(store: Store, matches: Matches, ids: list[int], scores: dict[int, float], sort: str) -> list[int]:
    """The result ids in the order asked (relevance: as ranked; ties by relevance, then id)."""
    if sort == "date":
        days = matches.days(ids)
        return sorted(ids, key=lambda i: (-days.get(i, -1), -scores.get(i, 0.0), i))
    if sort == "upvotes":
        with store.session() as session:
            rows = paper_store.get_many(session, ids)
        votes = {i: r.upvotes_imported + r.upvote_count for i, r in rows.items()}
        return sorted(ids, key=lambda i: (-votes.get(i, -1), -scores.get(i, 0.0), i))
    return ids


def hits(store: Store, matches: Matches, ids: list[int], scores: dict[int, float], found_by: dict[int, str]) -> list[SearchHit]:
    """Load the page's papers and render their highlighted title and snippet."""
    if not ids:
        return []
    with store.session() as session:
        rows = paper_store.get_many(session, ids)
    marks = Highlighter(matches)
    return [
        SearchHit(
            paper=rows[i],
            score=round(scores.get(i, 0.0), 6),
            title_html=marks.title(rows[i].title),
            snippet_html=marks.snippet(rows[i].abstract),
            found_by=found_by.get(i, "filter"),
        )
        for i in ids
        if i in rows  # a paper deleted since it was indexed
    ]
