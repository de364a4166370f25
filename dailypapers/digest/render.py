"""Emails from Jinja2 templates (dailypapers/digest/templates): an HTML part with its CSS inlined
(css-inline; the dark-mode @media rules stay in a <style> element for the clients that read it) and
a plain-text part.

Rendering and inlining cost about a millisecond, so a digest's content is rendered once per distinct
content and cached; what differs between subscribers with the same papers (their address, their
signed links) is put in with plain string replacement (`Content.personal`)."""

from __future__ import annotations

import textwrap
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape

from ..config import Settings
from . import mime
from .compose import Digest

TEMPLATES = Path(__file__).parent / "templates"

# Stand-ins for what differs per subscriber; none can occur in rendered text (titles are escaped,
# and "%" stays as is, but no paper has these words).
EMAIL = "%%dp-email%%"
PREFERENCES = "%%dp-preferences%%"
UNSUBSCRIBE = "%%dp-unsubscribe%%"


@lru_cache(maxsize=16384)
def wrap(text: str, width: int = 76, indent: str = "", first: str = "") -> str:
    """Plain-text paragraphs wrapped for mail readers (the first line is already indented by the
    template unless `first` is given). Kept: with papers like yours every digest differs, but its
    papers' titles and summaries recur across thousands of them."""
    return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False)


@dataclass(frozen=True)
class Content:
    """A rendered email with stand-ins for the subscriber's address and links (all in its footer)."""

    subject: str
    html: str
    text: str

    def personal(self, email: str, preferences_url: str, unsubscribe_url: str) -> tuple[str, str]:
        """(html, text) for one subscriber."""
        return _fill(self.html, email, preferences_url, unsubscribe_url, html=True), _fill(self.text, email, preferences_url, unsubscribe_url)

    @cached_property
    def _halves(self) -> tuple[tuple[bytes, str], tuple[bytes, str]]:
        return _split(self.text), _split(self.html)

    def encoded(self, email: str, preferences_url: str, unsubscribe_url: str) -> tuple[bytes, bytes]:
        """(text, html) for one subscriber, quoted-printable: the part before the first stand-in is
        encoded once per content, only the footer once per subscriber."""
        (text_head, text_tail), (html_head, html_tail) = self._halves
        text = text_head + (mime.qp(_fill(text_tail, email, preferences_url, unsubscribe_url)) if text_tail else b"")
        html = html_head + (mime.qp(_fill(html_tail, email, preferences_url, unsubscribe_url, html=True)) if html_tail else b"")
        return text, html


def _fill(body: str, email: str, preferences_url: str, unsubscribe_url: str, *, html: bool = False) -> str:
    if html:
        email, preferences_url, unsubscribe_url = str(escape(email)), str(escape(preferences_url)), str(escape(unsubscribe_url))
    return body.replace(EMAIL, email).replace(PREFERENCES, preferences_url).replace(UNSUBSCRIBE, unsubscribe_url)


def _split(body: str) -> tuple[bytes, str]:
    """(the encoded lines before the first stand-in, the rest as text)."""
    found = [i for i in (body.find(EMAIL), body.find(PREFERENCES), body.find(UNSUBSCRIBE)) if i >= 0]
    if not found:
        return mime.qp(body), ""
    cut = body.rfind("\n", 0, min(found)) + 1
    return (mime.qp(body[:cut]) if cut else b""), body[cut:]


def mail_domain(settings: Settings) -> str:
    """The domain of the site's mail (Message-IDs, List-Id): the host of base_url."""
    return urlsplit(settings.base_url).hostname or "localhost"


def sender(settings: Settings) -> tuple[str, str]:
    """(display name, address) of the From header."""
    import email.utils

    if settings.mail_from:
        name, addr = email.utils.parseaddr(settings.mail_from)
        if addr:
            return name, addr
    return settings.site_name, f"digest@{mail_domain(settings)}"


class Renderer:
    """The email templates of one site, with a cache of rendered digest contents."""

    def __init__(self, settings: Settings, *, cache_size: int = 4096):
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["wrap"] = wrap
        self.env.globals.update(site_name=settings.site_name, base_url=self.base_url)
        self.inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._cache: OrderedDict[tuple, Content] = OrderedDict()
        self.cache_size = cache_size
        self.rendered = 0  # distinct contents rendered (for reports and benchmarks)

    def _pair(self, name: str, **context) -> tuple[str, str]:
        html = self.inliner.inline(self.env.get_template(f"{name}.html").render(context))
        text = self.env.get_template(f"{name}.txt").render(context)
        return html, text

    def digest(self, digest: Digest) -> Content:
        """The digest's content, rendered once per distinct period and sections."""
        key = (digest.period, digest.sections)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        papers = [p for s in digest.sections for p in s.papers]
        top = papers[0].title if papers else ""
        if len(top) > 90:
            top = top[:88].rstrip() + "…"
        more = f" and {len(papers) - 1} more" if len(papers) > 1 else ""
        subject = f"{self.settings.site_name}: {top}{more}"
        heading = "Your weekly papers" if digest.period.cadence == "weekly" else "Your daily papers"
        html, text = self._pair(
            "digest",
            subject=subject,
            heading=heading,
            period_label=digest.period.label,
            cadence=digest.period.cadence,
            sections=digest.sections,
            email_placeholder=EMAIL,
            preferences_placeholder=PREFERENCES,
            unsubscribe_placeholder=UNSUBSCRIBE,
        )
        content = Content(subject, html, text)
        self._cache[key] = content
        self.rendered += 1
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return content

    def confirmation(self, cadence: str, what: str, confirm_url: str) -> Content:
        subject = f"Confirm your subscription to {self.settings.site_name}"
        html, text = self._pair(
            "confirm", subject=subject, cadence=cadence, what=what, confirm_url=confirm_url,
            hours=self.settings.digest_confirm_hours, unsubscribe_placeholder=UNSUBSCRIBE,
        )
        return Content(subject, html, text)

    def address_confirmation(self, username: str, confirm_url: str, hours: int) -> Content:
        """To an address given at sign-up that no account has: the link that attaches it."""
        subject = f"Confirm your email address at {self.settings.site_name}"
        html, text = self._pair("address_confirm", subject=subject, username=username, confirm_url=confirm_url, hours=hours)
        return Content(subject, html, text)

    def signup_attempt(self, owner: str, new_username: str, login_url: str) -> Content:
        """To an address given at sign-up that an account already has."""
        subject = f"Someone tried to sign up at {self.settings.site_name} with your address"
        html, text = self._pair("signup_attempt", subject=subject, owner=owner, new_username=new_username, login_url=login_url)
        return Content(subject, html, text)

    def already_subscribed(self, cadence: str, preferences_url: str, unsubscribe_url: str) -> Content:
        subject = f"Your subscription to {self.settings.site_name}"
        html, text = self._pair(
            "manage", subject=subject, cadence=cadence, preferences_url=preferences_url, unsubscribe_url=unsubscribe_url
        )
        return Content(subject, html, text)
