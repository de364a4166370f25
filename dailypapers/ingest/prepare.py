"""The CPU half of ingest: skip records applied before, parse, normalize, build rows and hashes.

It touches the store only to read which fingerprints are known, so it can run in a second process
while the first one writes (see pipeline.ingest_file). What it hands over is NamedTuples (Incoming,
PaperRow), which cross a process boundary about as fast as plain tuples.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import InvalidRecord, shown
from ..types import Featured, Listed, PaperRecord, PaperRow, RawRecord, Rejection, VersionInfo
from .merge import complete_new, record_to_row
from .normalize import content_hash, normalize

log = logging.getLogger(__name__)

Item = PaperRecord | RawRecord | Rejection


class Incoming(NamedTuple):
    """One record ready for the writer: the paper row it states, and what else it brings."""

    row: PaperRow  # authors JSON-encoded already (see `pack`)
    new_hash: str  # content hash of the row completed for a new paper
    fingerprint: str | None  # of the raw input record, to remember it as applied
    featured: Featured | None  # a day's feed it is featured on
    listed: Listed | None  # a day's arXiv listing it is in
    versions: tuple[VersionInfo, ...]  # the version history it reports


@dataclass
class Prepared:
    """A batch ready for the store: the records in input order; plus rejections and skips."""

    records: list[Incoming] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0  # records whose fingerprint was applied before
    position: int = 0  # bytes of the input file read so far, for progress


def pack(row: PaperRow) -> PaperRow:
    """JSON-encode the authors here, in the reader: the writer then inserts the text as it is, and a
    batch crosses the process boundary three times faster than with lists of author dicts.
    `unpack` restores the list where the writer needs it (to merge with a stored paper)."""
    if row.authors is None:
        return row
    return row._replace(authors=json.dumps(row.authors))


def unpack(row: PaperRow) -> PaperRow:
    if isinstance(row.authors, str):
        return row._replace(authors=json.loads(row.authors))
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
        out.records.append(
            Incoming(
                pack(row),
                content_hash(complete_new(row, "-")),
                record.fingerprint,
                record.featured,
                record.listed,
                tuple(record.versions),
            )
        )
    return out
