"""arXiv export API responses (Atom feeds from export.arxiv.org/api/query)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from ..arxiv import parse_datetime, split_arxiv_id
from ..errors import InvalidRecord
from ..types import Author, PaperRecord, VersionInfo
from .common import COUNT, Item, xml_records, xml_text

ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM, "arxiv": "http://arxiv.org/schemas/atom", "os": "http://a9.com/-/spec/opensearch/1.1/"}


class FeedInfo:
    """Paging facts from the feed header, filled while parsing."""

    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None


def entry_record(entry) -> PaperRecord:
    raw_id = xml_text(entry, "a:id", NS) or ""
    if "/api/errors" in raw_id:
        raise InvalidRecord(f"arXiv API error: {' '.join((xml_text(entry, 'a:summary', NS) or 'unknown').split())[:300]}")
    arxiv_id, version = split_arxiv_id(raw_id)
    authors = []
    for author in entry.findall("a:author", NS):
        name = xml_text(author, "a:name", NS)
        if name:
            affs = tuple(a.text.strip() for a in author.findall("arxiv:affiliation", NS) if a.text and a.text.strip())
            authors.append(Author(name, affs))
    primary = entry.find("arxiv:primary_category", NS)
    cats = [primary.get("term")] if primary is not None and primary.get("term") else []
    cats += [c.get("term") for c in entry.findall("a:category", NS) if c.get("term")]
    published = parse_datetime(xml_text(entry, "a:published", NS))
    updated = parse_datetime(xml_text(entry, "a:updated", NS))
    versions = [VersionInfo(1, published)]
    if version and version > 1:
        versions.append(VersionInfo(version, updated))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=xml_text(entry, "a:title", NS) or "",
        abstract=xml_text(entry, "a:summary", NS) or "",
        authors=authors,
        categories=cats,
        comment=xml_text(entry, "arxiv:comment", NS),
        journal_ref=xml_text(entry, "arxiv:journal_ref", NS),
        doi=xml_text(entry, "arxiv:doi", NS),
        published_at=published,
        updated_at=updated if version and version > 1 else None,
        versions=versions,
        source="arxiv-api",
    )


def parse(stream: IO[bytes], info: FeedInfo | None = None) -> Iterator[Item]:
    """Yield a record (or a rejection) per entry; paging facts go into `info`."""

    def paging(element) -> None:
        tag = element.tag
        if info is None or not tag.startswith(f"{{{NS['os']}}}") or not element.text:
            return
        text = element.text.strip()
        if not COUNT.fullmatch(text):
            return  # paging facts that are not numbers are left unknown
        name = tag.split("}", 1)[1]
        if name in _PAGING:
            setattr(info, _PAGING[name], int(text))

    yield from xml_records(stream, f"{{{ATOM}}}entry", "entry", entry_record, paging)


# The feed header's paging facts, by element name.
_PAGING = {"totalResults": "total_results", "startIndex": "start_index", "itemsPerPage": "items_per_page"}
