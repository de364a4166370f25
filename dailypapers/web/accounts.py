"""Sign up, log in, log out. Rate limited per address (and per account for log-in)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..store import users as user_store
from .auth import client_address, current_user, end_session, safe_next, start_session, validate_signup
from .security import DUMMY_HASH, hash_password, needs_rehash, verify_password
from .site import site_of
from .views import render


async def login_form(request: Request) -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "login.html", next=safe_next(request.query_params.get("next")), error=None, username="")


async def login(request: Request) -> Response:
    site = site_of(request)
    form = await request.form()
    username = (form.get("username") or "").strip()[:100]
    password = form.get("password") or ""
    target = safe_next(form.get("next"))
    site.limiter.hit(
        site.settings.rate_limit_login, f"login-ip:{client_address(request)}", f"login-user:{username.lower()}", what="log-in attempts"
    )

    def check() -> dict | None:
        with site.store.session() as session:
            user = user_store.by_name(session, username) if username else None
        if user is None or user["is_disabled"]:
            verify_password(DUMMY_HASH, password)  # same work whether or not the name exists
            return None
        if not verify_password(user["password_hash"], password):
            return None
        if needs_rehash(user["password_hash"]):
            with site.store.session() as session, session.begin():
                user_store.set_password_hash(session, user["id"], hash_password(password))
        return user

    user = await run_in_threadpool(check)
    if user is None:
        return render(request, "login.html", status=400, next=target, error="Wrong name or password.", username=username)
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, site, response, user["id"])
    return response


async def signup_form(request: Request) -> Response:
    return render(request, "signup.html", next=safe_next(request.query_params.get("next")), error=None, username="", email="")


async def signup(request: Request) -> Response:
    site = site_of(request)
    form = await request.form()
    username = (form.get("username") or "").strip()
    email = (form.get("email") or "").strip() or None
    password = form.get("password") or ""
    target = safe_next(form.get("next"))
    site.limiter.hit(site.settings.rate_limit_signup, f"signup-ip:{client_address(request)}", what="sign-ups")
    problem = validate_signup(username, password, email)

    def create() -> int:
        with site.store.session() as session, session.begin():
            return user_store.create(session, username, hash_password(password), email=email)

    if problem is None:
        try:
            user_id = await run_in_threadpool(create)
        except user_store.UserExists as exc:
            problem = f"Sorry, {exc}."
    if problem is not None:
        return render(request, "signup.html", status=400, next=target, error=problem, username=username, email=email or "")
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, site, response, user_id)
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(end_session, request, response)
    return response
