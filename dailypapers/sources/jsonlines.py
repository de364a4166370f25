"""JSON-lines sources: the daily listing files and the arXiv metadata snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO

from ..ingest.normalize import InvalidRecord, parse_date, parse_datetime
from ..types import Author, Featured, PaperRecord, RawRecord, VersionInfo
from .common import decode_latex_name, split_author_string


def _load(raw: bytes) -> dict:
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRecord(f"invalid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidRecord("not a JSON object")
    return obj


def _raw_records(stream: IO[bytes], build: Callable[[dict], PaperRecord], kind: str) -> Iterator[RawRecord]:
    """One RawRecord per non-blank line; parsing waits until ingest knows the line is new."""
    for lineno, raw in enumerate(stream, 1):
        if raw.isspace():
            continue
        fingerprint = hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=16, person=kind.encode()).hexdigest()
        yield RawRecord(fingerprint, f"line {lineno}", partial(_build, build, raw, f"line {lineno}"))


def _build(build: Callable[[dict], PaperRecord], raw: bytes, position: str) -> PaperRecord:
    record = build(_load(raw))
    record.position = position
    return record


def _require(obj: dict, *names: str) -> None:
    for name in names:
        if obj.get(name) in (None, "", []):
            raise InvalidRecord(f"missing field {name!r}")


def _str_or_none(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"expected text, got {type(value).__name__}")
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
        categories=[str(c) for c in cats],
        comment=_str_or_none(obj.get("comment")),
        featured=Featured(day=day, source="listing"),  # type: ignore[arg-type]
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
            if not isinstance(parts, list):
                raise InvalidRecord("'authors_parsed' must be a list of [keyname, forenames, suffix]")
            keyname, forenames, suffix = (list(parts) + ["", "", ""])[:3]
            name = " ".join(p for p in (forenames, keyname, suffix) if p)
            authors.append(Author(decode_latex_name(name)))
    else:
        authors = split_author_string(obj.get("authors") or "")
    versions = []
    for v in obj.get("versions") or []:
        try:
            number = int(str(v["version"]).lstrip("v"))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRecord(f"bad version entry {v!r}") from exc
        versions.append(VersionInfo(number, parse_datetime(v.get("created"))))
    return PaperRecord(
        arxiv_id=str(obj["id"]),
        title=obj["title"],
        abstract=obj["abstract"],
        authors=authors,
        categories=(obj.get("categories") or "").split(),
        comment=_str_or_none(obj.get("comments")),
        journal_ref=_str_or_none(obj.get("journal-ref")),
        doi=_str_or_none(obj.get("doi")),
        report_no=_str_or_none(obj.get("report-no")),
        license=_str_or_none(obj.get("license")),
        versions=versions,
        source="snapshot",
    )


def parse_snapshot(stream: IO[bytes]) -> Iterator[RawRecord]:
    return _raw_records(stream, snapshot_record, "snapshot")
