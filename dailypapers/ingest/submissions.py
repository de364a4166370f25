"""Members' submissions: the rules a paper must meet to be featured on a day, and featuring it.
Used by the web when the paper is in the store, and by the fetch job when it arrives later."""

from __future__ import annotations

import calendar
import datetime as dt

from ..arxiv import id_month
from ..errors import DailyPapersError, InvalidRecord
from ..store import daily as daily_store
from ..store import kv
from ..types import PaperCard


class Refused(DailyPapersError):
    """A submission the rules do not allow; the message says why."""


def _submitted_by(paper: PaperCard) -> tuple[dt.date, str] | None:
    """The latest day the paper can have reached arXiv, and how that is known: its publication
    date, or, when the store lacks one, the last day of the month its id names."""
    published = paper.published_at
    if published is not None:
        return published.date(), f"on {published.date().isoformat()}"
    try:
        year, month = id_month(paper.arxiv_id)
    except InvalidRecord:
        return None
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last, f"in {year:04d}-{month:02d} (its id says so)"


def check(session, paper: PaperCard, *, is_curator: bool, day: dt.date, window: int) -> None:
    """Raise Refused with the reason when the paper may not be featured on `day`: featured within
    the last `window` days, or (unless a curator asks) reached arXiv more than `window` days before."""
    last = daily_store.featured_since(session, paper.id, day - dt.timedelta(days=window - 1))
    if last is not None:
        raise Refused(f"{paper.arxiv_id} was already featured on {last.isoformat()}, within the last {window} days.")
    if is_curator:
        return
    known = _submitted_by(paper)
    if known is not None and known[0] < day - dt.timedelta(days=window):
        raise Refused(
            f"{paper.arxiv_id} was submitted to arXiv {known[1]}, more than {window} days ago; "
            "only curators can feature older papers."
        )


def feature(session, paper: PaperCard, *, user: dict, day: dt.date, submitted_at: dt.datetime, window: int) -> None:
    """Check the rules and put the paper on `day`'s feed, submitted by `user`, in the caller's
    transaction. Raises Refused."""
    check(session, paper, is_curator=bool(user["is_curator"]), day=day, window=window)
    daily_store.add_submission(session, paper.id, day, user["id"], submitted_at)
    kv.bump(session)
