"""Helpers shared by the source parsers."""

from __future__ import annotations

import re
from functools import lru_cache

from ..types import Author, PaperRecord, RawRecord, Rejection

Item = PaperRecord | RawRecord | Rejection

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
