"""Atom and RSS feeds of the daily feed, trending, and each arXiv archive and category (web/feedxml.py
writes them).

Entry ids are the paper pages' URLs: stable across versions, renames and re-imports. Entry times:
`published` is the paper's first arXiv submission, `updated` (and RSS's pubDate) the moment it was
featured here. Category names are arXiv's (dailypapers/taxonomy.py): another spelling of a real one
is redirected to arXiv's, an archive's feed (`cs`, `hep-th`) holds every category in it, and a name
arXiv does not have is a 404."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import __version__, taxonomy
from ..errors import NotFoundError
from ..store import daily as daily_store
from ..store import feed as feed_store
from ..store.feed import FeedQuery
from . import feedxml
from .pages import trending_items
from .site import site_of
from .views import cached

FEED_SIZE = 100
MAX_AUTHORS = 20
FORMATS = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value else None


def _entry(base: str, item) -> feedxml.Entry:
    p = item.paper
    featured = _utc(item.submitted_at)
    return feedxml.Entry(
        url=f"{base}/papers/{p.arxiv_id}",
        title=p.title,
        summary=p.abstract,
        updated=featured,
        published=_utc(p.published_at) or featured,
        authors=[a["name"] for a in (p.authors or [])[:MAX_AUTHORS]],
        related=f"https://arxiv.org/abs/{p.arxiv_id}",
        categories=[(c, _label(c)) for c in p.categories or []],
    )


def _label(category: str) -> str | None:
    known = taxonomy.CATEGORIES.get(category)
    return known.name if known else None


def build_feed(site, *, kind: str, title: str, path: str, items, subtitle: str) -> bytes:
    base = site.base_url
    feed = feedxml.Feed(
        id=base + path.rsplit(".", 1)[0],
        title=f"{site.settings.site_name}: {title}",
        subtitle=subtitle,
        self_url=base + path,
        home_url=base + "/",
        author=site.settings.site_name,
        generator=("dailypapers", __version__),
        entries=[_entry(base, item) for item in items],
    )
    return feedxml.atom(feed) if kind == "atom" else feedxml.rss(feed)


def _kind(request: Request) -> str:
    kind = request.path_params["fmt"]
    if kind not in FORMATS:
        raise NotFoundError("feeds are .atom or .rss")
    return kind


def _respond(body: bytes, kind: str) -> Response:
    return Response(body, media_type=FORMATS[kind], headers={"Cache-Control": "public, max-age=300"})


def _latest_items(site, category: tuple[str, ...] | None = None):
    """The papers featured in the week up to the last day with papers (in any of the categories, if
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
    asked = request.path_params["category"]
    cat = taxonomy.canonical(asked)
    if cat is None:
        raise NotFoundError(f"{asked!r} is not an arXiv archive or category")
    if cat != asked:  # one address per feed: readers update theirs on a permanent redirect
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/feeds/category/{cat}.{kind}{query}", status_code=301)
    members = taxonomy.categories_in(cat)
    what = "archive" if taxonomy.is_archive(cat) else "category"
    name = taxonomy.display_name(cat)

    def build():
        site = site_of(request)
        body = build_feed(site, kind=kind, title=f"{name} papers", path=request.url.path, items=_latest_items(site, members),
                          subtitle=f"Papers in arXiv's {what} {name} featured on the daily feed, newest first.")
        return _respond(body, kind)

    return await cached(request, build)
