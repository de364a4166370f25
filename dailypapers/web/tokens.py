"""/account/tokens: a member's personal API tokens (for /api/me/..., sent as `Authorization:
Bearer <token>`) and the key of their private Atom feed (/feeds/me/{key}.atom). A secret is shown
once, on the page that answers its creation (never in a URL, never cached: `private, no-store`);
the store keeps only its hash and its last characters (the hint). Revoked ones stay listed."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import DailyPapersError, NotFoundError
from ..store import tokens as token_store
from .auth import current_user, login_redirect
from .personal import member_writing, private
from .site import site_of
from .views import render

MAX_NAME = 100
MAX_LIVE = 20  # live API tokens per member


def feed_url(site, secret: str) -> str:
    return f"{site.base_url}/feeds/me/{secret}.atom"


def _page(request: Request, user: dict, *, status: int = 200, created: dict | None = None, error: str | None = None) -> Response:
    site = site_of(request)
    with site.store.session() as session:
        every = token_store.of_member(session, user["id"])
    api = [t for t in every if t["kind"] == "api"]
    feed = [t for t in every if t["kind"] == "feed"]
    live_feed = next((t for t in feed if t["revoked_at"] is None), None)
    return private(render(request, "tokens.html", status=status, api_tokens=api, feed_keys=feed, live_feed=live_feed,
                          created=created, error=error))


async def tokens_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    return await run_in_threadpool(_page, request, user)


async def create_token(request: Request) -> Response:
    """POST /account/tokens (name): a new API token, shown once on the page this answers."""
    user = member_writing(request)
    if user is None:
        return login_redirect(request)
    form = await request.form()
    name = " ".join(str(form.get("name") or "").split())
    site = site_of(request)

    def make() -> Response:
        if not name:
            return _page(request, user, status=400, error="Give the token a name (what will use it).")
        if len(name) > MAX_NAME:
            return _page(request, user, status=400, error=f"A token's name has at most {MAX_NAME} characters.")
        with site.store.session() as session, session.begin():
            live = [t for t in token_store.of_member(session, user["id"], "api") if t["revoked_at"] is None]
            if len(live) >= MAX_LIVE:
                raise DailyPapersError(f"you have {MAX_LIVE} live tokens: revoke one first")
            token_id, secret = token_store.create(session, user["id"], "api", name)
        return _page(request, user, created={"kind": "api", "id": token_id, "name": name, "secret": secret})

    return await run_in_threadpool(make)


async def create_feed_key(request: Request) -> Response:
    """POST /account/tokens/feed: a new private feed URL; the previous one stops working."""
    user = member_writing(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)

    def make() -> Response:
        with site.store.session() as session, session.begin():
            for old in token_store.of_member(session, user["id"], "feed"):
                if old["revoked_at"] is None:
                    token_store.revoke(session, user["id"], old["id"])
            token_id, secret = token_store.create(session, user["id"], "feed", "Private feed")
        return _page(request, user, created={"kind": "feed", "id": token_id, "name": "Private feed", "secret": secret,
                                             "url": feed_url(site, secret)})

    return await run_in_threadpool(make)


async def revoke_token(request: Request) -> Response:
    """POST /account/tokens/{id}/revoke: an API token or the feed key stops working at once."""
    user = member_writing(request)
    if user is None:
        return login_redirect(request)
    raw = request.path_params["token_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFoundError("no such token")
    site = site_of(request)

    def revoke() -> None:
        with site.store.session() as session, session.begin():
            if not any(t["id"] == int(raw) for t in token_store.of_member(session, user["id"])):
                raise NotFoundError("no such token")  # another member's, or none: the same answer
            token_store.revoke(session, user["id"], int(raw))

    await run_in_threadpool(revoke)
    return RedirectResponse("/account/tokens", status_code=303)
