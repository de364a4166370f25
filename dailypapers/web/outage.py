"""The web side of a database outage: what a request gets while the database cannot be used, and
what the log says.

Every request still tries the database (recovery is immediate: the first request after it is back
succeeds; PostgreSQL's pool pings a connection before lending it and drops all of them after a
disconnect). One that fails because the database is away (errors.database_away) is answered 503
with Retry-After, and counted here instead of being logged with its traceback. The log of each web
process gets one WARNING when the database goes away, a summary every `every` seconds while it
stays away, and one INFO line when it is back: the first statement that succeeds afterwards, from
any thread of the process, says so. A database that is only busy (a SQLite lock held beyond the
busy timeout, no pooled connection free in time) is answered the same way and logged at most once
per `every` seconds, with a count, since such failures come and go between successful requests."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, event

from ..errors import one_line

RETRY_AFTER = 10  # seconds: about what a PostgreSQL restart takes
MESSAGE = "The database is unreachable for a moment; please try again in a few seconds."
FULL_MESSAGE = "The site cannot save anything right now (its storage is full); nothing was changed. Please try again later."
# What a failure of each kind is called in the log, for the kinds that come and go between
# successful requests (logged at most once per interval, with a count).
INTERMITTENT = {"busy": "database busy", "full": "database cannot write (disk full)"}


def message(kind: str) -> str:
    """What a visitor is told when the database is `kind` (errors.database_away)."""
    return FULL_MESSAGE if kind == "full" else MESSAGE


def retry_after(kind: str) -> int:
    return 60 if kind == "full" else RETRY_AFTER
log = logging.getLogger(__name__)


class Outage:
    """The database's availability as one web process sees it, and its log lines."""

    def __init__(self, engine: Engine, every: float, clock=time.monotonic):
        self.every = every
        self.clock = clock
        self.since: float | None = None  # when the database went away; None while it answers
        self.turned_away = 0  # requests answered 503 since then
        self._reported = 0.0  # when the last summary was written
        self._pending = {kind: 0 for kind in INTERMITTENT}  # such answers not yet logged
        self._logged: dict[str, float | None] = {kind: None for kind in INTERMITTENT}
        self._reason = ""  # the failure that began the outage
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._answered)

    def refused(self, kind: str, exc: BaseException) -> None:
        """A request is answered 503 because the database is `kind` ("unreachable", "busy" or "full")."""
        now = self.clock()
        with self._lock:
            if kind in INTERMITTENT:
                self._pending[kind] += 1
                last = self._logged[kind]
                if last is None or now - last >= self.every:
                    if last is None or now - last >= 2 * self.every:  # the first in a while
                        log.warning("%s: %s; answering 503 (said at most every %.0f s)", INTERMITTENT[kind], one_line(exc),
                                    self.every)
                    else:
                        log.warning("%s: %s; %s answered 503 in the last %.0f s", INTERMITTENT[kind], one_line(exc),
                                    _requests(self._pending[kind]), now - last)
                    self._pending[kind], self._logged[kind] = 0, now
                return
            if self.since is None:
                self.since, self.turned_away, self._reported, self._reason = now, 0, now, one_line(exc)
                log.warning("database unreachable: %s; answering 503 until it is back", self._reason)
            self.turned_away += 1
            if now - self._reported >= self.every:
                self._reported = now
                reason = one_line(exc)
                log.warning("database still unreachable after %.0f s; %s answered 503%s", now - self.since,
                            _requests(self.turned_away), "" if reason == self._reason else f" (now: {reason})")

    def _answered(self, *_args) -> None:
        """After every statement that succeeded (a SQLAlchemy event): the database is there."""
        if self.since is None:  # the common case: one attribute read
            return
        with self._lock:
            if self.since is None:
                return
            away = self.clock() - self.since
            log.info("database is back after %.1f s; %s answered 503", away, _requests(self.turned_away))
            self.since = None


def _requests(n: int) -> str:
    return f"{n:,} request{'' if n == 1 else 's'}"
