"""Read-only HTML pages: the daily feed (day, week, month), trending, paper pages, user pages, stats."""

from __future__ import annotations

import datetime as dt
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from .. import periods
from ..arxiv import split_arxiv_id
from ..errors import InvalidRecord, NotFoundError, database_away
from ..store import claims as claim_store
from ..store import comments as comment_store
from ..store import daily as daily_store
from ..store import feed as feed_store
from ..store import listings as listing_store
from ..store import papers as paper_store
from ..store import stats as stats_store
from ..store import summaries as summary_store
from ..store import users as user_store
from ..store import votes as vote_store
from ..store.feed import FeedQuery
from ..store.listings import ListingQuery
from ..types import PaperCard
from . import charts
from .auth import current_user
from .avatars import linkable
from .claims import visible_claims
from .site import site_of
from .versions import history
from .paging import cards, hide_for, marks, page_number
from .views import cached, render

log = logging.getLogger(__name__)

# The feed's orders (store.feed.SORTS) these pages offer, as the switcher names them; trending has
# its own page.
SORT_LABELS = {"upvotes": "Most upvoted", "time": "Newest", "stars": "Most stars"}
TRENDING_SPANS = {"day": 1, "week": 7, "month": 30}


def _sort(request: Request) -> str:
    value = request.query_params.get("sort", "upvotes")
    return value if value in SORT_LABELS else "upvotes"


LISTED_INSTEAD = 10  # listed papers a featured day without papers offers instead


def _feed_page(
    request: Request, period: periods.Period, *, canonical: str | None = None, nothing_featured: bool = False
) -> Response:
    site = site_of(request)
    page = page_number(request)
    sort = _sort(request)
    size = site.settings.page_size
    query = FeedQuery(start=period.start, end=period.end, sort=sort, limit=size, offset=(page - 1) * size, hide_for=hide_for(request))
    with site.store.session() as session:
        result = feed_store.list_featured(session, query, now=site.now())
        if period.kind == "day":
            prev_day, next_day = feed_store.adjacent_days(session, period.start)
            prev_path = periods.day(prev_day).path if prev_day else None
            next_path = periods.day(next_day).path if next_day else None
        else:
            before, after = period.previous(), period.next()
            first, last = daily_store.first_and_last_day(session)
            prev_path = before.path if before and first is not None and before.end >= first else None
            next_path = after.path if after and last is not None and after.start <= last else None
        listed = None
        if period.kind == "day" and result.total == 0:  # offer the day's listings, plainly as such
            listed = listing_store.list_listed(session, ListingQuery(day=period.start, limit=LISTED_INSTEAD))
    # The day the Day/Week/Month switcher names: week 1991-W01 begins on 31 December 1990.
    feed_day = min(max(period.start, periods.FIRST_DAY), periods.last_day())
    return render(
        request,
        "feed.html",
        period=period,
        **cards(request, result.items, result.total, page, size, result.hidden),
        sort=sort,
        sorts=SORT_LABELS,
        prev_path=prev_path,
        next_path=next_path,
        canonical=canonical or period.path,
        week=periods.week_of(feed_day),
        month=periods.month_of(feed_day),
        feed_day=feed_day,
        first_day=periods.FIRST_DAY,
        last_day=periods.last_day(),
        nothing_featured=nothing_featured,
        hf_mirror=site.settings.hf_mirror and site.settings.online,
        listed_total=listed.total if listed else 0,
        listed_items=listed.items if listed else [],
    )


async def home(request: Request) -> Response:
    def build():
        with site_of(request).store.session() as session:
            latest = daily_store.latest_day(session)
            listed = listing_store.latest_day(session) if latest is None else None
        if latest is None and listed is not None:  # listings, but nothing featured yet: say so
            return _feed_page(request, periods.day(listed), canonical="/", nothing_featured=True)
        if latest is None:
            return render(request, "empty.html")
        return _feed_page(request, periods.day(latest), canonical="/")

    return await cached(request, build)


async def by_date(request: Request) -> Response:
    period = periods.parse_day(request.path_params["day"])
    return await cached(request, lambda: _feed_page(request, period))


async def jump_to_date(request: Request) -> Response:
    """The date picker's target: /date?d=YYYY-MM-DD -> /date/YYYY-MM-DD."""
    period = periods.parse_day(request.query_params.get("d", ""))
    return RedirectResponse(period.path, status_code=303)


async def by_week(request: Request) -> Response:
    period = periods.parse_week(request.path_params["week"])
    return await cached(request, lambda: _feed_page(request, period))


