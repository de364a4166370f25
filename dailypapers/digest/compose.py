"""What each subscriber gets for a period: `Composer.compose_for(subscriber) -> Digest`.

A digest has up to three sections:
- trending: the period's top papers by the trending score (ranking/trending.py), scored at the end
  of the period so that composing it again gives the same list; only papers with upvotes trend;
- topic alert: new papers matching the subscriber's saved search (words through the hybrid search
  service, and/or categories), featured since the subscriber's last digest;
- similar: for a subscriber linked to an account, new papers their recommender (the model /for-you
  ranks with, fitted from their upvotes, saves, follows and dismissals) finds relevant.

Composing 10,000 digests must be cheap, so a Composer serves one period and caches what
subscribers share: the trending list once, each distinct saved search once per starting day, the
papers of the window once. A digest with no papers is `empty`: not sent, recorded as skipped."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from ..store import feed as feed_store
from ..store import summaries as summary_store
from ..store.engine import Store
from ..store.feed import FeedQuery
from ..store.subscriptions import Subscriber
from ..store.summaries import SHOWN_KEYWORDS, Summary
from ..text import authors_short, opening
from ..types import PaperCard
from .period import DigestPeriod

log = logging.getLogger(__name__)

SUMMARY_CHARS = 280
TRENDING_MAX = 50
LOOKBACK_DAYS = {"daily": 7, "weekly": 14}  # topic alerts catch up at most this far after missed digests


@dataclass(frozen=True)
class DigestPaper:
    paper_id: int
    arxiv_id: str
    title: str
    authors: str
    summary: str
    upvotes: int
    comments: int
    url: str
    # The one line and key phrases (store/summaries.py: HF's when mirrored, else extracted), if any.
    ai: Summary | None = None

    @property
    def phrase_links(self) -> list[tuple[str, str]]:
        """(phrase, URL of a search for it) of the key phrases an email shows."""
        if self.ai is None:
            return []
        site = self.url.rsplit("/papers/", 1)[0]
        return [(k, f"{site}/search?" + urlencode({"q": '"' + k + '"'})) for k in self.ai.keywords[:SHOWN_KEYWORDS]]


@dataclass(frozen=True)
class Section:
    kind: str  # trending | topic | similar
    title: str
    papers: tuple[DigestPaper, ...]
    more: int = 0  # matching papers not shown
    more_url: str | None = None


@dataclass(frozen=True)
class Digest:
    """One subscriber's digest for one period. `sections` is hashable: equal sections render alike."""

    subscription_id: int
    email: str
    period: DigestPeriod
    sections: tuple[Section, ...]

    @property
    def empty(self) -> bool:
        return not any(s.papers for s in self.sections)

    @property
    def paper_ids(self) -> list[int]:
        return [p.paper_id for s in self.sections for p in s.papers]


def digest_paper(paper: PaperCard, base_url: str, ai: Summary | None = None) -> DigestPaper:
    """A paper's card (of a feed item or a search hit) as an email shows it, with its summary and phrases."""
    return DigestPaper(
        paper_id=paper.id,
        arxiv_id=paper.arxiv_id,
        title=" ".join((paper.title or "").split()),
        authors=authors_short(paper.authors, 4),
        summary=opening(" ".join((paper.abstract or "").split()), SUMMARY_CHARS),
        upvotes=(paper.upvotes_imported or 0) + (paper.upvote_count or 0),
        comments=(paper.comments_imported or 0) + (paper.comment_count or 0),
        url=f"{base_url}/papers/{paper.arxiv_id}",
        ai=ai,
    )


def topic_since(subscriber: Subscriber, period: DigestPeriod) -> dt.date:
    """The first day a topic alert covers: the day after the last digest's span, or the period's
    first day for a first digest; after missed digests, at most LOOKBACK_DAYS back."""
    if subscriber.last_digest_at is None:
        return period.start
    since = subscriber.last_digest_at.date()
    return max(since, period.start - dt.timedelta(days=LOOKBACK_DAYS[period.cadence]))


def topic_title(query: str | None, categories: tuple[str, ...]) -> str:
    parts = []
    if query:
        parts.append(f"“{query}”")
    if categories:
        parts.append(", ".join(categories))
    return "New papers matching " + " in ".join(parts)


