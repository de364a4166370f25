"""State-changing handlers (POST only, CSRF-checked by the middleware): upvotes, comments, submissions."""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..arxiv import could_exist, split_arxiv_id
from ..errors import DailyPapersError, InvalidRecord, NotFoundError
from ..ingest import submissions
from ..ingest.submissions import Refused
from ..store import comments as comment_store
from ..store import fetches
from ..store import kv
from ..store import papers as paper_store
from ..store import votes as vote_store
from . import fetching
from .auth import current_user, login_redirect, safe_next
from .markdown import render_comment
from .site import site_of
from .views import render, wants_json

MAX_COMMENT = 10_000


def _paper_id(site, arxiv_id: str) -> int:
    with site.store.session() as session:
        found = paper_store.existing(session, [arxiv_id])
    if arxiv_id not in found:
        raise NotFoundError(f"no paper {arxiv_id} here")
    return found[arxiv_id][0]


async def vote(request: Request) -> Response:
    """POST /papers/{id}/upvote and /papers/{id}/unvote: a form without JS, JSON for scripts."""
    user = current_user(request)
    if user is None:
        if wants_json(request):
            return JSONResponse({"error": "log in to upvote"}, status_code=401)
        return login_redirect(request)
    arxiv_id = request.path_params["arxiv_id"]
    up = request.url.path.endswith("/upvote")
    site = site_of(request)

    def apply() -> int:
        pid = _paper_id(site, arxiv_id)
        with site.store.session() as session, session.begin():
            total = vote_store.add(session, user["id"], pid) if up else vote_store.remove(session, user["id"], pid)
            kv.bump(session)
        return total

    total = await run_in_threadpool(apply)
    if wants_json(request):
        return JSONResponse({"id": arxiv_id, "upvotes": total, "upvoted": up})
    form = await request.form()
    return RedirectResponse(safe_next(form.get("next"), f"/papers/{arxiv_id}"), status_code=303)


async def comment(request: Request) -> Response:
    user = current_user(request)
    arxiv_id = request.path_params["arxiv_id"]
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    site.limiter.hit(site.settings.rate_limit_comment, f"comment:{user['id']}", what="comments")
    form = await request.form()
    body = (form.get("body") or "").strip()
    parent = form.get("parent_id")
    if not body:
        return RedirectResponse(f"/papers/{arxiv_id}#discussion", status_code=303)
    if len(body) > MAX_COMMENT:
        raise DailyPapersError(f"a comment may have at most {MAX_COMMENT} characters")

    def apply() -> int:
        pid = _paper_id(site, arxiv_id)
        with site.store.session() as session, session.begin():
            parent_id = int(parent) if parent and str(parent).isdigit() else None
            if parent_id is not None and not comment_store.exists(session, parent_id, pid):
                parent_id = None
            cid = comment_store.add(session, pid, user["id"], body, render_comment(body), parent_id)
            kv.bump(session)
        return cid

    cid = await run_in_threadpool(apply)
    return RedirectResponse(f"/papers/{arxiv_id}#comment-{cid}", status_code=303)


async def submit_form(request: Request) -> Response:
    """GET /submit: the form, and the member's submissions that went through the queue. With
    ?queued=ID, the fate of that submission: waiting (the page reloads itself), refused or failed
    (the reason), or featured (on to the paper's page)."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    queued = (request.query_params.get("queued") or "")[:60]

    def load():
        state = fetching.submission_state(site, user, queued) if queued else None
        return state, fetching.member_submissions(site, user)

    state, mine = await run_in_threadpool(load)
    notice = error = None
    refresh = None
    if state is not None:
        if state["state"] == "featured":
            ours = "?submitted=1" if state["day"] == site.today() else ""
            return RedirectResponse(f"/papers/{state['arxiv_id']}{ours}", status_code=303)
        said = f"{state['arxiv_id']} is {fetching.describe(state, site.settings)}."
        if state["state"] in fetches.OPEN:
            notice, refresh = said, fetching.REFRESH_SECONDS
        else:
            error = said
    response = render(request, "submit.html", value="", error=error, notice=notice, refresh=refresh, mine=mine)
    if state is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def parse_submission(value: str, today: dt.date) -> str:
    value = value.strip()
    for prefix in ("https://arxiv.org/abs/", "http://arxiv.org/abs/", "https://arxiv.org/pdf/", "arxiv.org/abs/"):
        if value.lower().startswith(prefix):
            value = value[len(prefix):]
    try:
        arxiv_id = split_arxiv_id(value)[0]
    except InvalidRecord:
        raise Refused(f"{value!r} is not an arXiv id or arXiv link (e.g. 2410.17243)") from None
    if not could_exist(arxiv_id, today):
        raise Refused(f"arXiv has issued no id {arxiv_id}: it names a month that has not come or a numbering of another time")
    return arxiv_id


async def submit(request: Request) -> Response:
    """POST /submit. A paper in the store is featured today at once (or refused, saying why);
    one the store lacks is queued and fetched from arXiv in the background by the fetch-papers
    job, which then applies the same rules for today: this answers at once either way, and never
    waits on arXiv."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    form = await request.form()
    value = (form.get("arxiv_id") or "")[:200]
    try:
        today = site.today()
        arxiv_id = parse_submission(value, today)
        site.limiter.hit(site.settings.rate_limit_submit, f"submit:{user['id']}", what="submissions")

        def apply() -> bool:
            """True when featured now; False when queued."""
            with site.store.session() as session, session.begin():
                paper = paper_store.get(session, arxiv_id)
                if paper is None:
                    fetches.open_request(session, arxiv_id, reason="submission", user_id=user["id"], day=today)
                    return False
                submissions.feature(
                    session, paper, user=user, day=today, submitted_at=site.now(), window=site.settings.submission_window_days
                )
                return True

        featured = await run_in_threadpool(apply)
    except Refused as exc:
        return render(request, "submit.html", status=400, value=value, error=str(exc), mine=None)
    if not featured:
        return RedirectResponse(f"/submit?queued={arxiv_id}", status_code=303)
    return RedirectResponse(f"/papers/{arxiv_id}?submitted=1", status_code=303)
