"""Days, ISO weeks and months as the feed, the API and the digests name them (pure functions)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import DailyPapersError

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriod(DailyPapersError):
    """A date, week or month that does not parse (shown to users as a 400)."""


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

    def previous(self) -> "Period":
        if self.kind == "day":
            return day(self.start - dt.timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start - dt.timedelta(days=7))
        return month_of(self.start - dt.timedelta(days=1))

    def next(self) -> "Period":
        if self.kind == "day":
            return day(self.start + dt.timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start + dt.timedelta(days=7))
        return month_of(self.end + dt.timedelta(days=1))


def day(value: dt.date) -> Period:
    return Period("day", value, value)


def week_of(value: dt.date) -> Period:
    monday = value - dt.timedelta(days=value.weekday())
    return Period("week", monday, monday + dt.timedelta(days=6))


def month_of(value: dt.date) -> Period:
    first = value.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period("month", first, following - dt.timedelta(days=1))


def parse_day(text: str) -> Period:
    try:
        return day(dt.date.fromisoformat(text))
    except (TypeError, ValueError):
        raise BadPeriod(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_week(text: str) -> Period:
    m = WEEK.match(text or "")
    if not m:
        raise BadPeriod(f"not a week (YYYY-Www): {text!r}")
    try:
        return week_of(dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
    except ValueError:
        raise BadPeriod(f"no such week: {text!r}") from None


def parse_month(text: str) -> Period:
    m = MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise BadPeriod(f"not a month (YYYY-MM): {text!r}")
    return month_of(dt.date(int(m.group(1)), int(m.group(2)), 1))
