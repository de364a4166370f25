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


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An error for a log line: one line, characters a terminal cannot take escaped, cut short."""
    text = " ".join(str(exc).split()).encode("utf-8", "backslashreplace").decode() or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
