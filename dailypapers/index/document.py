"""The full-text index's documents: its schema (text fields for BM25, fast fields for filters,
sorting and facets) and the document made from a store row."""

from __future__ import annotations

import datetime as dt

import tantivy

from . import names

EPOCH = dt.date(1970, 1, 1)


def build_schema() -> tantivy.Schema:
    """The index's fields: text for BM25, fast fields for filters, sorting and facets."""
    sb = tantivy.SchemaBuilder()
    # i64, not u64: the Python binding turns ints into i64 terms, so deleting by a u64 id never matches.
    sb.add_integer_field("paper_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("abstract", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("authors", stored=False, tokenizer_name=names.ANALYZER_NAME)
    sb.add_text_field("author_keys", stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("categories", stored=False, tokenizer_name="raw", fast=True)
    sb.add_text_field("comment", stored=False, tokenizer_name="en_stem")
    sb.add_text_field("journal_ref", stored=False, tokenizer_name="default")
    sb.add_text_field("report_no", stored=False, tokenizer_name="default")
    sb.add_date_field("day", stored=False, indexed=True, fast=True)
    sb.add_integer_field("has_code", stored=False, indexed=True, fast=True)
    # Days since 1970-01-01 and yyyymm of the same day: sorting by date and month facets read these.
    sb.add_integer_field("day_num", stored=False, indexed=True, fast=True)
    sb.add_integer_field("month", stored=False, indexed=True, fast=True)
    return sb.build()


def document(row: dict) -> tantivy.Document:
    """The index document for a store row (see papers.rows_for_index). Raises ValueError for a row
    it cannot index (tantivy dates end in 2262; text must be text)."""
    # The day a paper is searched by: the first it was featured, else listed, else published.
    day = (
        row.get("first_featured")
        or row.get("first_listed")
        or (row["published_at"].date() if row.get("published_at") else None)
    )
    doc = tantivy.Document(
        paper_id=row["id"],
        arxiv_id=row["arxiv_id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=" ; ".join(a["name"] for a in row.get("authors") or []),
        comment=row.get("comment") or "",
        has_code=1 if row.get("code_url") else 0,
    )
    for cat in row.get("categories") or []:
        doc.add_text("categories", cat)
    if day is not None:
        doc.add_date("day", dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC))
        doc.add_integer("day_num", (day - EPOCH).days)
        doc.add_integer("month", day.year * 100 + day.month)
    _add_query_fields(doc, row)
    return doc


def _add_query_fields(doc: tantivy.Document, row: dict) -> None:
    """The fields only the query language reads: a key per author (names.py), the journal
    reference and report number (jr:, rn:)."""
    for author in row.get("authors") or []:
        author_key = names.key(author["name"])
        if author_key:
            doc.add_text("author_keys", author_key)
    for name in ("journal_ref", "report_no"):
        if row.get(name):
            doc.add_text(name, row[name])