class Composer:
    """Composes the digests of one period, sharing the work between subscribers."""

    def __init__(self, store: Store, period: DigestPeriod, *, topic_limit: int = 10, base_url: str = ""):
        self.store = store
        self.period = period
        self.topic_limit = topic_limit
        self.base_url = (base_url or store.settings.base_url).rstrip("/")
        self._trending: list[DigestPaper] | None = None
        self._topics: dict[tuple, Section] = {}
        self._windows: dict[dt.date, dict[int, PaperCard]] = {}
        self._prepared: dict[tuple[int, dt.date], list] = {}  # (member, since) -> recommendations (prepare)

    def trending(self, count: int) -> Section:
        if self._trending is None:
            with self.store.session() as session:
                page = feed_store.list_featured(
                    session,
                    FeedQuery(start=self.period.start, end=self.period.end, sort="trending", limit=TRENDING_MAX),
                    now=self.period.covered_until,
                )
            self._trending = [digest_paper(i.paper, self.base_url, i.summary) for i in page.items if i.upvotes > 0]
        title = "Trending this week" if self.period.cadence == "weekly" else "Trending papers"
        return Section("trending", title, tuple(self._trending[:count]), more_url=f"{self.base_url}/trending")

    def topic(self, query: str | None, categories: tuple[str, ...], since: dt.date) -> Section:
        key = (query or "", categories, since)
        found = self._topics.get(key)
        if found is None:
            found = self._topics[key] = self._search_topic(query or "", categories, since)
        return found

    def _search_topic(self, query: str, categories: tuple[str, ...], since: dt.date) -> Section:
        from ..search import BadQuery, SearchQuery, search

        title = topic_title(query, categories)
        if since > self.period.end:
            return Section("topic", title, ())
        sort = "relevance" if query.strip() else "upvotes"
        try:
            page = search(
                self.store,
                SearchQuery(text=query, since=since, until=self.period.end, categories=categories, sort=sort, limit=self.topic_limit),
            )
        except BadQuery as exc:  # a saved search that no longer parses: the section stays empty
            log.warning("topic alert %r cannot be searched: %s", query, exc)
            return Section("topic", title, ())
        papers = self._digest_papers([h.paper for h in page.hits])
        params = [("q", query), ("since", since.isoformat()), ("until", self.period.end.isoformat())]
        params += [("cat", c) for c in categories]
        more = max(0, page.total - len(papers))
        return Section("topic", title, papers, more=more, more_url=f"{self.base_url}/search?{urlencode(params)}")

    def window(self, since: dt.date) -> dict[int, PaperCard]:
        """Papers featured from `since` to the period's end, by id."""
        found = self._windows.get(since)
        if found is None:
            with self.store.session() as session:
                page = feed_store.list_featured(session, FeedQuery(start=since, end=self.period.end, sort="time", limit=1_000_000))
            found = self._windows[since] = {i.paper.id: i.paper for i in page.items}
        return found

    def prepare(self, subscribers: list[Subscriber]) -> None:
        """Rank the "papers like yours" of a batch of subscribers at once (a few queries for all:
        search/recommend.py's recommend_many); `similar` then reads them."""
        from ..search.recommend import recommender_for

        by_since: dict[dt.date, list[int]] = {}
        for sub in subscribers:
            if sub.preferences.similar_to_upvotes and sub.user_id is not None:
                since = topic_since(sub, self.period)
                if since <= self.period.end:
                    by_since.setdefault(since, []).append(sub.user_id)
        self._prepared = {}
        for since, users in by_since.items():
            found = recommender_for(self.store).recommend_many(
                users, list(self.window(since)), limit=self.topic_limit, span=(since, self.period.end), explain=self.topic_limit,
            )
            self._prepared.update(((uid, since), recs) for uid, recs in found.items())

    def similar(self, user_id: int, since: dt.date) -> Section:
        """New papers the member's recommender (the one /for-you ranks with: search/recommend.py)
        finds relevant among those featured since `since`, best first."""
        from ..search.recommend import recommender_for

        title = "New papers like the ones you upvoted"
        if since > self.period.end:
            return Section("similar", title, ())
        window = self.window(since)
        recs = self._prepared.get((user_id, since))
        if recs is None:  # not prepared, or no stored model yet: ranked alone
            recs, whose = recommender_for(self.store).recommend(
                user_id, list(window), limit=self.topic_limit, span=(since, self.period.end), explain=self.topic_limit,
                community=False,
            )
            recs = recs if whose == "member" else []
        best = [r for r in recs if r.relevant]
        return Section("similar", title, self._digest_papers([window[r.paper_id] for r in best]))

    def _digest_papers(self, papers: list[dict]) -> tuple[DigestPaper, ...]:
        """Store rows as the email shows them, with their summaries (one query for all)."""
        with self.store.session() as session:
            found = summary_store.for_papers(session, papers)
        return tuple(digest_paper(p, self.base_url, found.get(p.id)) for p in papers)

    def compose_for(self, subscriber: Subscriber) -> Digest:
        """The digest `subscriber` gets for this period (possibly empty)."""
        prefs = subscriber.preferences
        sections = []
        if prefs.trending_count > 0:
            sections.append(self.trending(prefs.trending_count))
        since = topic_since(subscriber, self.period)
        if prefs.has_topic:
            sections.append(self.topic(prefs.topic_query, prefs.topic_categories, since))
        if prefs.similar_to_upvotes and subscriber.user_id is not None:
            sections.append(self.similar(subscriber.user_id, since))
        sections = [s for s in sections if s.papers]
        return Digest(subscriber.id, subscriber.email, self.period, tuple(sections))