async def by_month(request: Request) -> Response:
    period = periods.parse_month(request.path_params["month"])
    return await cached(request, lambda: _feed_page(request, period))


def trending_items(site, span: str, limit: int, offset: int = 0, *, hide_for: int | None = None):
    """Papers featured in the last `span` ranked by the decayed upvote score (page, feed and API);
    `hide_for`: a member whose dismissed papers are left out (FeedPage.hidden counts them)."""
    days = TRENDING_SPANS.get(span, 7)
    with site.store.session() as session:
        latest = daily_store.latest_day(session) or site.today()
        # The window ends at the newest day with papers, so an instance fed from files stays alive.
        start = latest - dt.timedelta(days=days - 1)
        now = max(site.now(), dt.datetime.combine(latest + dt.timedelta(days=1), dt.time()))
        return feed_store.list_featured(
            session, FeedQuery(start=start, end=latest, sort="trending", limit=limit, offset=offset, hide_for=hide_for), now=now
        )


async def trending(request: Request) -> Response:
    span = request.query_params.get("period", "week")
    span = span if span in TRENDING_SPANS else "week"

    def build():
        site = site_of(request)
        page = page_number(request)
        size = site.settings.page_size
        result = trending_items(site, span, size, (page - 1) * size, hide_for=hide_for(request))
        return render(
            request, "trending.html", **cards(request, result.items, result.total, page, size, result.hidden),
            span=span, spans=TRENDING_SPANS,
        )

    return await cached(request, build)


def _arxiv_id(raw: str) -> str:
    try:
        return split_arxiv_id(raw)[0]
    except InvalidRecord:
        raise NotFoundError(f"{raw!r} is not an arXiv id") from None


def paper_detail(site, arxiv_id: str, *, with_claims: bool = False):
    """The paper, its discussion and (`with_claims`) every claim of authorship made of it."""
    with site.store.session() as session:
        detail = paper_store.detail(session, arxiv_id)
        if detail is None:
            raise NotFoundError(f"no paper {arxiv_id} here yet")
        discussion = comment_store.for_paper(session, detail.paper.id)
        if with_claims:
            return detail, discussion, claim_store.of_paper(session, detail.paper.id)
    return detail, discussion


async def paper(request: Request) -> Response:
    raw = request.path_params["arxiv_id"]
    if raw.endswith(".md"):
        return await paper_markdown(request, raw[:-3])
    arxiv_id = _arxiv_id(raw)
    if arxiv_id != raw:
        return RedirectResponse(f"/papers/{arxiv_id}", status_code=301)

    def build():
        site = site_of(request)
        detail, discussion, claims = paper_detail(site, arxiv_id, with_claims=True)
        similar = _similar(site, detail.paper.id, arxiv_id)
        mine = marks(request, [detail.paper.id])  # voted, saved, dismissed
        summary, repo = _extras(site, detail.paper)
        claimed, my_claim, author_ids = visible_claims(claims, current_user(request))
        from .library import cite_bibtex, paper_marks  # the reader's own marks (issue 15), and the Cite box

        return render(
            request, "paper.html", d=detail, p=detail.paper, comments=discussion, **mine, similar=similar, summary=summary, repo=repo,
            claimed=claimed, my_claim=my_claim, author_ids=author_ids, versions=history(detail.paper.versions),
            marks=paper_marks(site, current_user(request), detail.paper.id), bibtex=cite_bibtex(detail.paper),
        )

    try:
        return await cached(request, build)
    except NotFoundError:  # not in the store: queue a fetch from arXiv and say so (web/fetching.py)
        from .fetching import not_here_yet

        return await not_here_yet(request, arxiv_id)


def _extras(site, paper: PaperCard) -> tuple[summary_store.Summary | None, tuple[str, int | None] | None]:
    """What the paper's page shows beside its row, read in one session: its one line and key
    phrases (HF's when mirrored, else extracted; None when none yet), and the repository it links
    as its code (the most starred GitHub one, as on its cards) with its stars, or None."""
    from ..store import repos as repo_store

    with site.store.session() as session:
        summary = summary_store.for_papers(session, [paper]).get(paper.id)
        repo = repo_store.cards_for(session, [paper.id]).get(paper.id)
    return summary, repo


