"""Plain data passed between the stages: sources yield these, ingest normalizes them, the store keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


class VersionInfo(NamedTuple):
    """One arXiv version of a paper: its number and when it was submitted. (NamedTuples, like
    Featured, PaperRow: ingest ships them across a process boundary, see PaperRow.)"""

    version: int
    submitted_at: dt.datetime | None = None


class Featured(NamedTuple):
    """A paper featured on a day's feed, the curated list: by the HF daily papers, or a user."""

    day: dt.date
    submitted_at: dt.datetime | None = None
    submitter: str | None = None  # an external name (HF user); local users are linked by id in the store
    source: str = "hf"
    submitter_fullname: str | None = None  # the external submitter's profile, as the source gave it
    submitter_avatar_url: str | None = None  # absolute


class Listed(NamedTuple):
    """A paper arXiv announced on a day: in a daily listing file, or an OAI-PMH harvest. Listed is
    not featured: the curated feed holds only what members, curators or HF put there."""

    day: dt.date
    source: str = "listing"  # listing | arxiv


@dataclass(slots=True)
class PaperRecord:
    """A paper as one source saw it. Fields a source does not know are None (never guessed)."""

    arxiv_id: str  # without version: 2410.17243 or hep-th/9901001
    title: str
    abstract: str
    authors: list[Author]
    version: int | None = None
    categories: list[str] = field(default_factory=list)  # primary first
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    report_no: str | None = None
    license: str | None = None
    published_at: dt.datetime | None = None  # first version submitted
    updated_at: dt.datetime | None = None  # latest version submitted / metadata updated
    versions: list[VersionInfo] = field(default_factory=list)
    versions_complete: bool = True  # False when `versions` is a partial history (OAI arXiv format)
    code_url: str | None = None
    project_url: str | None = None
    featured: Featured | None = None
    listed: Listed | None = None
    upvotes: int | None = None  # a count an upstream site reported (HF), not local votes
    num_comments: int | None = None
    # Hugging Face's fields beyond arXiv's (claimed authors, media, AI summary and keywords, GitHub
    # stars, organization): see store.schema.Paper.hf_meta. None: the source says nothing of them.
    hf_meta: dict | None = None
    source: str = ""
    position: str = ""  # where in the input it came from, for error messages
    fingerprint: str | None = None  # hash of the raw input record, when the source gives one

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


class PaperRow(NamedTuple):
    """A paper's ingest-owned columns, as ingest builds, merges and stores them (None where the
    record is silent). The fields are the column list, declared here once: PAPER_COLUMNS.

    A NamedTuple, not a dataclass: batches of rows cross ingest's process boundary, and a
    NamedTuple pickles about as fast as a plain tuple (a slotted dataclass, twice as slow)."""

    arxiv_id: str
    version: int | None = None
    title: str | None = None
    abstract: str | None = None
    # [{"name", "affiliations"?}], or its JSON text when the reader process encoded it (ingest.prepare)
    authors: list[dict] | str | None = None
    primary_category: str | None = None
    categories: list[str] | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    report_no: str | None = None
    license: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    upvotes_imported: int | None = None
    comments_imported: int | None = None
    hf_meta: dict | None = None
    source: str | None = None
    content_hash: str | None = None  # of the fields in ingest.normalize.HASHED_FIELDS


# The columns of a paper that ingest writes; the rest (local votes and comments, timestamps,
# first_featured) belong to the store.
PAPER_COLUMNS: tuple[str, ...] = PaperRow._fields


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperCard:
    """A stored paper as a card shows it: on the feed pages, in search results, the JSON API, the
    feeds, digests and the CLI. Built by the store from the papers columns of the same names
    (store.feed.CARD_COLUMNS derives from CARD_FIELDS), so a new field is one line here. The
    paper's columns (PAPER_COLUMNS) but those no card shows (journal reference, DOI, report
    number, license) and ingest's bookkeeping; plus the store's first featured day and local counts."""

    id: int
    arxiv_id: str
    version: int | None = None
    title: str = ""
    abstract: str = ""
    authors: list[dict] = field(default_factory=list)  # [{"name", "affiliations"?}], as stored
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)  # primary first
    comment: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    upvotes_imported: int = 0
    comments_imported: int = 0
    hf_meta: dict | None = None  # see store.schema.Paper.hf_meta
    first_featured: dt.date | None = None
    upvote_count: int = 0  # local votes
    comment_count: int = 0  # local comments


# The fields of a card, in order: the papers columns a card is read from.
CARD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PaperCard))


class StoredVersion(NamedTuple):
    """One version in a stored paper's history: what the paper page and `papers show` list."""

    version: int
    submitted_at: dt.datetime | None = None
    title: str | None = None
    abstract: str | None = None  # as of this version, when a source showed it


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperFull(PaperCard):
    """A stored paper with what only its own page shows: the bibliographic columns a card leaves
    out, and its version history."""

    journal_ref: str | None = None
    doi: str | None = None
    report_no: str | None = None
    license: str | None = None
    versions: tuple[StoredVersion, ...] = ()


# The papers columns a full paper adds to a card's (its versions come from their own table).
FULL_FIELDS: tuple[str, ...] = CARD_FIELDS + ("journal_ref", "doi", "report_no", "license")


@dataclass(slots=True)
class RawRecord:
    """A source record not parsed yet. Ingest skips it unparsed when a record with the same
    fingerprint was applied before, which makes re-reading a large file cheap."""

    fingerprint: str
    position: str
    parse: Callable[[], PaperRecord]  # raises InvalidRecord


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be stored, with where it was and why."""

    position: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.reason}"


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did. `new + updated + unchanged + rejected` = records read."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    featured: int = 0  # daily entries added
    listed: int = 0  # listings added
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: "IngestReport") -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.featured += other.featured
        self.listed += other.listed
        self.rejections.extend(other.rejections)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.rejected} rejected"
            f" ({self.featured} daily entries, {self.listed} listings added)"
        )
