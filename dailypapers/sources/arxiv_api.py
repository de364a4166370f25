"""arXiv export API responses (Atom feeds from export.arxiv.org/api/query)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from lxml import etree

from ..arxiv import parse_datetime, split_arxiv_id
from ..errors import InvalidRecord
from ..types import Author, PaperRecord, Rejection, VersionInfo
from .common import Item, xml_text

ATOM = "http://www.w3.org/2005/Atom"
_COUNT = re.compile(r"[0-9]{1,15}")
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
    index = 0
    try:
        for _event, element in etree.iterparse(stream, events=("end",), huge_tree=True, resolve_entities=False):
            tag = element.tag
            if tag == f"{{{ATOM}}}entry":
                index += 1
                position = f"entry {index} (line {element.sourceline})"
                try:
                    record = entry_record(element)
                    record.position = position
                    yield record
                except InvalidRecord as exc:
                    yield Rejection(position, str(exc))
                element.clear()
            elif info is not None and tag.startswith(f"{{{NS['os']}}}") and element.text:
                name = tag.split("}", 1)[1]
                text = element.text.strip()
                if not _COUNT.fullmatch(text):
                    continue  # paging facts that are not numbers are left unknown
                value = int(text)
                if name == "totalResults":
                    info.total_results = value
                elif name == "startIndex":
                    info.start_index = value
                elif name == "itemsPerPage":
                    info.items_per_page = value
    except etree.XMLSyntaxError as exc:
        yield Rejection(f"line {exc.lineno}", f"XML syntax error, the rest of the file is unreadable: {' '.join(exc.msg.split())}")
