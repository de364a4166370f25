"""What a user asks the search service: the query's text in arXiv's query language (read by
`index/query.py`) and the search form's filters, sort, mode and page, checked before anything runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..index.query import BadQuery, ParsedQuery, check_category, lone_arxiv_id, parse  # noqa: F401 - for callers
from ..index.queries import Filters

SORTS = ("relevance", "date", "upvotes")
MODES = ("hybrid", "fulltext", "semantic")
MAX_LIMIT = 100
MAX_RESULTS = 1000  # deepest result reachable by paging


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


def check_limit(limit: int) -> None:
    """BadQuery unless a page of `limit` results may be asked for."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}")


def validate(query: SearchQuery) -> None:
    """BadQuery for a sort, mode or page the service does not offer."""
    if query.sort not in SORTS:
        raise BadQuery(f"sort must be one of {', '.join(SORTS)}")
    if query.mode not in MODES:
        raise BadQuery(f"mode must be one of {', '.join(MODES)}")
    check_limit(query.limit)
    if not 0 <= query.offset or query.offset + query.limit > MAX_RESULTS:
        raise BadQuery(f"results go {MAX_RESULTS} deep at most")


def read(query: SearchQuery) -> tuple[ParsedQuery, Filters]:
    """The query checked and read: its text parsed, and the form's filters with the text's
    top-level cat: added. BadQuery when it cannot be searched, or asks for nothing at all."""
    validate(query)
    parsed = parse(query.text)
    filters = Filters(
        since=query.since,
        until=query.until,
        categories=tuple(dict.fromkeys(tuple(check_category(c) for c in query.categories) + parsed.categories)),
        has_code=query.has_code,
    )
    if parsed.is_empty and not filters.active:
        raise BadQuery("the query is empty: type some words, or filter by au:, cat:, dates or code")
    return parsed, filters
