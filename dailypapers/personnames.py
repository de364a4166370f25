"""People's names folded for matching, shared by search (index/names.py) and the author index
(store/authors.py, filled by ingest): accents folded (André -> andre, Łukasz -> lukasz, Nießner ->
niessner, Søren -> soren), lower case, surname first.

`key` is search's key of a name, every name kept ("Vishal M. Patel" and "Patel, Vishal M." ->
"patel vishal m"). `author_key` is the author pages' coarser key: the surname and the first
given name's initial ("Ashish Vaswani", "A. Vaswani", "ashish vaswani" -> "vaswani a"), so that a
page gathers the spellings one person's name takes on arXiv. It folds people who share a surname
and an initial too: the author page lists the variants it folded, so a reader sees it."""

from __future__ import annotations

import functools

import tantivy

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def analyzer() -> tantivy.TextAnalyzer:
    """Words of letters and digits, lower case, folded to ASCII (the `default` tokenizer's analysis
    plus folding)."""
    F = tantivy.Filter
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(F.remove_long(40))
        .filter(F.lowercase())
        .filter(F.ascii_fold())
        .build()
    )


FOLD = analyzer()


def words(text: str) -> list[str]:
    """The folded words of a name, as the authors field indexes them."""
    return FOLD.analyze(text)


def spelled(word: str) -> str:
    """A word as keys spell it: [0-9a-z] as they are, anything else as _ and its code point."""
    if word.isascii() and word.isalnum():
        return word
    return "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}" for c in word)


def _ordered(name: str) -> list[str]:
    """The folded words of a name, given names first, the surname last, suffixes dropped."""
    before, comma, after = name.partition(",")
    given = words(after) if comma else []
    if given and all(w in SUFFIXES for w in given):  # "John Smith, Jr."
        given = []
    found = given + words(before)  # "Patel, Vishal M." reads as "Vishal M. Patel"
    if len(found) >= 3 and found[-1] in SUFFIXES:
        found = found[:-1]
    return found


@functools.lru_cache(maxsize=1 << 16)  # authors recur: 433,449 names in the corpus, 177,084 distinct
def key(name: str) -> str | None:
    """The search index key of an author's name ("Vishal M. Patel" -> "patel vishal m"), or None
    for a name without letters or digits."""
    found = _ordered(name)
    if not found:
        return None
    return " ".join(spelled(w) for w in [found[-1], *found[:-1]])


AUTHOR_KEY_MAX = 120  # the author index's column width; longer keys are cut (still one page)


@functools.lru_cache(maxsize=1 << 16)
def author_key(name: str) -> str | None:
    """The author pages' key of a name: the folded surname and the first given name's initial
    ("Ashish Vaswani" -> "vaswani a", "Søren Kierkegaard" -> "kierkegaard s", "Plato" -> "plato"),
    or None for a name without letters or digits."""
    found = _ordered(name)
    if not found:
        return None
    out = spelled(found[-1])
    if len(found) > 1:
        out += " " + spelled(found[0][0])
    return out[:AUTHOR_KEY_MAX]
