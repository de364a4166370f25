"""Author names for search: accents folded (André -> andre, Łukasz -> lukasz, Nießner -> niessner,
Søren -> soren) and initials matched (V. M. Patel finds Vishal M. Patel but not Vishal Q. Patel).

Each author of a paper is indexed as one key: the surname, then the other names in order, folded and
lower-cased ("Vishal M. Patel" and "Patel, Vishal M." -> "patel vishal m"; "Adrian Del Maestro" ->
"maestro adrian del"; a trailing Jr./III is dropped). A name in a query becomes a regular expression
over the keys (`pattern`): the surname exact; each other name, in order, in full (or as the
paper's own initial of it) or, given as an initial, any name it starts. Initials in the query, or a
comma form (Patel, V.), anchor the first of them to the author's first name; full names alone
(Del Maestro, Vishal Patel) may skip names between. arXiv's surname-first forms (Patel_V, Patel V M)
are read as such. A one-word name matches any word of any author's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..personnames import FOLD, SUFFIXES, analyzer, key, words
from ..personnames import spelled as _spelled
from .querytree import BadQuery

__all__ = ["ANALYZER_NAME", "FOLD", "analyzer", "key", "pattern", "words"]

ANALYZER_NAME = "author_name"  # the authors field's tokenizer, registered on every index
MAX_NAME_WORDS = 10
# Keys are spelled in [0-9a-z_] only (what folding leaves outside ASCII is written as _hex), so the
# expressions over them use a small character class: with [^ ] instead, a name of four initials
# took 20 ms and one of eleven outgrew tantivy's automaton limit; like this, 0.3 ms and 5 ms.
_LETTER = "[0-9a-z_]"
_GAP = f"(?: {_LETTER}+)*"  # any further names


@dataclass(frozen=True)
class _Part:
    word: str
    initial: bool  # V or V. (or an abbreviation such as Th.): any name it starts


def _parts(text: str) -> list[_Part]:
    out = []
    for piece in text.split():
        found = words(piece)
        for i, word in enumerate(found):
            out.append(_Part(word, len(word) == 1 or (piece.endswith(".") and i == len(found) - 1)))
    return out


def pattern(name: str) -> tuple[str, str] | None:
    """How to find an author named in a query: ("word", w) for a one-word name (any word of any
    author's name), ("keys", regex) for a regular expression over the author keys; None when the
    name has no letters or digits. Raises BadQuery for a name too long to be one."""
    before, comma, after = name.partition(",")
    head, tail = _parts(before), _parts(after) if comma else []
    if tail and all(p.word in SUFFIXES for p in tail):
        tail = []
    if tail:  # Patel, V. M.
        surname, given, anchored = [p.word for p in head], tail, True
    else:
        parts = head
        if len(parts) >= 3 and parts[-1].word in SUFFIXES:
            parts = parts[:-1]
        lead = next((i for i, p in enumerate(parts) if p.initial), len(parts))
        if 0 < lead < len(parts) and all(p.initial for p in parts[lead:]):  # Patel_V, Patel V M
            surname, given = [p.word for p in parts[:lead]], parts[lead:]
        else:
            surname, given = [p.word for p in parts[-1:]], parts[:-1]
        anchored = any(p.initial for p in given)
    count = len(surname) + len(given)
    if count == 0:
        return None
    if count > MAX_NAME_WORDS:
        raise BadQuery(f"an author's name has at most {MAX_NAME_WORDS} words")
    if count == 1:
        return "word", (surname or [given[0].word])[0]
    if not surname:  # ", V." alone
        surname, given = [given[-1].word], given[:-1]
    others = [_spelled(p.word) + f"{_LETTER}*" if p.initial else f"(?:{_spelled(p.word)}|{_spelled(p.word[0])})" for p in given]
    others += [_spelled(w) for w in surname[:-1]]  # particles: Del Maestro, van der Waals
    regex = _spelled(surname[-1])
    if anchored and others:
        regex += " " + others[0] + "".join(f"{_GAP} {p}" for p in others[1:])
    else:
        regex += "".join(f"{_GAP} {p}" for p in others)
    return "keys", regex + _GAP
