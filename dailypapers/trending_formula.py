"""The trending score's formula, at the ground: the store sorts the feed by it and ranking/trending.py
ranks with it, and the store may not import ranking.

    score = upvotes / (age_days + 1) ** gravity

where age_days is the time since the paper was featured, in days (fractional). With the default
gravity of 1.5, a paper's score halves in its first 14 hours and falls to a third after a day, so a
fresh paper with a few votes can pass an older one with many, but a week-old paper needs about
eight times the votes of a day-old one to rank beside it. Papers without votes score 0. Pure: same
inputs, same score.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_GRAVITY = 1.5


def score(upvotes: int, featured_at: dt.datetime | None, now: dt.datetime, gravity: float = DEFAULT_GRAVITY) -> float:
    """The trending score of a paper with `upvotes`, featured at `featured_at` (naive UTC), at `now`."""
    if upvotes <= 0 or featured_at is None:
        return 0.0
    age_days = max(0.0, (now - featured_at).total_seconds() / 86400.0)
    return upvotes / (age_days + 1.0) ** gravity
