"""Days, ISO weeks and months as the feed, the API and the digests name them (pure functions).

The site serves the days arXiv can have: from 1991-01-01 (arXiv began in August 1991) to the end of
next year. A well-formed date, week or month outside that is a BadPeriod (a 400 with the range in
its message), and a period's neighbours beyond it are None, so no date arithmetic can overflow
(Python's dates end at 9999-12-31) and no page links outside the range."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from .errors import DailyPapersError

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


FIRST_DAY = dt.date(1991, 1, 1)


class BadPeriod(DailyPapersError):
    """A date, week or month that does not parse or is out of range (shown to users as a 400)."""


def last_day(today: dt.date | None = None) -> dt.date:
    """The last day the site serves: 31 December of next year."""
    return dt.date((today or dt.date.today()).year + 1, 12, 31)


def in_range(period: "Period") -> bool:
    """Whether any day of the period is one the site serves."""
    return period.end >= FIRST_DAY and period.start <= last_day()


def _out_of_range(text: str) -> BadPeriod:
    return BadPeriod(f"{text!r} is outside the dates this site serves ({FIRST_DAY.isoformat()} to {last_day().isoformat()})")


def _year_ok(year: int) -> bool:
    """Checked before any arithmetic, so that years near 1 or 9999 never reach it."""
    return FIRST_DAY.year - 1 <= year <= last_day().year


@dataclass(frozen=True)
class Period:
    kind: str  # day | week | month
    start: dt.date
    end: dt.date  # inclusive

    @property
    def key(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A, %-d %B %Y")
        if self.kind == "week":
            return f"Week {self.key[-2:]} of {self.start.isocalendar()[0]} ({self.start:%-d %b} – {self.end:%-d %b %Y})"
        return self.start.strftime("%B %Y")

    @property
    def path(self) -> str:
        return {"day": "/date/", "week": "/week/", "month": "/month/"}[self.kind] + self.key

    def previous(self) -> "Period | None":
        """The period before, or None when it would be outside the dates the site serves."""
        if self.start <= FIRST_DAY:
            return None
        if self.kind == "day":
            return day(self.start - dt.timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start - dt.timedelta(days=7))
        return month_of(self.start - dt.timedelta(days=1))

    def next(self) -> "Period | None":
        """The period after, or None when it would be outside the dates the site serves."""
        if self.end >= last_day():
            return None
        if self.kind == "day":
            return day(self.start + dt.timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start + dt.timedelta(days=7))
        return month_of(self.end + dt.timedelta(days=1))


def day(value: dt.date) -> Period:
    return Period("day", value, value)


def week_of(value: dt.date) -> Period:
    monday = value - dt.timedelta(days=value.weekday())
    # The last week of year 9999 would end in year 10000: stop at the last date Python has.
    return Period("week", monday, monday + dt.timedelta(days=min(6, (dt.date.max - monday).days)))


def month_of(value: dt.date) -> Period:
    return Period("month", value.replace(day=1), value.replace(day=calendar.monthrange(value.year, value.month)[1]))


def parse_day(text: str) -> Period:
    try:
        value = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadPeriod(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not FIRST_DAY <= value <= last_day():
        raise _out_of_range(text)
    return day(value)


def parse_week(text: str) -> Period:
    m = WEEK.match(text or "")
    if not m:
        raise BadPeriod(f"not a week (YYYY-Www): {text!r}")
    if not _year_ok(int(m.group(1))):
        raise _out_of_range(text)
    try:
        period = week_of(dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
    except ValueError:
        raise BadPeriod(f"no such week: {text!r}") from None
    if not in_range(period):
        raise _out_of_range(text)
    return period


def parse_month(text: str) -> Period:
    m = MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise BadPeriod(f"not a month (YYYY-MM): {text!r}")
    if not _year_ok(int(m.group(1))):
        raise _out_of_range(text)
    period = month_of(dt.date(int(m.group(1)), int(m.group(2)), 1))
    if not in_range(period):
        raise _out_of_range(text)
    return period


def served_month(text: str) -> Period | None:
    """The month, or None when it does not parse or is outside the dates the site serves (for
    months read from stored data, such as search facets)."""
    try:
        return parse_month(text)
    except BadPeriod:
        return None
