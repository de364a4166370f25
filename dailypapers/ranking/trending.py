"""Trending: papers ranked by a time-decayed upvote score (its formula: trending_formula.py);
ties go to the one with more votes, then the newer one. Pure: same inputs, same order."""

from __future__ import annotations

import datetime as dt

from ..trending_formula import DEFAULT_GRAVITY, score

__all__ = ["DEFAULT_GRAVITY", "rank", "score"]


def rank(items: list[tuple[str, int, dt.datetime | None]], now: dt.datetime, gravity: float = DEFAULT_GRAVITY) -> list[tuple[str, float]]:
    """(id, upvotes, featured_at) -> [(id, score)] best first, ties by votes then recency then id."""
    scored = [(pid, score(votes, at, now, gravity), votes, at or dt.datetime.min) for pid, votes, at in items]
    scored.sort(key=lambda s: (-s[1], -s[2], -s[3].timestamp() if s[3] != dt.datetime.min else 0, s[0]))
    return [(pid, sc) for pid, sc, _votes, _at in scored]
