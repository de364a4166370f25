"""Email digest pages: subscribe (a form and a JSON API), confirm, preferences and unsubscribe
through signed links, and RFC 8058 one-click unsubscribe. The rules live in digest/optin.py.

Every subscription request gets the same answer whatever the state of the address, and the email
it causes is recorded with the request (in the outbox) and sent after the response (so its timing
tells nothing either); the mail-outbox job retries it until it goes through. When the request
cannot be recorded (the database's disk is full) the answer says so, with a 503: nothing is
claimed that was not recorded. Pages reached through a
signed link change nothing on GET: they show a button that POSTs (with the CSRF token); only the
one-click endpoint, which mail clients POST without cookies, acts directly."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ..digest import optin
from ..digest.links import Links
from ..digest.optin import InvalidRequest
from ..errors import one_line
from ..store.subscriptions import Subscriber
from .auth import client_address, current_user
from .site import Site, site_of
from .views import render

log = logging.getLogger(__name__)

SENT = "Check your inbox. If the address can receive mail, a message with a link is on its way; nothing else will be sent until you follow it."
DELAYED = (
    "Your request is recorded. Our mail server is not taking mail right now, so the message with the link will be "
    "sent shortly, as soon as it does; nothing else will be sent until you follow it."
)
NOT_RECORDED = "We could not record your subscription just now. Nothing was saved and no email will come: please try again later."
RETRY_AFTER = "120"
NO_STORE = {"Cache-Control": "no-store"}


def _links(site: Site) -> Links:
    return Links(site.secret, site.settings.base_url, confirm_hours=site.settings.digest_confirm_hours)


def _send(site: Site, recorded: optin.Recorded) -> BackgroundTask | None:
    """The first try of the email the request recorded, run after the response is sent."""
    if recorded.mail_id is None:
        return None
    from ..digest.outbox import send_now

    return BackgroundTask(send_now, site.store, recorded.mail_id)


async def _record(site: Site, request: Request, email: str, prefs, user: dict | None) -> optin.Recorded | None:
    """Rate limits, then the request and its email recorded; None (logged in one line) when the
    database cannot take them."""
    try:
        _limit(site, request, email)
        return await run_in_threadpool(optin.request_subscription, site.store, email, prefs, user_id=(user or {}).get("id"))
    except OperationalError as exc:
        log.error("could not record a subscription request: %s", one_line(exc))
        return None


def _limit(site: Site, request: Request, email: str) -> None:
    site.limiter.hit(site.settings.rate_limit_subscribe, f"subscribe-ip:{client_address(request)}", what="subscription requests")
    site.limiter.hit(site.settings.rate_limit_subscribe_email, f"subscribe-email:{email}", what="subscription requests for this address")


def _form_values(form) -> dict:
    return {
        "email": form.get("email") or "",
        "cadence": form.get("cadence") or "daily",
        "trending": form.get("trending") or "0",
        "query": form.get("query") or "",
        "categories": form.get("categories") or "",
        "similar": form.get("similar") or "",
    }


def _subscribe_page(request: Request, values: dict, error: str | None = None, status: int = 200) -> Response:
    user = current_user(request)
    return render(
        request, "subscribe.html", status=status, values=values, error=error, signed_in=user is not None,
        choices=optin.TRENDING_CHOICES,
    )


async def subscribe_form(request: Request) -> Response:
    """GET /subscribe"""
    site = site_of(request)
    user = current_user(request)
    values = {
        "email": (user or {}).get("email") or "",
        "cadence": request.query_params.get("cadence", "daily"),
        "trending": str(site.settings.digest_trending_count),
        "query": request.query_params.get("q", "")[: optin.MAX_QUERY],
        "categories": " ".join(request.query_params.getlist("cat"))[:200],
        "similar": "",
    }
    return _subscribe_page(request, values)


async def subscribe(request: Request) -> Response:
    """POST /subscribe"""
    site = site_of(request)
    user = current_user(request)
    values = _form_values(await request.form())
    try:
        email = optin.normalize_email(values["email"])
        prefs = optin.parse_preferences(values, signed_in=user is not None, default_trending=0)
    except InvalidRequest as exc:
        return _subscribe_page(request, values, str(exc), status=400)
    recorded = await _record(site, request, email, prefs, user)
    if recorded is None:
        response = render(request, "subscribe_notice.html", status=503, title="Please try again later", message=NOT_RECORDED)
        response.headers.update({"Retry-After": RETRY_AFTER, **NO_STORE})
        return response
    message = DELAYED if recorded.mail_delayed else SENT
    response = render(request, "subscribe_notice.html", title="Almost there", message=message)
    response.background = _send(site, recorded)
    return response


async def api_subscribe(request: Request) -> Response:
    """POST /api/subscriptions with a JSON body {email, cadence, trending, query, categories, similar}:
    202 with the same answer whatever the address's state."""
    site = site_of(request)
    user = current_user(request)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    try:
        email = optin.normalize_email(body.get("email"))
        prefs = optin.parse_preferences(body, signed_in=user is not None, default_trending=site.settings.digest_trending_count)
    except InvalidRequest as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    recorded = await _record(site, request, email, prefs, user)
    if recorded is None:
        return JSONResponse({"error": NOT_RECORDED}, status_code=503, headers={"Retry-After": RETRY_AFTER})
    message = DELAYED if recorded.mail_delayed else SENT
    return JSONResponse({"status": "check-your-inbox", "message": message}, status_code=202, background=_send(site, recorded))


