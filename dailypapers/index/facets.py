"""Facets: how many of a result set's papers are in each category and each month (the search
page's side panel), counted by tantivy's aggregations over the index's fast fields."""

from __future__ import annotations

from dataclasses import dataclass, field

import tantivy


@dataclass
class Facets:
    """Counts over a result set: by category (most first) and by month ("2026-05", newest first)."""

    categories: list[tuple[str, int]] = field(default_factory=list)
    months: list[tuple[str, int]] = field(default_factory=list)


def facets(searcher: tantivy.Searcher, query: tantivy.Query, *, top_categories: int = 20, top_months: int = 36) -> Facets:
    """Category and month counts of the documents matching `query`."""
    spec = {
        "categories": {"terms": {"field": "categories", "size": top_categories}},
        "months": {"terms": {"field": "month", "size": top_months, "order": {"_key": "desc"}}},
    }
    result = searcher.aggregate(query, spec)
    cats = [(b["key"], int(b["doc_count"])) for b in result.get("categories", {}).get("buckets", [])]
    months = []
    for b in result.get("months", {}).get("buckets", []):
        key = int(b["key"])
        months.append((f"{key // 100:04d}-{key % 100:02d}", int(b["doc_count"])))
    return Facets(cats, months)


def ids_query(schema: tantivy.Schema, paper_ids: list[int]) -> tantivy.Query:
    """A query matching exactly these papers (for facets over a result set)."""
    return tantivy.Query.term_set_query(schema, "paper_id", list(paper_ids))
