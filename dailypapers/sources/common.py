"""Helpers shared by the source parsers."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from functools import lru_cache
from typing import IO

from lxml import etree

from ..errors import InvalidRecord
from ..types import Author, PaperRecord, RawRecord, Rejection

Item = PaperRecord | RawRecord | Rejection

# A whole number in a paging field (longer ones are not numbers arXiv would send).
COUNT = re.compile(r"[0-9]{1,15}")

# One record of a JSON-lines file or one item of an HF file, before it is parsed.
MAX_RECORD_BYTES = 16 << 20

_AND = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


@lru_cache(maxsize=1)
def _latex():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim")


def decode_latex_name(name: str) -> str:
    """Author names arrive with TeX accents (Bal\\'azs); people read Balázs."""
    if "\\" not in name and "{" not in name:
        return name
    try:
        return _latex().latex_to_text(name).strip() or name
    except Exception:  # noqa: BLE001 - a name that is not valid TeX stays as written
        return name


def split_author_string(authors: str) -> list[Author]:
    """'A. One, B. Two and C. Three' -> three authors (parenthesized affiliations dropped from names)."""
    depth = 0
    cleaned = []
    for ch in authors:  # drop "(affiliation)" parts, which may contain commas
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            cleaned.append(ch)
    text = re.sub(r"\s+", " ", "".join(cleaned)).strip()
    return [Author(decode_latex_name(n.strip())) for n in _AND.split(text) if n.strip()]


def xml_text(element, path: str, ns: dict[str, str]) -> str | None:
    found = element.find(path, ns)
    if found is None or found.text is None:
        return None
    return found.text


def xml_records(
    stream: IO[bytes],
    record_tag: str,
    label: str,
    make: Callable[[object], PaperRecord | None],
    other: Callable[[object], None] | None = None,
) -> Generator[Item, None, bool]:
    """Stream an XML response's records: each `record_tag` element made a record by `make` (None:
    skipped, InvalidRecord: a rejection at `label N (line L)`), and freed once read; every other
    element handed to `other` (paging facts, errors). Returns False when a syntax error cut the
    document short (the rest is one rejection)."""
    index = 0
    try:
        for _event, element in etree.iterparse(stream, events=("end",), huge_tree=True, resolve_entities=False):
            if element.tag == record_tag:
                index += 1
                position = f"{label} {index} (line {element.sourceline})"
                try:
                    record = make(element)
                    if record is not None:
                        record.position = position
                        yield record
                except InvalidRecord as exc:
                    yield Rejection(position, str(exc))
                element.clear()
            elif other is not None:
                other(element)
    except etree.XMLSyntaxError as exc:
        yield Rejection(f"line {exc.lineno}", f"XML syntax error, the rest of the file is unreadable: {' '.join(exc.msg.split())}")
        return False
    return True