async def _resolve(request: Request, purpose: str) -> tuple[Site, Subscriber, str]:
    site = site_of(request)
    token = request.path_params["token"]
    sub = await run_in_threadpool(optin.resolve, site.store, _links(site), purpose, token)
    return site, sub, token


def _notice(request: Request, title: str, message: str, **context) -> Response:
    response = render(request, "subscribe_notice.html", title=title, message=message, **context)
    response.headers.update(NO_STORE)
    return response


async def confirm_page(request: Request) -> Response:
    """GET /subscribe/confirm/{token}: a button, so that mail scanners following links confirm nothing."""
    site, sub, token = await _resolve(request, "confirm")
    if sub.status == "pending":
        return _notice(
            request, "Confirm your subscription", f"Confirm the {sub.preferences.cadence} digest for {sub.email}.",
            action=f"/subscribe/confirm/{token}", button="Confirm my subscription",
        )
    if sub.status == "active":
        return _confirmed(request, site, sub, "This subscription is already confirmed.")
    return _notice(request, "Link no longer valid", "This subscription was cancelled. Subscribe again to get a new link.",
                   link=("/subscribe", "Subscribe"))


def _confirmed(request: Request, site: Site, sub: Subscriber, message: str) -> Response:
    preferences = _links(site).url("preferences", sub.id, sub.secret).removeprefix(site.settings.base_url.rstrip("/"))
    return _notice(request, "You are subscribed", message, link=(preferences, "Change what you receive"))


async def confirm(request: Request) -> Response:
    """POST /subscribe/confirm/{token}"""
    site, sub, _ = await _resolve(request, "confirm")
    if sub.status not in ("pending", "active"):
        return _notice(request, "Link no longer valid", "This subscription was cancelled. Subscribe again to get a new link.",
                       link=("/subscribe", "Subscribe"))
    await run_in_threadpool(optin.confirm, site.store, sub)
    cadence = "weekly digest every week" if sub.preferences.cadence == "weekly" else "daily digest on weekdays"
    return _confirmed(request, site, sub, f"Done: {sub.email} will get the {cadence}. Every email has links to change it or leave.")


def _preferences_page(request: Request, sub: Subscriber, token: str, *, error=None, saved=False, values=None, status=200) -> Response:
    prefs = sub.preferences
    values = values or {
        "cadence": prefs.cadence,
        "trending": str(prefs.trending_count),
        "query": prefs.topic_query or "",
        "categories": " ".join(prefs.topic_categories),
        "similar": "1" if prefs.similar_to_upvotes else "",
    }
    response = render(
        request, "preferences.html", status=status, sub=sub, token=token, values=values, error=error, saved=saved,
        choices=optin.TRENDING_CHOICES, linked=sub.user_id is not None,
    )
    response.headers.update(NO_STORE)
    return response


async def preferences_page(request: Request) -> Response:
    """GET /preferences/{token}"""
    _, sub, token = await _resolve(request, "preferences")
    return _preferences_page(request, sub, token)


async def preferences(request: Request) -> Response:
    """POST /preferences/{token}: save, unsubscribe or subscribe again."""
    site, sub, token = await _resolve(request, "preferences")
    form = await request.form()
    action = form.get("action") or "save"
    if action == "unsubscribe":
        await run_in_threadpool(optin.unsubscribe, site.store, sub)
    elif action == "resubscribe":
        await run_in_threadpool(optin.resubscribe, site.store, sub)
    else:
        values = _form_values(form)
        try:
            prefs = optin.parse_preferences(values, signed_in=sub.user_id is not None, default_trending=0)
        except InvalidRequest as exc:
            return _preferences_page(request, sub, token, error=str(exc), values=values, status=400)
        await run_in_threadpool(optin.update_preferences, site.store, sub, prefs)
    sub = await run_in_threadpool(optin.reload, site.store, sub)
    return _preferences_page(request, sub, token, saved=True)


async def unsubscribe_page(request: Request) -> Response:
    """GET /unsubscribe/{token}: a button (a GET must not change anything)."""
    _, sub, token = await _resolve(request, "unsubscribe")
    if sub.status == "unsubscribed":
        return _notice(request, "You are unsubscribed", f"{sub.email} gets no more digests.")
    return _notice(
        request, "Unsubscribe", f"Stop the {sub.preferences.cadence} digest for {sub.email}? It takes effect at once.",
        action=f"/unsubscribe/{token}", button="Unsubscribe",
    )


async def unsubscribe(request: Request) -> Response:
    """POST /unsubscribe/{token}"""
    site, sub, _ = await _resolve(request, "unsubscribe")
    await run_in_threadpool(optin.unsubscribe, site.store, sub)
    preferences = _links(site).url("preferences", sub.id, sub.secret).removeprefix(site.settings.base_url.rstrip("/"))
    return _notice(request, "You are unsubscribed", f"{sub.email} gets no more digests.",
                   link=(preferences, "Changed your mind? Subscribe again"))


async def one_click(request: Request) -> Response:
    """POST /unsubscribe/one-click/{token}: RFC 8058, POSTed by mail clients (no cookie, no CSRF
    token: the signed link is the authority). Takes effect at once."""
    site, sub, _ = await _resolve(request, "unsubscribe")
    await run_in_threadpool(optin.unsubscribe, site.store, sub)
    return PlainTextResponse("Unsubscribed.\n", headers=NO_STORE)