def _similar(site, paper_id: int, arxiv_id: str, limit: int = 6) -> list[dict]:
    """The paper page's similar papers, {"paper": card} each: the neighbours
    the index job stored (one query), or, for a paper it has not reached yet, a live search."""
    from ..store import similar as similar_store

    with site.store.session() as session:
        stored = similar_store.neighbours(session, paper_id)
        if stored is not None:
            ids = [pid for pid, _score in stored[:limit]]
            found = paper_store.get_many(session, ids)
            return [{"paper": found[i]} for i in ids if i in found]
    try:
        from .. import search

        hits = search.similar(site.store, arxiv_id, limit=limit)
    except Exception as exc:  # noqa: BLE001 - a missing or rebuilding index must not break the paper page
        if database_away(exc):
            raise  # answered 503 (web/outage.py)
        log.warning("similar papers of %s unavailable", arxiv_id, exc_info=True)
        return []
    return [{"paper": h.paper} for h in hits]


async def paper_markdown(request: Request, raw: str) -> Response:
    """/papers/{id}.md: the paper as markdown (huggingface_hub's read_paper reads this)."""
    arxiv_id = _arxiv_id(raw)
    detail, _ = paper_detail(site_of(request), arxiv_id)
    p = detail.paper
    lines = [f"# {p.title}", "", ", ".join(a["name"] for a in p.authors), "", f"arXiv: {p.arxiv_id}"]
    if p.code_url:
        lines.append(f"Code: {p.code_url}")
    if p.project_url:
        lines.append(f"Project page: {p.project_url}")
    lines += ["", "## Abstract", "", p.abstract.replace("\n", "\n\n"), ""]
    return PlainTextResponse("\n".join(lines), media_type="text/markdown; charset=utf-8")


async def user_page(request: Request) -> Response:
    """A member's submissions and upvotes; for a name known only as the Hugging Face submitter of
    daily entries, their submissions."""
    name = request.path_params["username"]
    if not linkable(name):
        raise NotFoundError(f"no user {name}")

    def build():
        site = site_of(request)
        with site.store.session() as session:
            profile = user_store.by_name(session, name)
            submitter = profile["username"] if profile else name
            submitted = feed_store.list_featured(session, FeedQuery(submitter=submitter, sort="time", limit=100))
            if profile is None and not submitted.total:
                raise NotFoundError(f"no user {name}")
            upvoted_ids = vote_store.papers_upvoted_by(session, profile["id"], limit=100) if profile else []
            upvoted = paper_store.get_many(session, upvoted_ids)
        viewer = current_user(request)
        own = viewer is not None and profile is not None and viewer["id"] == profile["id"]
        from .fetching import member_submissions  # the member's own queued, refused and failed ones

        return render(
            request,
            "user.html",
            profile=profile,
            name=submitter,
            submitted=submitted.items,
            total_submitted=submitted.total,
            upvoted=[upvoted[i] for i in upvoted_ids if i in upvoted],
            queued=[r for r in member_submissions(site, viewer) if r["state"] != "featured"] if own else [],
        )

    return await cached(request, build)


async def stats(request: Request) -> Response:
    def build():
        site = site_of(request)
        with site.store.session() as session:
            days = daily_store.recent_days(session, 30)
            if not days:
                return render(request, "empty.html")
            start, latest = days[0], days[-1]
            per_day = stats_store.papers_per_day_by_category(session, start, latest, top=5)
            votes = stats_store.upvotes_per_day(session, start, latest)
            month = periods.month_of(latest)
            top = stats_store.top_categories(session, month.start, month.end, limit=10)
            totals = stats_store.totals(session)
        return render(
            request,
            "stats.html",
            papers_chart=charts.stacked_bars(per_day, title="Papers per day, by primary category"),
            votes_chart=charts.bars(votes, title="Upvotes on each day's papers"),
            top_chart=charts.horizontal_bars(top, title=f"Top categories of {month.label}"),
            per_day=per_day,
            votes=votes,
            top=top,
            month=month,
            totals=totals,
        )

    return await cached(request, build)


async def health(request: Request) -> Response:
    """Liveness and readiness for load balancers: 200 with the paper count once this process's
    search indexes have caught up with the store, 503 (and "ready": false) before, so a new web
    host gets traffic only when it finds what the others find. The 200 answer is kept in the page
    cache until the store's content changes, so frequent checks do not count the papers each time
    (a sequential count on PostgreSQL with millions of papers); the cache's version check still
    reads the store at least every quarter second, so a lost database shows."""
    from starlette.responses import JSONResponse

    from starlette.concurrency import run_in_threadpool

    site = site_of(request)

    def answer(ready: bool) -> Response:
        with site.store.session() as session:
            papers = paper_store.count(session)
        return JSONResponse({"ok": ready, "ready": ready, "papers": papers}, status_code=200 if ready else 503)

    if not site.indexes_ready():
        return await run_in_threadpool(answer, False)  # never cached
    return await cached(request, lambda: answer(True))
