"""What a record may hold: the caps and checks every source's records pass before they are cleaned
and stored (normalize calls `check` first). A record that breaks one is rejected alone, with a
reason naming the field; nothing else in its file is lost.

Why each rule: a lone surrogate cannot be encoded as UTF-8 and PostgreSQL cannot store a NUL, so
either one would fail the whole batch's transaction; a version or count past what an integer column
holds does the same; a date arXiv cannot hold (it began in 1991) breaks the full-text index, whose
dates end in 2262; an oversized field costs memory and time in every page and index that shows it.
The caps sit far above anything in the real corpus (docs/ingest.md gives both).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import fields

from ..arxiv import MAX_VERSION
from ..errors import InvalidRecord, shown
from ..types import Author, PaperRecord


# arXiv's first papers are from August 1991; nothing can be dated more than a year ahead.
FIRST_DAY = dt.date(1991, 1, 1)
DAYS_AHEAD = 366

# Characters per text field. doi and license match their 255-character columns.
TEXT_CAPS: dict[str, int] = {
    "title": 1_000,
    "abstract": 20_000,
    "comment": 10_000,
    "journal_ref": 2_000,
    "doi": 255,
    "report_no": 2_000,
    "license": 255,
    "code_url": 2_000,
    "project_url": 2_000,
}
MAX_AUTHORS = 20_000
MAX_AUTHOR_NAME = 2_000
MAX_AFFILIATIONS = 100  # per author
MAX_AFFILIATION = 2_000
MAX_CATEGORIES = 100  # entries as the source gave them, before non-categories are dropped
MAX_CATEGORY_ENTRY = 1_000
MAX_SUBMITTER = 100  # the column of an upstream submitter's name
MAX_COUNT = 1_000_000_000  # upvotes and comment counts reported upstream
# Text fields a source may add that have no cap of their own above.
MAX_OTHER_TEXT = 100_000
MAX_OTHER_ITEMS = 1_000

_TEXT_CAPS = tuple(TEXT_CAPS.items())
_CHECKED = {
    *TEXT_CAPS, "arxiv_id", "authors", "categories", "version", "versions", "published_at", "updated_at",
    "featured", "upvotes", "num_comments", "source", "position", "fingerprint", "versions_complete",
}  # fmt: skip
# Fields added to PaperRecord later are still checked for surrogates, NULs and size.
_OTHER = tuple(f.name for f in fields(PaperRecord) if f.name not in _CHECKED)


def last_day() -> dt.date:
    """The latest day a record may carry: a year from today (UTC)."""
    today = int(time.time() // 86400)
    if _last[0] != today:
        _last[:] = [today, dt.date(1970, 1, 1) + dt.timedelta(days=today + DAYS_AHEAD)]
    return _last[1]


_last: list = [None, None]  # (day number, last day): computed once a day, not per record


def _check_day(label: str, value: dt.date | dt.datetime | None, last: dt.date) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= last:
        raise InvalidRecord(
            f"{label} {value.isoformat()} is outside {FIRST_DAY} .. {last}"
            " (arXiv began in 1991; nothing is dated more than a year ahead)"
        )


def _too_big(label: str, size: int, cap: int, unit: str = "characters") -> InvalidRecord:
    return InvalidRecord(f"{label} is {size:,} {unit}, more than the {cap:,} allowed")


def _text(label: str, value, cap: int) -> None:
    if type(value) is not str:
        raise InvalidRecord(f"{label} must be text, not {type(value).__name__}")
    if len(value) > cap:
        raise _too_big(label, len(value), cap)


def _count(label: str, value) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= MAX_COUNT):
        raise InvalidRecord(f"{label} {shown(value, 40)} is not a count between 0 and {MAX_COUNT:,}")


def _texts(record: PaperRecord) -> list[tuple[str, str]]:
    """Every text of the record with its label, for the character checks."""
    out = [(name, getattr(record, name)) for name in ("arxiv_id", *TEXT_CAPS) if getattr(record, name) is not None]
    for i, author in enumerate(record.authors, 1):
        out.append((f"author {i} name", author.name))
        out.extend((f"author {i} affiliation {j}", aff) for j, aff in enumerate(author.affiliations, 1))
    out.extend(("categories", cat) for cat in record.categories)
    out.extend(_featured_texts(record))
    for name in _OTHER:
        out.extend((label, text) for label, text in _nested(name, getattr(record, name)))
    return out


def _featured_texts(record: PaperRecord) -> list[tuple[str, str]]:
    f = record.featured
    if f is None:
        return []
    named = (("submitter", f.submitter), ("submitter's full name", f.submitter_fullname),
             ("submitter's avatar URL", f.submitter_avatar_url))  # fmt: skip
    return [(label, value) for label, value in named if isinstance(value, str)]


def _nested(label: str, value, depth: int = 0):
    """(label, text) of every string in a value of plain lists and dicts (an upstream's extra
    fields, e.g. Hugging Face's): `hf_meta.authors[2].name`."""
    if isinstance(value, str):
        yield label, value
    elif depth < 8 and isinstance(value, dict):
        for key, item in value.items():
            yield from _nested(f"{label}.{key}", item, depth + 1)
    elif depth < 8 and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _nested(f"{label}[{i}]", item, depth + 1)


def _check_characters(record: PaperRecord) -> None:
    """No lone surrogate (not encodable as UTF-8) and no NUL (PostgreSQL refuses it) anywhere.
    One pass over all the text at once; labels are made only when something is wrong."""
    r = record
    parts = [v for v in (r.arxiv_id, r.title, r.abstract, r.comment, r.journal_ref, r.doi, r.report_no, r.license,
                         r.code_url, r.project_url) if v is not None]  # fmt: skip
    for author in r.authors:
        parts.append(author.name)
        if author.affiliations:
            parts.extend(author.affiliations)
    parts.extend(r.categories)
    parts.extend(text for _, text in _featured_texts(r))
    for name in _OTHER:
        value = getattr(r, name)
        if isinstance(value, str):
            parts.append(value)
        elif value is not None:
            parts.extend(text for _, text in _nested(name, value))
    joined = "\x1f".join(parts)
    if "\x00" not in joined and (joined.isascii() or _encodable(joined)):
        return
    for label, text in _texts(record):
        if "\x00" in text:
            raise InvalidRecord(f"{label} holds a NUL character (at character {text.index(chr(0)) + 1:,})")
        if not _encodable(text):
            at = next(i for i, ch in enumerate(text) if "\ud800" <= ch <= "\udfff")
            raise InvalidRecord(f"{label} holds a lone surrogate {shown(text[at])} (not valid Unicode) at character {at + 1:,}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check(record: PaperRecord) -> None:
    """Raise InvalidRecord naming the first field that breaks a rule: its type, its size against
    the cap, a lone surrogate or NUL in any text, a version or count out of range, a date arXiv
    cannot hold. Runs before cleaning, on the record as the source gave it."""
    _text("arxiv id", record.arxiv_id, 200)
    for name, cap in _TEXT_CAPS:
        value = getattr(record, name)
        if value is not None and (type(value) is not str or len(value) > cap):
            _text(name, value, cap)
    authors = record.authors
    if not isinstance(authors, list):
        raise InvalidRecord(f"authors must be a list, not {type(authors).__name__}")
    if len(authors) > MAX_AUTHORS:
        raise _too_big("authors", len(authors), MAX_AUTHORS, "names")
    for i, author in enumerate(authors, 1):  # labels are made only for a fault: this runs per author
        if type(author) is not Author:
            raise InvalidRecord(f"author {i} is not a name")
        if type(author.name) is not str or len(author.name) > MAX_AUTHOR_NAME:
            _text(f"author {i} name", author.name, MAX_AUTHOR_NAME)
        if author.affiliations:
            if len(author.affiliations) > MAX_AFFILIATIONS:
                raise _too_big(f"author {i} affiliations", len(author.affiliations), MAX_AFFILIATIONS, "entries")
            for j, aff in enumerate(author.affiliations, 1):
                _text(f"author {i} affiliation {j}", aff, MAX_AFFILIATION)
    if not isinstance(record.categories, list):
        raise InvalidRecord(f"categories must be a list, not {type(record.categories).__name__}")
    if len(record.categories) > MAX_CATEGORIES:
        raise _too_big("categories", len(record.categories), MAX_CATEGORIES, "entries")
    for i, cat in enumerate(record.categories, 1):
        if type(cat) is not str or len(cat) > MAX_CATEGORY_ENTRY:
            _text(f"categories entry {i}", cat, MAX_CATEGORY_ENTRY)
    featured = record.featured
    if featured is not None and featured.submitter is not None:
        _text("submitter", featured.submitter, MAX_SUBMITTER)
    for name in _OTHER:
        value = getattr(record, name)
        if isinstance(value, str):
            _text(name, value, MAX_OTHER_TEXT)
        elif isinstance(value, (list, tuple)):
            if len(value) > MAX_OTHER_ITEMS:
                raise _too_big(name, len(value), MAX_OTHER_ITEMS, "entries")
            for v in value:
                if isinstance(v, str):
                    _text(name, v, MAX_OTHER_TEXT)
    _check_characters(record)

    if record.version is not None and (type(record.version) is not int or not 1 <= record.version <= MAX_VERSION):
        raise InvalidRecord(f"version {shown(record.version, 30)} is not between 1 and {MAX_VERSION:,}")
    if len(record.versions) > MAX_VERSION:
        raise _too_big("versions", len(record.versions), MAX_VERSION, "entries")
    last = last_day()
    for v in record.versions:
        if type(v.version) is not int or not 1 <= v.version <= MAX_VERSION:
            raise InvalidRecord(f"version {shown(v.version, 30)} is not between 1 and {MAX_VERSION:,}")
        if v.submitted_at is not None:
            _check_day(f"version {v.version} date", v.submitted_at, last)
    if record.published_at is not None:
        _check_day("published date", record.published_at, last)
    if record.updated_at is not None:
        _check_day("updated date", record.updated_at, last)
    if record.listed is not None:
        _check_day("listing day", record.listed.day, last)
    if featured is not None:
        _check_day("featured day", featured.day, last)
        if featured.submitted_at is not None:
            _check_day("submission time", featured.submitted_at, last)
    if record.upvotes is not None or record.num_comments is not None:
        _count("upvotes", record.upvotes)
        _count("comment count", record.num_comments)
