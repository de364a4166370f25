"""Atom and RSS feeds of the daily feed, trending and each arXiv category (feedgen builds them).

Entry ids are the paper pages' URLs: stable across versions, renames and re-imports. Entry times:
`published` is the paper's first arXiv submission, `updated` the moment it was featured here."""

from __future__ import annotations

import datetime as dt
import re

from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFoundError
from ..ingest.normalize import CATEGORY
from ..store import daily as daily_store
from ..store import feed as feed_store
from ..store.feed import FeedQuery
from .pages import trending_items
from .render import authors_short
from .site import site_of
from .views import cached

FEED_SIZE = 100
FORMATS = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}
# XML 1.0 forbids most control characters; arXiv text occasionally carries them.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str | None) -> str:
    return _BAD_XML.sub("", text or "")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value else None


def build_feed(site, *, kind: str, title: str, path: str, items, subtitle: str) -> bytes:
    base = site.base_url
    fg = FeedGenerator()
    fg.id(base + path.rsplit(".", 1)[0])
    fg.title(f"{site.settings.site_name}: {title}")
    fg.subtitle(subtitle)
    fg.link(href=base + path, rel="self")
    fg.link(href=base + "/", rel="alternate")
    fg.language("en")
    fg.generator("dailypapers")
    if kind == "rss":
        fg.load_extension("dc")
    newest = max((i.submitted_at for i in items if i.submitted_at), default=None)
    fg.updated(_utc(newest) or dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    for item in reversed(items):  # feedgen prepends: add oldest first so the newest leads
        p = item.paper
        url = f"{base}/papers/{p['arxiv_id']}"
        entry = fg.add_entry()
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_clean(p["title"]))
        entry.link(href=url, rel="alternate")
        entry.link(href=f"https://arxiv.org/abs/{p['arxiv_id']}", rel="related")
        if kind == "atom":
            for author in (p.get("authors") or [])[:20]:
                entry.author({"name": _clean(author["name"])})
        else:  # RSS <author> must be an email address; Dublin Core's creator carries names
            entry.dc.dc_creator(_clean(authors_short(p.get("authors") or [], 3)))
        entry.summary(_clean(p["abstract"]))
        for cat in p.get("categories") or []:
            entry.category(term=cat, scheme="https://arxiv.org/archive/", label=cat)
        updated = _utc(item.submitted_at)
        entry.updated(updated)
        entry.published(_utc(p.get("published_at")) or updated)
    return fg.atom_str(pretty=False) if kind == "atom" else fg.rss_str(pretty=False)


def _kind(request: Request) -> str:
    kind = request.path_params["fmt"]
    if kind not in FORMATS:
        raise NotFoundError("feeds are .atom or .rss")
    return kind


def _respond(body: bytes, kind: str) -> Response:
    return Response(body, media_type=FORMATS[kind], headers={"Cache-Control": "public, max-age=300"})


def _latest_items(site, category: str | None = None):
    """The papers featured in the week up to the last day with papers (in the category, if one is
    named), newest featured first."""
    with site.store.session() as session:
        latest = daily_store.latest_day(session, category)
        if latest is None:
            return []
        query = FeedQuery(start=latest - dt.timedelta(days=6), end=latest, sort="time", limit=FEED_SIZE, category=category)
        return feed_store.list_featured(session, query, now=site.now()).items


async def daily(request: Request) -> Response:
    kind = _kind(request)

    def build():
        site = site_of(request)
        body = build_feed(site, kind=kind, title="daily papers", path=request.url.path, items=_latest_items(site),
                          subtitle="Papers featured on the daily feed, newest first.")
        return _respond(body, kind)

    return await cached(request, build)


async def trending(request: Request) -> Response:
    kind = _kind(request)

    def build():
        site = site_of(request)
        items = trending_items(site, "week", 50).items
        body = build_feed(site, kind=kind, title="trending papers", path=request.url.path, items=items,
                          subtitle="The week's papers ranked by time-decayed upvotes.")
        return _respond(body, kind)

    return await cached(request, build)


async def category(request: Request) -> Response:
    kind = _kind(request)
    cat = request.path_params["category"]
    if not CATEGORY.match(cat):
        raise NotFoundError(f"{cat!r} is not an arXiv category")

    def build():
        site = site_of(request)
        body = build_feed(site, kind=kind, title=f"{cat} papers", path=request.url.path, items=_latest_items(site, cat),
                          subtitle=f"Papers in {cat} featured on the daily feed, newest first.")
        return _respond(body, kind)

    return await cached(request, build)
