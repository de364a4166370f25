"""Accounts: sign up, log in, log out, and who is signed in.

The session cookie holds a random token (HttpOnly, SameSite=Lax, Secure on https); the store keeps
only its SHA-256, so a leaked database does not leak sessions. Passwords are hashed with argon2."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..store import tokens as token_store
from ..store import users as user_store
from .site import Site, site_of

COOKIE = "dp_session"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,38}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_user(request: Request) -> dict | None:
    """The signed-in user, looked up once per request. A request that carries a bearer token is
    never signed in by its cookie: the CSRF check lets such requests through without a CSRF token
    (asgi-csrf: a token is no ambient credential), so only the token may speak for it (api_member)."""
    if "user" in request.state._state:
        return request.state.user
    user = None
    token = request.cookies.get(COOKIE)
    if token and not bearer(request):
        site = site_of(request)
        with site.store.session() as session:
            user = user_store.user_for_session(session, token_hash(token))
    request.state.user = user
    return user


def bearer(request: Request) -> bool:
    """Whether the request carries `Authorization: Bearer ...` (any case)."""
    return request.headers.get("authorization", "")[:7].lower() == "bearer "


def api_member(request: Request) -> dict | None:
    """Who calls the personal API (/api/me/...): the holder of a live personal API token sent as
    `Authorization: Bearer <token>`, else the signed-in member of the session cookie. A request
    with a token that is wrong or revoked is nobody's, even with a cookie."""
    if "api_member" in request.state._state:
        return request.state.api_member
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if header and scheme.lower() == "bearer":
        site = site_of(request)
        with site.store.session() as session, session.begin():
            member = token_store.member_for(session, secret.strip(), "api")
    else:
        member = current_user(request)
    request.state.api_member = member
    return member


def start_session(site: Site, response: Response, user_id: int) -> None:
    token = secrets.token_urlsafe(32)
    expires = site.now() + dt.timedelta(days=site.settings.session_days)
    with site.store.session() as session, session.begin():
        user_store.add_session(session, token_hash(token), user_id, expires)
        user_store.touch_login(session, user_id)
    response.set_cookie(
        COOKIE,
        token,
        max_age=site.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=site.settings.base_url.startswith("https://"),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        site = site_of(request)
        with site.store.session() as session, session.begin():
            user_store.end_session(session, token_hash(token))
    response.delete_cookie(COOKIE, path="/")


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: `next` must never send people to another origin."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def validate_signup(username: str, password: str, email: str | None) -> str | None:
    """The problem with a sign-up form, or None."""
    if not USERNAME.match(username or ""):
        return "Choose a name of 2 to 39 letters, digits, - or _, starting with a letter or digit."
    if len(password or "") < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters."
    if len(password) > 1024:
        return "That password is too long."
    if email and not EMAIL.match(email):
        return "That email address does not look right."
    return None
