"""Sentences of an abstract, as arXiv gives it: hard line wraps, LaTeX, and the abbreviations of
scientific prose. Pure; what the extractive summary chooses from (summaries.py).

A sentence ends at ".", "?" or "!" (with any closing quote or bracket) followed by white space and a
capital, a digit, a quote, a bracket or a formula, unless the word before the stop is an
abbreviation ("e.g.", "et al.", "Fig.", "Eq.", "resp."), an initial ("J. Smith") or the stop lies inside
math (`$...$`, `\\(...\\)`, `\\[...\\]`). Decimals ("0.5", "4.64$\\times$") never split: a stop followed by
no space is not an end. Structured abstracts' headings ("Objective.", "Methods:") stay as the short
sentences they are; the summary skips sentences that short."""

from __future__ import annotations

import re

# Words that end with a stop but rarely end a sentence (compared in lower case, stop included).
ABBREVIATIONS = frozenset(
    """e.g. i.e. eg. ie. cf. vs. viz. al. etc. approx. resp. fig. figs. eq. eqs. sec. secs. tab. ref. refs.
    no. nos. vol. pp. ch. app. thm. def. prop. lem. cor. alg. dr. prof. mr. ms. mrs. st. jr. sr. inc. ltd.
    co. corp. univ. dept. est. min. max. avg. std. var. ca. c.f. w.r.t. a.k.a. et. seq. e.t.c. u.s. u.k.""".split()
)
# Abbreviations that, before a capital, still usually end the sentence ("..., and so on etc. We ...").
_ENDING_ABBREVIATIONS = frozenset({"etc.", "e.t.c."})
_WHITESPACE = re.compile(r"\s+")
# Math spans, longest delimiters first: their stops are no sentence ends.
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\]")
# A candidate end: the stop(s), closing quotes or brackets, white space, then what may start a sentence.
_END = re.compile(r"[.?!]+[\"'”’)\]]*(?=\s+[\"'“‘(\[$\\]?[A-Z0-9])")
_LAST_WORD = re.compile(r"(\S+)$")


def fold(text: str) -> str:
    """The abstract on one line: arXiv's hard wraps and indents folded to single spaces."""
    return _WHITESPACE.sub(" ", text or "").strip()


def _masked(text: str) -> str:
    """The text with every character inside math replaced by "X" (same length: a formula may start a sentence), so no stop inside a
    formula is taken for an end."""
    return _MATH.sub(lambda m: "X" * len(m.group(0)), text)


def _is_end(text: str, stop_at: int) -> bool:
    """Whether the stop at `stop_at` ends a sentence, judged by the word before it."""
    if text[stop_at] != ".":
        return True
    match = _LAST_WORD.search(text, 0, stop_at + 1)
    word = match.group(1).lower().lstrip("(\"'“‘[") if match else ""
    if word in _ENDING_ABBREVIATIONS:
        return True
    if word in ABBREVIATIONS:
        return False
    # An initial ("J." in "J. Smith", "A." in "Figure A. 3") or an enumerator with dots ("U.S.").
    bare = word.rstrip(".")
    if len(bare) == 1 and bare.isalpha():
        return False
    return not re.fullmatch(r"(?:[a-z]\.){2,}", word)


def split(text: str) -> list[str]:
    """The sentences of `text` in order, each on one line, none empty; the text when it has no ends."""
    flat = fold(text)
    if not flat:
        return []
    masked = _masked(flat)
    out: list[str] = []
    start = 0
    for match in _END.finditer(masked):
        if not _is_end(masked, match.start()):
            continue
        sentence = flat[start : match.end()].strip()
        if sentence:
            out.append(sentence)
        start = match.end()
    rest = flat[start:].strip()
    if rest:
        out.append(rest)
    return out


def words(sentence: str) -> int:
    """How many words a sentence has (a formula counts as one)."""
    return len(_masked(sentence).split())
