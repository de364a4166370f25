"""What the search service asks of the full-text index: one query under the search form's filters,
answered in paper ids, scores, counts and highlight ranges.

    matches = fulltext.matches(parse("au:Hinton capsules"), Filters(categories=("cs.LG",)))
    matches.named()                       papers the query names by arXiv id, within the filters
    matches.scores(100)                   the BM25 top 100 {paper id: score}
    matches.scores_of([3, 5])             the exact BM25 of given papers
    matches.allowed() / allowed_ids(n) / allowed_among(ids)
                                          what meets everything but the plain words (the dense side)
    matches.listing(20, 0, without=ids)   a filter-only query's page, newest first, and the total
    matches.facets_of(ids) / listing_facets(named)
    matches.days(ids) / matches.marker("title", 1000)

The search service never sees a tantivy query: they are built here (from `queries.py`) once per
query, and every call reads through the one searcher taken when the query began, so a query sees one
consistent index even while a writer commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from .facets import Facets, facets, ids_query
from .queries import Filters, compose, either, excluding, filter_queries, highlight_query, match_query, papers_query, required_query, resolve
from .querytree import ParsedQuery


_UNBUILT = object()


class Matches:
    """One query against one node's full-text index (see the module's docstring). Raises BadQuery
    when the filters cannot be met by any paper (an empty date range). Safe to read from two threads
    (the search service ranks by words here while the dense side reads `allowed` on its pool)."""

    def __init__(self, fulltext, parsed: ParsedQuery, filters: Filters):
        self.fulltext = fulltext
        self.schema = fulltext.schema
        self.searcher = fulltext.searcher()
        self.parsed = resolve(self.searcher, self.schema, parsed)  # a lone name: that author, or its words
        self.restrictions = filter_queries(self.schema, filters)
        self._scoring = match_query(self.schema, self.parsed)  # what scores: the words
        self._restricted = compose(self._scoring, self.restrictions)  # what a result must match
        self._required_query = _UNBUILT

    @property
    def _required(self) -> tantivy.Query | None:
        """Everything but the top level's plain words, under the filters, scoring nothing (built
        on first use: only the dense side asks)."""
        if self._required_query is _UNBUILT:
            self._required_query = compose(required_query(self.schema, self.parsed), self.restrictions)
        return self._required_query

    # --- ranking by words ---------------------------------------------------------------------------

    def named(self) -> list[int]:
        """The papers named by arXiv id that the index holds and the filters let through, in the
        order named."""
        out: list[int] = []
        for arxiv_id in self.parsed.ids:
            found = self.fulltext.top(compose(papers_query(self.schema, [arxiv_id]), self.restrictions), 1, searcher=self.searcher)
            out += [pid for pid, _ in found if pid not in out]
        return out

    def scores(self, depth: int) -> dict[int, float]:
        """{paper id: BM25} of the best `depth` papers matching the query under the filters ({} when
        it has nothing to match)."""
        if self._restricted is None:
            return {}
        return dict(self.fulltext.top(self._restricted, depth, searcher=self.searcher))

    def scores_of(self, paper_ids: list[int]) -> dict[int, float]:
        """The BM25 of those of `paper_ids` that match the query's words (the others are absent).
        The filters are not checked: the ids given meet them already."""
        if self._scoring is None:
            return {}
        return self.fulltext.among(self._scoring, paper_ids, searcher=self.searcher)

    # --- what the dense side may return ---------------------------------------------------------------

    @property
    def restricted(self) -> bool:
        """Whether anything but plain words limits the results (phrases, fields, operators,
        exclusions, the filters): then the dense side keeps to `allowed`."""
        return self._required is not None

    def allowed(self) -> int:
        """How many papers meet everything but the plain words."""
        return self.fulltext.matching(self._required, searcher=self.searcher)

    def allowed_ids(self, limit: int) -> list[int]:
        """Up to `limit` of the papers meeting everything but the plain words."""
        return [pid for pid, _ in self.fulltext.top(self._required, limit, searcher=self.searcher)]

    def allowed_among(self, paper_ids: list[int]) -> set[int]:
        """Those of `paper_ids` that meet everything but the plain words."""
        return self.fulltext.which(self._required, paper_ids, searcher=self.searcher)

    # --- listing, facets, dates, highlights -------------------------------------------------------------

    def listing(self, limit: int, offset: int = 0, *, without: list[int] = ()) -> tuple[list[int], int]:
        """A page of the papers matching the query under the filters, newest first, less `without`;
        and how many there are in all."""
        rest = excluding(self._restricted, ids_query(self.schema, without) if without else None)
        return self.fulltext.newest(rest, limit, offset, searcher=self.searcher)

    def facets_of(self, paper_ids: list[int]) -> Facets:
        """Category and month counts over these papers."""
        return facets(self.searcher, ids_query(self.schema, paper_ids))

    def listing_facets(self, named: list[int]) -> Facets:
        """Category and month counts over a filter-only query's results and the papers it names."""
        listed = excluding(self._restricted)
        return facets(self.searcher, either(listed, ids_query(self.schema, named)) if named else listed)

    def days(self, paper_ids: list[int]) -> dict[int, int]:
        """Each paper's day (days since 1970-01-01), for sorting results by date."""
        return self.fulltext.day_numbers(paper_ids, searcher=self.searcher)

    def marker(self, field: str, max_chars: int) -> Marker | None:
        """Where the query's positive words and phrases occur in a text of this field ("title" or
        "abstract"); None when none of them search it."""
        query = highlight_query(self.schema, self.parsed, field)
        if query is None:
            return None
        generator = tantivy.SnippetGenerator.create(self.searcher, query, self.schema, field)
        generator.set_max_num_chars(max_chars)
        return Marker(field, generator)


@dataclass(frozen=True)
class Marked:
    """The best passage of a text (UTF-8 bytes), the byte ranges of the matches in it, sorted, and
    where the passage starts and ends in the whole text (bytes)."""

    fragment: bytes
    ranges: list[tuple[int, int]]
    start: int
    end: int


@dataclass(frozen=True)
class Marker:
    """Finds the query's matches in texts of one field, as the index analyses that field."""

    field: str
    generator: tantivy.SnippetGenerator

    def mark(self, text: str) -> Marked | None:
        """The passage and its matches, or None when nothing in the text matches."""
        snippet = self.generator.snippet_from_doc(tantivy.Document(**{self.field: text}))
        fragment = snippet.fragment().encode("utf-8")
        ranges = sorted((r.start, r.end) for r in snippet.highlighted())
        if not fragment or not ranges:
            return None
        span = snippet.fragment_range()
        return Marked(fragment, ranges, span.start, span.end)
