"""How an incoming record combines with the stored paper: pure functions over PaperRows.

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

from operator import attrgetter

from ..types import PAPER_COLUMNS, PaperRecord, PaperRow
from .normalize import authors_json, content_hash

# The columns a record's text rules apply to: all but the id, the version, the first submission
# date, the upstream counts and HF fields (rules of their own, below), the source and the hash.
_OWN_RULES = ("arxiv_id", "version", "published_at", "upvotes_imported", "comments_imported", "hf_meta")
TEXT_FIELDS = tuple(c for c in PAPER_COLUMNS if c not in _OWN_RULES + ("source", "content_hash"))


# The columns a record holds as they are, under the same names (read in one C call per record);
# record_to_row converts or renames the rest.
_COPIED = tuple(c for c in PAPER_COLUMNS if c in PaperRecord.__dataclass_fields__ and c not in ("authors", "categories"))
_copied = attrgetter(*_COPIED)


def record_to_row(record: PaperRecord) -> PaperRow:
    """The paper row a normalized record stands for (None where the record is silent)."""
    return PaperRow(
        **dict(zip(_COPIED, _copied(record))),
        authors=authors_json(record.authors) if record.authors else None,
        primary_category=record.primary_category,
        categories=record.categories or None,
        upvotes_imported=record.upvotes,
        comments_imported=record.num_comments,
    )


def complete_new(row: PaperRow, content_hash_: str | None = None) -> PaperRow:
    """The row of a paper seen for the first time: defaults filled, hash set (computed if not given).
    Authors the reader encoded as JSON text stay text."""
    row = row._replace(
        authors=row.authors or [],
        categories=row.categories or [],
        upvotes_imported=row.upvotes_imported or 0,
        comments_imported=row.comments_imported or 0,
    )
    return row._replace(content_hash=content_hash_ or content_hash(row))


def _grow(stored: int | None, incoming: int | None) -> int:
    if incoming is None:
        return stored or 0
    return max(stored or 0, incoming)


def merge(stored: PaperRow, incoming: PaperRow) -> PaperRow:
    """The stored row after taking in `incoming` (both with their authors decoded); hash recomputed."""
    merged = stored._asdict()
    sv, iv = stored.version, incoming.version
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
            value = getattr(incoming, name)
            if value is not None:
                merged[name] = value
        if mode == "newer":
            merged["version"] = iv
    elif mode == "fill":
        for name in TEXT_FIELDS:
            if merged[name] in (None, []) and getattr(incoming, name) is not None:
                merged[name] = getattr(incoming, name)
    # The first submission date is the earliest any source reported.
    ip, sp = incoming.published_at, stored.published_at
    if ip is not None and (sp is None or ip < sp):
        merged["published_at"] = ip
    merged["upvotes_imported"] = _grow(stored.upvotes_imported, incoming.upvotes_imported)
    merged["comments_imported"] = _grow(stored.comments_imported, incoming.comments_imported)
    if incoming.hf_meta is not None:
        merged["hf_meta"] = incoming.hf_meta
    row = PaperRow(**merged)
    row = row._replace(content_hash=content_hash(row))
    if row.content_hash != stored.content_hash and mode != "older":
        row = row._replace(source=incoming.source or stored.source)
    return row
