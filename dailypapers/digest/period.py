"""The periods digests cover, and when each is due (pure functions).

Daily digests go out on weekdays, as Hugging Face sends them: the digest sent on a weekday covers
the previous weekday's papers, and Monday's also covers the weekend (a Friday period spans Friday to
Sunday). So every day belongs to exactly one daily period and no daily digest is sent at weekends.
Weekly digests cover the previous ISO week (Monday to Sunday) and go out on the configured weekday.
Each is due at the configured local time; a sender that was down catches up with the latest period
due, never an older one (those are history)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import periods
from ..errors import DailyPapersError

CADENCES = ("daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DigestPeriod:
    """The days one digest covers, inclusive."""

    cadence: str  # daily | weekly
    start: dt.date
    end: dt.date

    @property
    def key(self) -> str:
        """The period's name in the deliveries table: daily:2026-11-27 or weekly:2026-W48."""
        if self.cadence == "daily":
            return f"daily:{self.start.isoformat()}"
        year, week, _ = self.start.isocalendar()
        return f"weekly:{year}-W{week:02d}"

    @property
    def label(self) -> str:
        if self.cadence == "daily":
            if self.end != self.start:
                return f"{self.start:%A, %-d %B %Y} and the weekend"
            return f"{self.start:%A, %-d %B %Y}"
        return periods.week_of(self.start).label

    @property
    def covered_until(self) -> dt.datetime:
        """The exclusive end of the span, as a naive datetime (subscriptions' last_digest_at)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())

    def previous(self) -> "DigestPeriod":
        return containing(self.cadence, self.start - dt.timedelta(days=1))

    def due_at(self, tz: ZoneInfo, at: str, weekday: str = "monday") -> dt.datetime:
        """When the digest for this period goes out (aware, in `tz`)."""
        hour, minute = _hhmm(at)
        if self.cadence == "daily":
            day = self.end + dt.timedelta(days=1)  # the weekday after the span
        else:
            day = self.end + dt.timedelta(days=1 + WEEKDAYS.index(weekday))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def containing(cadence: str, day: dt.date) -> DigestPeriod:
    """The period a day belongs to."""
    if cadence == "daily":
        start = day - dt.timedelta(days=max(0, day.weekday() - 4))  # Saturday and Sunday belong to Friday
        end = start + dt.timedelta(days=3 if start.weekday() == 4 else 1) - dt.timedelta(days=1)
        return DigestPeriod("daily", start, end)
    if cadence == "weekly":
        week = periods.week_of(day)
        return DigestPeriod("weekly", week.start, week.end)
    raise DailyPapersError(f"cadence must be daily or weekly, not {cadence!r}")


def latest_due(cadence: str, now: dt.datetime, tz: ZoneInfo, at: str, weekday: str = "monday") -> DigestPeriod:
    """The latest period whose digest is due at `now` (aware)."""
    local = now.astimezone(tz)
    period = containing(cadence, local.date())
    while period.due_at(tz, at, weekday) > local:
        period = period.previous()
    return period


def parse(cadence: str, text: str) -> DigestPeriod:
    """A period from the command line: a day (the period containing it) or, for weekly, 2026-W48."""
    try:
        if cadence == "weekly" and "-W" in text:
            return containing("weekly", periods.parse_week(text).start)
        return containing(cadence, periods.parse_day(text).start)
    except periods.BadPeriod as exc:
        raise DailyPapersError(f"--period: {exc}") from None


def _hhmm(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(x) for x in value.split(":"))
        dt.time(hour, minute)
    except ValueError:
        raise DailyPapersError(f"not a time of day (HH:MM): {value!r}") from None
    return hour, minute
