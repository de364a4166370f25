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
