"""Similar papers, the pure part: which neighbours count (the best ones, above a cosine that means
related) and the words that make the full-text fallback query. Finding the neighbours, stored or
computed, is neighbours.py's."""

from __future__ import annotations

import re

from ..types import PaperCard

MIN_COSINE = 0.3  # below this, all-MiniLM-L6-v2 neighbours are unrelated papers, not similar ones
LEXICAL_WORDS = 48  # words of title and abstract that make the full-text fallback query
_WORD = re.compile(r"\w+")


def pick(neighbours: list[tuple[int, float]], limit: int, *, exclude: int, min_score: float = MIN_COSINE) -> list[tuple[int, float]]:
    """The best `limit` neighbours, without the paper itself and without weak ones; best first."""
    out = [(pid, score) for pid, score in neighbours if pid != exclude and score >= min_score]
    out.sort(key=lambda s: (-s[1], s[0]))
    return out[:limit]


def lexical_words(paper: PaperCard) -> list[str]:
    """The words of the paper's title and the start of its abstract (the full-text fallback query)."""
    return _WORD.findall(f"{paper.title or ''} {paper.abstract or ''}".lower())[:LEXICAL_WORDS]
