"""A member's own marks, from any card or page: Save / Saved, "Not interested" (hidden from their
feeds) and its Undo, and follows of authors, categories and searches, with the /following page.

Each action is a POST form (CSRF token, `next`; 303 back there) that works without JavaScript;
static/app.js posts the same forms with `Accept: application/json` and the x-csrftoken header and
updates the page in place. Personal writes count against DAILYPAPERS_RATE_LIMIT_PERSONAL, per
member. What these answers show is the member's own: never cached for anyone else (`private`)."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import taxonomy
from ..errors import DailyPapersError, NotFoundError
from ..personnames import author_key
from ..store import feedback as feedback_store
from ..store import follows as follow_store
from ..store import library
from ..store import papers as paper_store
from .auth import current_user, login_redirect, safe_next
from .site import site_of
from .views import render, wants_json

PRIVATE = "private, no-store"
MAX_FOLLOW_VALUE = 300
MAX_FOLLOW_LABEL = 200
MAX_FOLLOWS = 500  # per member
LONE_CATEGORY = re.compile(r"^\s*cat:([A-Za-z.-]{1,40})\s*$")
# path's last part -> (the answer's field, its value after the change is made)
PAPER_ACTIONS = {"save": "saved", "unsave": "saved", "dismiss": "dismissed", "undismiss": "dismissed"}


class BadFollow(DailyPapersError):
    """A follow the site cannot keep (answered 400 with the reason)."""


def private(response: Response) -> Response:
    response.headers["cache-control"] = PRIVATE
    return response


def count_write(request: Request, user: dict) -> None:
    """One personal write against the member's limit (429 with Retry-After beyond it)."""
    site = site_of(request)
    site.limiter.hit(site.settings.rate_limit_personal, f"personal:{user['id']}", what="changes to your library, feedback and follows")


def member_writing(request: Request) -> dict | None:
    """The signed-in member about to make a personal change, counted against their limit
    (`count_write`); None for a visitor."""
    user = current_user(request)
    if user is not None:
        count_write(request, user)
    return user


async def _login_instead(request: Request, what: str) -> Response:
    """A visitor's answer: 401 to a script, else the log-in page, then back to the page they were on."""
    if wants_json(request):
        return private(JSONResponse({"error": f"log in to {what}"}, status_code=401))
    form = await request.form()
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(safe_next(form.get('next')), safe='')}", status_code=303)


def paper_id(session, arxiv_id: str) -> int:
    found = paper_store.existing(session, [arxiv_id])
    if arxiv_id not in found:
        raise NotFoundError(f"no paper {arxiv_id} here")
    return found[arxiv_id].id


def apply_paper_action(site, user_id: int, arxiv_id: str, action: str) -> dict:
    """Save, unsave, dismiss or undismiss (idempotent), in one transaction; the answer the JSON
    API gives: {"id", "saved"} or {"id", "dismissed"}, the state after the change."""
    with site.store.session() as session, session.begin():
        pid = paper_id(session, arxiv_id)
        if action == "save":
            library.save(session, user_id, pid)
        elif action == "unsave":
            library.unsave(session, user_id, pid)
        elif action == "dismiss":
            feedback_store.dismiss(session, user_id, pid)
        elif action == "undismiss":
            feedback_store.undismiss(session, user_id, pid)
        else:
            raise NotFoundError(f"no action {action}")
        if PAPER_ACTIONS[action] == "saved":
            return {"id": arxiv_id, "saved": bool(library.saved(session, user_id, [pid], in_saved_only=True))}
        return {"id": arxiv_id, "dismissed": bool(feedback_store.dismissed(session, user_id, [pid]))}


async def paper_action(request: Request) -> Response:
    """POST /papers/{id}/save, /unsave, /dismiss, /undismiss."""
    action = request.url.path.rsplit("/", 1)[1]
    user = member_writing(request)
    if user is None:
        return await _login_instead(request, "save or hide papers")
    arxiv_id = request.path_params["arxiv_id"]
    answer = await run_in_threadpool(apply_paper_action, site_of(request), user["id"], arxiv_id, action)
    if wants_json(request):
        return private(JSONResponse(answer))
    form = await request.form()
    return RedirectResponse(safe_next(form.get("next"), f"/papers/{arxiv_id}"), status_code=303)


