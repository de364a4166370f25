"""Plain data passed between the stages: sources yield these, ingest normalizes them, the store keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One arXiv version of a paper: its number and when it was submitted."""

    version: int
    submitted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Featured:
    """A paper featured on a day's feed: by an arXiv listing, the HF daily papers, or a user."""

    day: dt.date
    submitted_at: dt.datetime | None = None
    submitter: str | None = None  # an external name (HF user); local users are linked by id in the store
    source: str = "listing"
    submitter_fullname: str | None = None  # the external submitter's profile, as the source gave it
    submitter_avatar_url: str | None = None  # absolute


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
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: "IngestReport") -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.featured += other.featured
        self.rejections.extend(other.rejections)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.rejected} rejected"
            f" ({self.featured} daily entries added)"
        )
