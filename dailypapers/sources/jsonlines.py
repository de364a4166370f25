"""JSON-lines sources: the daily listing files and the arXiv metadata snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO

from ..arxiv import parse_date, parse_datetime, parse_version
from ..errors import InvalidRecord, shown
from ..types import Author, Listed, PaperRecord, RawRecord, Rejection, VersionInfo
from .common import MAX_RECORD_BYTES, decode_latex_name, split_author_string


def load_object(raw: bytes | str) -> dict:
    """One JSON object, or InvalidRecord saying why not (deep nesting included: the decoder
    recurses, so a value nested thousands of levels deep raises RecursionError)."""
    try:
        obj = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4,300 digits
        raise InvalidRecord(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRecord("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise InvalidRecord("not a JSON object")
    return obj


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The stream's lines, each read at most `limit` bytes at a time: a longer line is skipped
    without ever being held whole, and comes out as None."""
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
            yield None
        else:
            yield line


def _raw_records(stream: IO[bytes], build: Callable[[dict], PaperRecord], kind: str) -> Iterator[RawRecord | Rejection]:
    """One RawRecord per non-blank line; parsing waits until ingest knows the line is new."""
    for lineno, raw in enumerate(_lines(stream, MAX_RECORD_BYTES), 1):
        if raw is None:
            yield Rejection(f"line {lineno}", f"longer than {MAX_RECORD_BYTES:,} bytes, the most a record may take")
            continue
        if raw.isspace():
            continue
        fingerprint = hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=16, person=kind.encode()).hexdigest()
        yield RawRecord(fingerprint, f"line {lineno}", partial(_build, build, raw, f"line {lineno}"))


def _build(build: Callable[[dict], PaperRecord], raw: bytes, position: str) -> PaperRecord:
    record = build(load_object(raw))
    record.position = position
    return record


def _require(obj: dict, *names: str) -> None:
    for name in names:
        if obj.get(name) in (None, "", []):
            raise InvalidRecord(f"missing field {name!r}")


def _str_or_none(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{name!r} must be text, not {type(value).__name__}")
    return value


def listing_record(obj: dict, source: str = "listing") -> PaperRecord:
    """One line of a daily listing file: id, title, authors, categories, comment, abstract/summary, listed."""
    abstract = obj.get("abstract") if obj.get("abstract") is not None else obj.get("summary")
    _require(obj, "id", "title")
    if not abstract:
        raise InvalidRecord("missing field 'abstract'")
    listed = obj.get("listed") or obj.get("date")
    if not listed:
        raise InvalidRecord("missing field 'listed'")
    authors = obj.get("authors") or []
    if isinstance(authors, str):
        author_list = split_author_string(authors)
    elif isinstance(authors, list) and all(isinstance(a, str) for a in authors):
        author_list = [Author(a) for a in authors]
    else:
        raise InvalidRecord("'authors' must be a list of names")
    cats = obj.get("categories") or []
    if isinstance(cats, str):
        cats = cats.split()
    if not isinstance(cats, list):
        raise InvalidRecord("'categories' must be a list")
    title = obj["title"]
    if not isinstance(title, str) or not isinstance(abstract, str):
        raise InvalidRecord("'title' and 'abstract' must be text")
    day = parse_date(str(listed))
    return PaperRecord(
        arxiv_id=str(obj["id"]),
        title=title,
        abstract=abstract,
        authors=author_list,
        categories=cats,
        comment=_str_or_none(obj, "comment"),
        listed=Listed(day=day, source="listing"),  # type: ignore[arg-type]
        source=source,
    )


def parse_listing(stream: IO[bytes]) -> Iterator[RawRecord]:
    return _raw_records(stream, listing_record, "listing")


def snapshot_record(obj: dict) -> PaperRecord:
    """One line of the arXiv metadata snapshot (the Kaggle arxiv-metadata-oai-snapshot.json)."""
    _require(obj, "id", "title", "abstract")
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = []
        for parts in parsed:
            if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
                raise InvalidRecord("'authors_parsed' must be a list of [keyname, forenames, suffix]")
            keyname, forenames, suffix = (list(parts) + ["", "", ""])[:3]
            name = " ".join(p for p in (forenames, keyname, suffix) if p)
            authors.append(Author(decode_latex_name(name)))
    else:
        names = obj.get("authors") or ""
        if not isinstance(names, str):
            raise InvalidRecord("'authors' must be text")
        authors = split_author_string(names)
    raw_versions = obj.get("versions") or []
    if not isinstance(raw_versions, list):
        raise InvalidRecord("'versions' must be a list")
    versions = []
    for v in raw_versions:
        label = v.get("version") if isinstance(v, dict) else None
        if type(label) is int:
            label = str(label)
        if not isinstance(label, str):
            raise InvalidRecord(f"bad version entry {shown(v)}")
        versions.append(VersionInfo(parse_version(label), parse_datetime(v.get("created"))))
    cats = obj.get("categories") or ""
    if not isinstance(cats, str):
        raise InvalidRecord("'categories' must be text")
    return PaperRecord(
        arxiv_id=str(obj["id"]),
        title=obj["title"],
        abstract=obj["abstract"],
        authors=authors,
        categories=cats.split(),
        comment=_str_or_none(obj, "comments"),
        journal_ref=_str_or_none(obj, "journal-ref"),
        doi=_str_or_none(obj, "doi"),
        report_no=_str_or_none(obj, "report-no"),
        license=_str_or_none(obj, "license"),
        versions=versions,
        source="snapshot",
    )


def parse_snapshot(stream: IO[bytes]) -> Iterator[RawRecord]:
    return _raw_records(stream, snapshot_record, "snapshot")
