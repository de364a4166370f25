"""Errors a user can act on. The CLI prints them as one line; the web layer maps them to 4xx."""


class DailyPapersError(Exception):
    """Base class: the message is shown to the user as it is, and the command exits with `exit_code`."""

    exit_code = 1


class UnknownFormatError(DailyPapersError):
    """An input file is in none of the formats `dailypapers ingest` knows."""


class SourceError(DailyPapersError):
    """An upstream source answered with an error or could not be reached."""


class NotFoundError(DailyPapersError):
    """The thing asked for does not exist."""


class ConfigError(DailyPapersError):
    """A setting has a value that cannot work."""


class InvalidRecord(ValueError):
    """A record that breaks a rule; the message is the reason shown to the user."""


def shown(value, limit: int = 60) -> str:
    """A value for an error message: its repr (control characters and surrogates escaped), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def expected(exc: BaseException) -> bool:
    """Failures of the world rather than of the code: an upstream or the network down, bad input,
    the database unreachable. Background work logs them in one line; anything else with its
    traceback."""
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, (DailyPapersError, OSError, OperationalError)) or database_away(exc) is not None


# SQLSTATEs of a PostgreSQL that is going away or not there yet: class 08 (connection exception),
# admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections.
_PG_AWAY = ("08", "57P01", "57P02", "57P03", "53300")
# What SQLite says when its file cannot be used now (busy beyond the busy timeout, unreadable).
_SQLITE_AWAY = ("unable to open database file", "database is locked", "disk i/o error", "database table is locked")


def database_away(exc: BaseException) -> str | None:
    """Whether `exc` says the database cannot be used right now rather than that the code is wrong:
    "unreachable" (PostgreSQL stopped, restarting, out of connections or the connection lost; a
    SQLite file that cannot be opened), "busy" (a SQLite lock held beyond the busy timeout; no
    pooled connection free in time), "full" (its disk is full: reads work, writes fail), or None
    (a bug, a constraint: a 500). The web app answers the others with 503 (web/outage.py)."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return "busy"
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return "unreachable"
        exc = exc.orig if exc.orig is not None else exc
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith("sqlite3") or module == "_sqlite3":
        if name != "OperationalError":
            return None
        text = str(exc).lower()
        if text.startswith("database or disk is full"):
            return "full"
        if not text.startswith(_SQLITE_AWAY):
            return None
        return "busy" if "locked" in text else "unreachable"
    if module.startswith("psycopg"):
        if name in ("InterfaceError", "PoolTimeout"):
            return "unreachable"
        state = getattr(exc, "sqlstate", None)
        if state is None:  # raised by the client, not the server: no connection, or it broke
            return "unreachable" if name == "OperationalError" else None
        if state == "53100":  # disk_full
            return "full"
        return "unreachable" if state.startswith(_PG_AWAY) else None
    return None


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The failure for a log line: our errors say it all, others are named by their type; one line
    (a driver's multi-line message keeps its first), characters a terminal cannot take escaped, cut
    short."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    first = (str(exc).strip().splitlines() or [""])[0]
    text = " ".join(first.split()).encode("utf-8", "backslashreplace").decode()
    if not isinstance(exc, DailyPapersError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
