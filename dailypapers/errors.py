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


def expected(exc: BaseException) -> bool:
    """Failures of the world rather than of the code: an upstream or the network down, bad input,
    the database unreachable. Background work logs them in one line; anything else with its
    traceback."""
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, (DailyPapersError, OSError, OperationalError))


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The failure for a log line: our errors say it all, others are named by their type; one line
    (a driver's multi-line message keeps its first), characters a terminal cannot take escaped, cut
    short."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError) and exc.orig is not None:
        exc = exc.orig
    first = (str(exc).strip().splitlines() or [""])[0]
    text = " ".join(first.split()).encode("utf-8", "backslashreplace").decode()
    if not isinstance(exc, DailyPapersError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
