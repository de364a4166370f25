"""The CPU half of ingest: skip records applied before, parse, normalize, build rows and hashes.

It touches the store only to read which fingerprints are known, so it can run in a second process
while the first one writes (see pipeline.ingest_file). What it hands over is plain dicts and tuples,
which cross a process boundary several times faster than dataclass records.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import InvalidRecord, shown
from ..types import PaperRecord, RawRecord, Rejection
from .merge import complete_new, record_to_row
from .normalize import content_hash, normalize

log = logging.getLogger(__name__)

Item = PaperRecord | RawRecord | Rejection


@dataclass
class Prepared:
    """A batch ready for the store: per record its row, hash and extras; plus rejections and skips."""

    rows: list[dict] = field(default_factory=list)  # the paper row as the record states it
    hashes: list[str] = field(default_factory=list)  # content hash of the row completed for a new paper
    # (fingerprint, (day, submitted_at, submitter, source, submitter_fullname, submitter_avatar_url) or None,
    #  ((version, submitted_at), ...))
    extras: list[tuple] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0  # records whose fingerprint was applied before
    position: int = 0  # bytes of the input file read so far, for progress


def pack(row: dict) -> None:
    """JSON-encode the list columns here, in the reader: the writer then inserts the text as it is,
    and a batch crosses the process boundary three times faster than with lists of author dicts.
    `unpack` restores the lists where the writer needs them (to merge with a stored paper)."""
    authors = row.pop("authors")
    row["_encoded"] = {
        "authors": None if authors is None else json.dumps(authors),
        "categories": json.dumps(row["categories"] or []),
    }


def unpack(row: dict) -> dict:
    if "authors" not in row:
        encoded = row["_encoded"]["authors"]
        row["authors"] = None if encoded is None else json.loads(encoded)
    return row


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fingerprints_of(batch: list[Item]) -> list[str]:
    return [item.fingerprint for item in batch if isinstance(item, RawRecord)]


def unexpected(position: str, exc: Exception) -> Rejection:
    """A record that broke the code rather than a rule: rejected alone, and logged as a bug to report."""
    reason = f"unexpected error ({type(exc).__name__}: {shown(str(exc), 120)}); please report it"
    log.warning("%s: %s", position, reason)
    return Rejection(position, reason)


def prepare(batch: list[Item], applied: set[str]) -> Prepared:
    """Turn a batch of source items into rows; `applied` holds fingerprints already in the store."""
    out = Prepared()
    for item in batch:
        if isinstance(item, Rejection):
            out.rejections.append(item)
            continue
        if isinstance(item, RawRecord):
            if item.fingerprint in applied:
                out.skipped += 1
                continue
            try:
                record = item.parse()
            except InvalidRecord as exc:
                out.rejections.append(Rejection(item.position, str(exc)))
                continue
            except Exception as exc:  # noqa: BLE001 - a reader's bug on one record must not cost the file
                out.rejections.append(unexpected(item.position, exc))
                continue
            record.fingerprint = item.fingerprint
        else:
            record = item
        try:
            normalize(record)
        except InvalidRecord as exc:
            out.rejections.append(Rejection(record.position or str(record.arxiv_id) or "record", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - as above
            out.rejections.append(unexpected(record.position or "record", exc))
            continue
        row = record_to_row(record)
        f = record.featured
        out.rows.append(row)
        out.hashes.append(content_hash(complete_new(row, "-")))
        pack(row)
        out.extras.append(
            (
                record.fingerprint,
                (f.day, f.submitted_at, f.submitter, f.source, f.submitter_fullname, f.submitter_avatar_url)
                if f is not None
                else None,
                tuple((v.version, v.submitted_at) for v in record.versions),
            )
        )
    return out
