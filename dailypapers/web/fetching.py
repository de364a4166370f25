"""Papers the store lacks, as the web shows them: the page of an unknown paper, which asks for it
to be fetched (never fetching it itself: the fetch-papers job does, see ingest/lookup.py), and the
state of a member's queued submissions."""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFoundError
from ..arxiv import could_exist
from ..store import fetches
from ..store.schema import utcnow
from .auth import client_address, current_user
from .site import site_of
from .views import render

REFRESH_SECONDS = 5  # how often a waiting page reloads itself (a meta refresh: no script needed)
ASK_AGAIN_AFTER = dt.timedelta(hours=1)  # a failed fetch is shown this long before a visit asks again


def check_id(arxiv_id: str, today: dt.date) -> None:
    """NotFoundError unless arXiv can have issued the id by now (a real month, not to come, in the
    scheme of its time): other ids are never queued, so nobody can fill the queue with them."""
    if not could_exist(arxiv_id, today):
        raise NotFoundError(f"arXiv has issued no id {arxiv_id}")


def describe(row: dict, settings) -> str:
    """A request's state in words, for the member and the visitor."""
    state = row["state"]
    if state in fetches.OPEN:
        text = "queued: it will appear when arXiv answers"
        if row["attempts"] and row["last_error"]:
            when = row["next_attempt_at"].strftime("%H:%M UTC")
            text += f". Try {row['attempts']} of {settings.fetch_attempts} failed ({row['last_error']}); next try at {when}"
        return text
    if state == "featured":
        return f"featured on {row['day'].isoformat()}"
    if state == "refused":
        return f"refused: {row['outcome']}"
    if state == "failed":
        return f"failed: {row['outcome']}"
    return "fetched"


def _headers() -> dict:
    # Never kept by a cache, never indexed: the answer changes as soon as the paper arrives.
    return {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


async def not_here_yet(request: Request, arxiv_id: str) -> Response:
    """GET /papers/{id} for a well-formed id the store lacks: 202 with "not here yet: being fetched
    from arXiv" and a page that reloads itself until the paper is there, after queueing a fetch
    (once per paper however many ask; a new one counts against the client address's allowance,
    DAILYPAPERS_RATE_LIMIT_LOOKUP, and over it the answer is 429). A fetch that failed is shown as
    404 with the reason for a while."""
    site = site_of(request)
    check_id(arxiv_id, site.today())
    user = current_user(request)

    def decide() -> tuple[str, dict | None, dict | None]:
        with site.store.session() as session:
            mine = fetches.latest(session, arxiv_id, user_id=user["id"]) if user else None
            last = fetches.latest(session, arxiv_id)
            if fetches.any_open(session, arxiv_id):
                return "waiting", mine, last if last and last["state"] in fetches.OPEN else None
        if last and last["state"] == "failed" and last["finished_at"] > utcnow() - ASK_AGAIN_AFTER:
            return "failed", mine, last
        site.limiter.hit(site.settings.rate_limit_lookup, f"lookup-ip:{client_address(request)}", what="look-ups of new papers")
        with site.store.session() as session, session.begin():
            fetches.open_request(session, arxiv_id, reason="lookup")
        return "waiting", mine, None

    kind, mine, last = await run_in_threadpool(decide)
    mine_open = mine if mine and mine["state"] in fetches.OPEN else None
    if kind == "failed":
        response = render(request, "fetching.html", status=404, arxiv_id=arxiv_id, waiting=False,
                          message=last["outcome"] or "arXiv did not return it", mine=None)
    else:
        # Said to every visitor once a try has failed (arXiv down, say), with when the next one is.
        trying = last and last["attempts"] and last["last_error"] and describe(last, site.settings).split(". ", 1)[-1]
        response = render(request, "fetching.html", status=202, arxiv_id=arxiv_id, waiting=True, refresh=REFRESH_SECONDS,
                          mine=mine_open and describe(mine_open, site.settings), message=None, trying=trying or None)
    response.headers.update(_headers())
    return response


def submission_state(site, user: dict, arxiv_id: str) -> dict | None:
    """The member's latest queued submission of the paper, or None."""
    with site.store.session() as session:
        return fetches.latest(session, arxiv_id, user_id=user["id"], reason="submission")


def member_submissions(site, user: dict, limit: int = 10) -> list[dict]:
    """The member's latest submissions that went through the queue, each with `said`: its state
    in words."""
    with site.store.session() as session:
        rows = fetches.of_member(session, user["id"], limit)
    return [dict(r, said=describe(r, site.settings)) for r in rows]
