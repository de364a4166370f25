"""Atom 1.0 (RFC 4287) and RSS 2.0 documents from plain data, written with lxml so every text is
escaped once and the output is well-formed whatever the papers hold.

Written here rather than with feedgen: feedgen 1.0 drops every attribute but `href` from entry
links, so an entry's arXiv link (`rel="related"`) reached readers as a second alternate, and it
puts an RSS description's text in as if it were HTML, so readers strip `<think>` from an abstract.
An RSS description is HTML by convention, so the abstract is HTML-escaped into it; an Atom summary
is declared `type="text"` and carries the abstract as it is."""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
from dataclasses import dataclass, field

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
CATEGORY_SCHEME = "https://arxiv.org/archive/"
# XML 1.0 forbids most control characters and lone surrogates; arXiv text occasionally carries them.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Entry:
    url: str  # the paper's page: the entry's id, its one alternate link and the RSS guid
    title: str
    summary: str
    updated: dt.datetime  # when it was featured (aware, UTC)
    published: dt.datetime  # its first arXiv submission
    authors: list[str] = field(default_factory=list)
    related: str | None = None  # the paper on arXiv
    categories: list[tuple[str, str | None]] = field(default_factory=list)  # (term, label)


@dataclass
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    home_url: str
    author: str
    generator: tuple[str, str]  # (name, version)
    entries: list[Entry]
    empty_updated: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    @property
    def updated(self) -> dt.datetime:
        return max((e.updated for e in self.entries), default=self.empty_updated)


def clean(text: str | None) -> str:
    return _BAD_XML.sub("", text or "")


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _sub(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = clean(text)
    return el


def atom(feed: Feed) -> bytes:
    a = "{%s}" % ATOM_NS
    root = etree.Element(a + "feed", nsmap={None: ATOM_NS})
    _sub(root, a + "id", feed.id)
    _sub(root, a + "title", feed.title, type="text")
    _sub(root, a + "subtitle", feed.subtitle, type="text")
    _sub(root, a + "updated", _rfc3339(feed.updated))
    _sub(root, a + "link", rel="self", type="application/atom+xml", href=feed.self_url)
    _sub(root, a + "link", rel="alternate", type="text/html", href=feed.home_url)
    _sub(_sub(root, a + "author"), a + "name", feed.author)
    _sub(root, a + "generator", feed.generator[0], version=feed.generator[1])
    for e in feed.entries:
        entry = _sub(root, a + "entry")
        _sub(entry, a + "id", e.url)
        _sub(entry, a + "title", e.title, type="text")
        _sub(entry, a + "updated", _rfc3339(e.updated))
        _sub(entry, a + "published", _rfc3339(e.published))
        for name in e.authors:
            _sub(_sub(entry, a + "author"), a + "name", name)
        _sub(entry, a + "link", rel="alternate", type="text/html", href=e.url)
        if e.related:
            _sub(entry, a + "link", rel="related", type="text/html", href=e.related)
        _sub(entry, a + "summary", e.summary, type="text")
        for term, label in e.categories:
            _sub(entry, a + "category", term=term, scheme=CATEGORY_SCHEME, label=label)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def rss(feed: Feed) -> bytes:
    root = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS, "dc": DC_NS})
    channel = _sub(root, "channel")
    _sub(channel, "title", feed.title)
    _sub(channel, "link", feed.home_url)
    _sub(channel, "description", feed.subtitle)
    _sub(channel, "{%s}link" % ATOM_NS, rel="self", type="application/rss+xml", href=feed.self_url)
    _sub(channel, "language", "en")
    _sub(channel, "lastBuildDate", email.utils.format_datetime(feed.updated.astimezone(dt.UTC).replace(microsecond=0)))
    _sub(channel, "generator", " ".join(feed.generator))
    for e in feed.entries:
        item = _sub(channel, "item")
        _sub(item, "title", e.title)
        _sub(item, "link", e.url)
        _sub(item, "guid", e.url, isPermaLink="true")
        _sub(item, "description", html.escape(clean(e.summary), quote=False))
        if e.authors:  # RSS's <author> must be an email address; Dublin Core's creator carries names
            _sub(item, "{%s}creator" % DC_NS, ", ".join(e.authors[:3]) + (" et al." if len(e.authors) > 3 else ""))
        for term, _label in e.categories:
            _sub(item, "category", term, domain=CATEGORY_SCHEME)
        # RSS has one date: when the paper entered this feed.
        _sub(item, "pubDate", email.utils.format_datetime(e.updated.astimezone(dt.UTC).replace(microsecond=0)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
