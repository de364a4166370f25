"""Sign up, log in, log out, and confirming the email address of a new account. Rate limited per
client address (and per account for log-in).

Sign-up answers the same whether or not the email address given has an account here: the account is
made without it, and the address's owner is told by email (digest/account_mail.py): the email is
recorded in the outbox with the account, and sent after the answer (retried by the mail-outbox job). The address is attached when its owner follows the signed link in that email."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..digest import account_mail, optin, outbox
from ..digest.links import BadLink
from ..store import users as user_store
from .auth import client_address, current_user, end_session, safe_next, start_session, validate_signup
from .security import DUMMY_HASH, RateLimited, hash_password, needs_rehash, verify_password
from .site import Site, site_of
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
    raw_email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    target = safe_next(form.get("next"))
    site.limiter.hit(site.settings.rate_limit_signup, f"signup-ip:{client_address(request)}", what="sign-ups")
    problem = validate_signup(username, password, None)
    email = None
    if problem is None and raw_email:
        try:
            email = optin.normalize_email(raw_email)
        except optin.InvalidRequest as exc:
            problem = str(exc)

    mail = problem is None and email is not None and _may_email(site, email)

    def create() -> tuple[int, int | None]:
        """The account and, in the same transaction, the email it causes (the address comes once confirmed)."""
        with site.store.session() as session, session.begin():
            user_id = user_store.create(session, username, hash_password(password))
            return user_id, account_mail.queue_after_signup(session, user_id, email) if mail else None

    if problem is None:
        try:
            user_id, mail_id = await run_in_threadpool(create)
        except user_store.UserExists as exc:  # names are public: saying one is taken reveals nothing
            problem = f"Sorry, {exc}."
    if problem is not None:
        return render(request, "signup.html", status=400, next=target, error=problem, username=username, email=raw_email)
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, site, response, user_id)
    if mail_id is not None:
        response.background = BackgroundTask(outbox.send_now, site.store, mail_id)  # sent after the answer
    return response


def _may_email(site: Site, email: str) -> bool:
    """Whether a sign-up with this address may cause an email: none beyond the per-address limit
    (the sign-up itself still goes through, and answers the same)."""
    try:
        site.limiter.hit(site.settings.rate_limit_account_email, f"account-email:{email}", what="account emails")
    except RateLimited:
        return False
    return True


async def _address_link(request: Request) -> tuple[Site, dict, str]:
    """The account and address a confirmation link names; BadLink (a 400) when it is not valid."""
    site = site_of(request)
    user_id, email = account_mail.links_for(site.store).read(request.path_params["token"])

    def account() -> dict | None:
        with site.store.session() as session:
            return user_store.by_id(session, user_id)

    found = await run_in_threadpool(account)
    if found is None or found["is_disabled"]:
        raise BadLink("the account this link was made for no longer exists")
    return site, found, email


def _notice(request: Request, title: str, message: str, status: int = 200, **context) -> Response:
    response = render(request, "subscribe_notice.html", status=status, title=title, message=message, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def email_confirm_page(request: Request) -> Response:
    """GET /account/email/{token}: a button, so that mail scanners following links attach nothing."""
    _, account, email = await _address_link(request)
    if (account["email"] or "").lower() == email:
        return _notice(request, "Address confirmed", f"{email} is the address of the account {account['username']}.")
    return _notice(request, "Confirm your email address", f"Add {email} to the account {account['username']}?",
                   action=request.url.path, button="Confirm my address")


async def email_confirm(request: Request) -> Response:
    """POST /account/email/{token}"""
    site, account, email = await _address_link(request)

    def attach() -> None:
        with site.store.session() as session, session.begin():
            user_store.set_email(session, account["id"], email)

    try:
        await run_in_threadpool(attach)
    except user_store.UserExists:
        return _notice(request, "Address already in use",
                       f"{email} belongs to another account here, so it was not added to {account['username']}.", status=409)
    return _notice(request, "Address confirmed", f"Done: {email} is now the address of the account {account['username']}.")


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(end_session, request, response)
    return response
