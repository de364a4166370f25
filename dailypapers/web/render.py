"""Templates and the filters they use. Autoescaping is on everywhere: titles and abstracts are full
of `<`, `&` and LaTeX, and are shown as text (KaTeX then typesets the math in the browser)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ..text import authors_short, opening

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"  # served under /static (app.py), hashed into URLs (site.py)


def paragraphs(text: str) -> Markup:
    """An abstract's paragraphs (one per line in the store) as <p> elements, escaped."""
    return Markup("".join(f"<p>{escape(p)}</p>" for p in (text or "").split("\n") if p.strip()))


def day_label(day: dt.date) -> str:
    return day.strftime("%A, %-d %B %Y")


def short_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %b %Y")


def iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return ""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seconds = int((now - value).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def web_url(value: str | None) -> str | None:
    """The URL when it is an http(s) address, else None: a stored link is never javascript: or data:."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def served_day(day: dt.date | None) -> bool:
    """Whether a day has a page (periods.py: from 1991 to the end of next year)."""
    from ..periods import FIRST_DAY, last_day

    return day is not None and FIRST_DAY <= day <= last_day()


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 upvote", "2 upvotes", "0 upvotes", "74,728 papers"."""
    return f"{n:,} {singular if n == 1 else plural_form or singular + 's'}"


def stars(n: int) -> str:
    """A repository's stars as hf.co/papers shows them: 952, 1.2k, 35k."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{n // 1000}k"


def make_environment(globals_: dict | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Each filter under its function's name.
    filters = (authors_short, opening, paragraphs, day_label, short_date, iso, ago, web_url, plural, stars)
    env.filters.update({f.__name__: f for f in filters}, urlquote=lambda s: quote(str(s), safe=""))
    from .avatars import linkable
    from .cardpictures import item_url, url_for

    env.filters.update(thumbnail_url=item_url, paper_thumbnail_url=url_for)

    env.tests.update(served_day=served_day, linkable=linkable)
    env.globals.update(globals_ or {})
    return env