# --- follows -------------------------------------------------------------------------------------


def check_follow(kind: str, value: str, label: str) -> tuple[str, str]:
    """A follow as kept, (value, label), or BadFollow saying what is wrong: an author by their
    folded key (personnames.author_key), a category by its arXiv code (any case: kept canonical),
    a search by its text, which must parse in the search syntax."""
    if kind not in follow_store.KINDS:
        raise BadFollow(f"kind must be one of {', '.join(follow_store.KINDS)}")
    value = (value or "").strip()
    label = " ".join((label or "").split())
    if not value:
        raise BadFollow(f"a {kind} to follow is needed")
    if len(value) > MAX_FOLLOW_VALUE or len(label) > MAX_FOLLOW_LABEL:
        raise BadFollow(f"a followed {kind} has at most {MAX_FOLLOW_VALUE} characters, its label {MAX_FOLLOW_LABEL}")
    if kind == "category":
        code = taxonomy.canonical(value)
        if code is None:
            raise BadFollow(f"{value!r} is not an arXiv archive or category")
        return code, label or code
    if kind == "author":
        if author_key(value) is None:
            raise BadFollow("an author's name or key needs letters or digits")
        return value, label or value
    from ..search.query import SearchQuery, read

    read(SearchQuery(text=value))  # BadQuery (a DailyPapersError) with the reason
    return value, label or value


def apply_follow(site, user_id: int, kind: str, value: str, label: str, on: bool) -> dict:
    """Follow or unfollow (idempotent, one transaction); the state after it."""
    value, label = check_follow(kind, value, label)
    with site.store.session() as session, session.begin():
        if on:
            if not follow_store.is_following(session, user_id, kind, value) and len(follow_store.of_member(session, user_id)) >= MAX_FOLLOWS:
                raise BadFollow(f"you follow {MAX_FOLLOWS} things already: unfollow some first")
            follow_store.follow(session, user_id, kind, value, label)
        else:
            follow_store.unfollow(session, user_id, kind, value)
    return {"kind": kind, "value": value, "label": label, "following": on}


async def follow_action(request: Request) -> Response:
    """POST /follow and /unfollow: fields kind, value, label, csrftoken, next."""
    on = request.url.path == "/follow"
    user = member_writing(request)
    if user is None:
        return await _login_instead(request, "follow authors, categories and searches")
    form = await request.form()
    kind, value, label = (str(form.get(k) or "") for k in ("kind", "value", "label"))
    answer = await run_in_threadpool(apply_follow, site_of(request), user["id"], kind, value, label, on)
    if wants_json(request):
        return private(JSONResponse(answer))
    return RedirectResponse(safe_next(form.get("next"), "/following"), status_code=303)


def following(request: Request, kind: str, value: str | None) -> bool | None:
    """Whether the signed-in viewer follows this (None for a visitor: the button asks to log in)."""
    user = current_user(request)
    if user is None:
        return None
    if not value:
        return False
    with site_of(request).store.session() as session:
        return follow_store.is_following(session, user["id"], kind, value)


def search_follows(request: Request, text: str) -> dict:
    """The search page's follow buttons: of the search as typed, and of the category when the
    search is only `cat:X` (None values for a visitor)."""
    match = LONE_CATEGORY.match(text or "")
    category = taxonomy.canonical(match.group(1)) if match else None
    return {
        "search_following": following(request, "search", text.strip()) if text.strip() else False,
        "follow_category": category,
        "category_following": following(request, "category", category) if category else False,
    }


async def following_page(request: Request) -> Response:
    """GET /following: what the member follows, each with Unfollow."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)

    def load():
        with site.store.session() as session:
            return follow_store.of_member(session, user["id"])

    follows = await run_in_threadpool(load)
    grouped = {kind: [f for f in follows if f["kind"] == kind] for kind in follow_store.KINDS}
    return private(render(request, "following.html", grouped=grouped, total=len(follows)))
