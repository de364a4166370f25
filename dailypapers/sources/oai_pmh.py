"""arXiv OAI-PMH responses, in the `arXiv` and `arXivRaw` metadata formats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from ..arxiv import parse_date, parse_datetime, parse_version
from ..errors import InvalidRecord
from ..types import Author, Listed, PaperRecord, Rejection, VersionInfo
from .common import COUNT, Item, decode_latex_name, split_author_string, xml_records, xml_text

OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW = "http://arxiv.org/OAI/arXivRaw/"
NS = {"oai": OAI, "ax": ARXIV, "raw": ARXIV_RAW}


class PageInfo:
    """What a response said besides its records: the resumption token and any OAI-PMH error."""

    resumption_token: str | None = None
    complete_list_size: int | None = None
    error_code: str | None = None
    error_message: str | None = None


# The record's fields both metadata formats hold in elements of the same names.
_OPTIONAL = {"comment": "comments", "journal_ref": "journal-ref", "doi": "doi", "report_no": "report-no", "license": "license"}


def _shared_fields(meta, prefix: str) -> dict:
    """What the arXiv (`ax`) and arXivRaw (`raw`) formats say alike: id, title, abstract,
    categories and the optional bibliographic fields."""
    return {
        "arxiv_id": (xml_text(meta, f"{prefix}:id", NS) or "").strip(),
        "title": xml_text(meta, f"{prefix}:title", NS) or "",
        "abstract": xml_text(meta, f"{prefix}:abstract", NS) or "",
        "categories": (xml_text(meta, f"{prefix}:categories", NS) or "").split(),
        **{field: xml_text(meta, f"{prefix}:{tag}", NS) for field, tag in _OPTIONAL.items()},
        "source": "oai-pmh",
    }


def _arxiv_format(meta) -> PaperRecord:
    authors = []
    for author in meta.findall("ax:authors/ax:author", NS):
        keyname = (xml_text(author, "ax:keyname", NS) or "").strip()
        forenames = (xml_text(author, "ax:forenames", NS) or "").strip()
        suffix = (xml_text(author, "ax:suffix", NS) or "").strip()
        name = " ".join(p for p in (forenames, keyname, suffix) if p)
        affs = tuple(a.text.strip() for a in author.findall("ax:affiliation", NS) if a.text and a.text.strip())
        if name:
            authors.append(Author(decode_latex_name(name), affs))
    created = parse_datetime(xml_text(meta, "ax:created", NS))
    updated = parse_datetime(xml_text(meta, "ax:updated", NS))
    return PaperRecord(
        **_shared_fields(meta, "ax"),
        authors=authors,
        published_at=created,
        updated_at=updated,
        versions=[VersionInfo(1, created)] if created else [],
        # The arXiv format dates the first and the latest version but does not number the latest.
        versions_complete=updated is None,
    )


def _arxiv_raw_format(meta) -> PaperRecord:
    versions = []
    for v in meta.findall("raw:version", NS):
        versions.append(VersionInfo(parse_version(v.get("version") or ""), parse_datetime(xml_text(v, "raw:date", NS))))
    return PaperRecord(
        **_shared_fields(meta, "raw"),
        authors=split_author_string(xml_text(meta, "raw:authors", NS) or ""),
        versions=versions,
    )


# A record whose first version is at most this old at its datestamp is a new paper, announced that day.
NEW_PAPER_DAYS = 7


def record_from(element) -> PaperRecord | None:
    """A record from an OAI <record>; None for a record deleted upstream. A new paper is also
    listed on the day of its datestamp, like a paper in the daily listing."""
    header = element.find("oai:header", NS)
    if header is not None and header.get("status") == "deleted":
        return None
    meta = element.find("oai:metadata/ax:arXiv", NS)
    if meta is not None:
        record = _arxiv_format(meta)
    else:
        meta = element.find("oai:metadata/raw:arXivRaw", NS)
        if meta is None:
            raise InvalidRecord("record has neither arXiv nor arXivRaw metadata")
        record = _arxiv_raw_format(meta)
    stamp = parse_date(xml_text(header, "oai:datestamp", NS)) if header is not None else None
    first = record.versions[0].submitted_at if record.versions else record.published_at
    if stamp is not None and first is not None and 0 <= (stamp - first.date()).days <= NEW_PAPER_DAYS:
        record.listed = Listed(day=stamp, source="arxiv")
    return record


def parse(stream: IO[bytes], info: PageInfo | None = None) -> Iterator[Item]:
    info = info if info is not None else PageInfo()

    def header(element) -> None:
        if element.tag == f"{{{OAI}}}resumptionToken":
            info.resumption_token = (element.text or "").strip() or None
            size = element.get("completeListSize")
            info.complete_list_size = int(size) if size and COUNT.fullmatch(size) else None
        elif element.tag == f"{{{OAI}}}error":
            info.error_code = element.get("code")
            info.error_message = " ".join((element.text or "").split())

    if not (yield from xml_records(stream, f"{{{OAI}}}record", "record", record_from, header)):
        return
    if info.error_code and info.error_code != "noRecordsMatch":
        yield Rejection("response", f"OAI-PMH error {info.error_code}: {info.error_message}")
