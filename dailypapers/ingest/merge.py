"""How an incoming record combines with the stored paper: pure functions over row dicts.

Rules:
- a newer version replaces the text; fields the newer record lacks (a DOI, say) are kept;
- an older version never changes the paper (its dates still enter the version history);
- the same version, or a record that names none, fills what is missing and corrects what it knows,
  except that a record without a version never rewrites a paper whose version is known: then it
  only fills gaps;
- counts reported upstream (HF upvotes, comments) only grow;
- Hugging Face's own fields (hf_meta) are taken whole from the latest HF record that has them.
"""

from __future__ import annotations

from .normalize import authors_json, content_hash
from ..types import PaperRecord

TEXT_FIELDS = (
    "title",
    "abstract",
    "authors",
    "primary_category",
    "categories",
    "comment",
    "journal_ref",
    "doi",
    "report_no",
    "license",
    "code_url",
    "project_url",
    "updated_at",
)


def record_to_row(record: PaperRecord) -> dict:
    """The paper row a normalized record stands for (None where the record is silent)."""
    row = {
        "arxiv_id": record.arxiv_id,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": authors_json(record.authors) if record.authors else None,
        "primary_category": record.primary_category,
        "categories": record.categories or None,
        "comment": record.comment,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "report_no": record.report_no,
        "license": record.license,
        "code_url": record.code_url,
        "project_url": record.project_url,
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "upvotes_imported": record.upvotes,
        "comments_imported": record.num_comments,
        "hf_meta": record.hf_meta,
        "source": record.source,
    }
    return row


def complete_new(row: dict, content_hash_: str | None = None) -> dict:
    """The row of a paper seen for the first time: defaults filled, hash set (computed if not given)."""
    row = dict(row)
    if "authors" in row or "_encoded" not in row:  # packed rows keep their authors as JSON text
        row["authors"] = row.get("authors") or []
    row["categories"] = row["categories"] or []
    row["upvotes_imported"] = row["upvotes_imported"] or 0
    row["comments_imported"] = row["comments_imported"] or 0
    row["content_hash"] = content_hash_ or content_hash(row)
    return row


def _grow(stored: int | None, incoming: int | None) -> int:
    if incoming is None:
        return stored or 0
    return max(stored or 0, incoming)


def merge(stored: dict, incoming: dict) -> dict:
    """The stored row after taking in `incoming` (both row dicts); hash recomputed."""
    merged = dict(stored)
    merged.pop("_encoded", None)  # a pre-encoded form of the old values would be stale
    sv, iv = stored.get("version"), incoming.get("version")
    if iv is not None and sv is not None and iv < sv:
        mode = "older"
    elif iv is not None and (sv is None or iv > sv):
        mode = "newer"
    elif iv is None and sv is not None:
        mode = "fill"
    else:
        mode = "same"
    if mode in ("newer", "same"):
        for name in TEXT_FIELDS:
            value = incoming.get(name)
            if value is not None:
                merged[name] = value
        if mode == "newer":
            merged["version"] = iv
    elif mode == "fill":
        for name in TEXT_FIELDS:
            if merged.get(name) in (None, []) and incoming.get(name) is not None:
                merged[name] = incoming[name]
    # The first submission date is the earliest any source reported.
    ip, sp = incoming.get("published_at"), stored.get("published_at")
    if ip is not None and (sp is None or ip < sp):
        merged["published_at"] = ip
    merged["upvotes_imported"] = _grow(stored.get("upvotes_imported"), incoming.get("upvotes_imported"))
    merged["comments_imported"] = _grow(stored.get("comments_imported"), incoming.get("comments_imported"))
    if incoming.get("hf_meta") is not None:
        merged["hf_meta"] = incoming["hf_meta"]
    merged["content_hash"] = content_hash(merged)
    if merged["content_hash"] != stored.get("content_hash") and mode != "older":
        merged["source"] = incoming.get("source") or stored.get("source")
    return merged
