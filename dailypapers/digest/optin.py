"""Subscribing, confirming, changing and leaving: the rules, shared by the pages, the JSON API and
the one-click unsubscribe.

- Double opt-in: a new address is 'pending' and gets only the confirmation email until its link is
  followed.
- Never reveal whether an address is subscribed: every request gets the same answer. What differs
  goes by email to the address itself: a pending or returning address gets (again) a confirmation
  link, an active one its preferences link; the preferences of an active subscription are never
  changed by a request from someone who only knows the address.
- No flooding: one address gets at most one such email per `digest_resend_minutes` (counting the
  emails actually sent: after a failed one, subscribing again sends again).
- Never lost: the email is recorded in the outbox with the request, before the answer, and sent
  and retried from there (outbox.py).
- Links are signed and bound to the subscription's secret (links.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import DailyPapersError
from ..store import outbox as outbox_store
from ..store import subscriptions as sub_store
from ..store.engine import Store
from ..store.schema import utcnow
from ..store.subscriptions import Preferences, Subscriber
from .links import BadLink, Links, new_secret

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
TRENDING_CHOICES = (0, 3, 5, 10, 20, 30, 50)
MAX_QUERY = 300
MAX_CATEGORIES = 10


class InvalidRequest(DailyPapersError):
    """A subscription form or API request that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class Recorded:
    """What a subscription request recorded: the outbox id of the email to try at once (None when
    the address got one within `digest_resend_minutes`, or one is being sent), and whether mail is
    waiting for the server (an email failed and waits for its retry), for an honest answer."""

    mail_id: int | None
    mail_delayed: bool


def normalize_email(value: str | None) -> str:
    """The address as stored (lower case); raises InvalidRequest for what is not an address."""
    email = value.strip().lower() if isinstance(value, str) else ""
    if len(email) > 254 or not EMAIL.match(email) or ".." in email:
        raise InvalidRequest("That email address does not look right.")
    return email


def _flag(value) -> bool:
    return value is True or str(value).lower() in ("1", "true", "on", "yes")


def parse_preferences(values: Mapping, *, signed_in: bool, default_trending: int) -> Preferences:
    """Preferences from a form or a JSON body: cadence, trending (a count, 0 for none), query,
    categories (a list or comma-separated), similar (only for signed-in users)."""
    cadence = str(values.get("cadence") or "daily")
    if cadence not in sub_store.CADENCES:
        raise InvalidRequest("Choose a daily or a weekly digest.")
    raw = values.get("trending", default_trending)
    try:
        trending = int(raw) if raw not in (None, "") else 0
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequest("The number of trending papers must be a number.") from None
    if not 0 <= trending <= 50:
        raise InvalidRequest("Choose between 0 and 50 trending papers.")
    query = " ".join(str(values.get("query") or "").split())
    if len(query) > MAX_QUERY:
        raise InvalidRequest(f"A saved search may have at most {MAX_QUERY} characters.")
    if query:
        from ..index.query import BadQuery, parse

        try:
            parse(query)
        except BadQuery as exc:
            raise InvalidRequest(f"That search cannot be saved: {exc}") from None
    cats = values.get("categories") or []
    if isinstance(cats, str):
        cats = cats.replace(",", " ").split()
    if not isinstance(cats, list) or len(cats) > MAX_CATEGORIES:
        raise InvalidRequest(f"Give at most {MAX_CATEGORIES} categories.")
    categories: list[str] = []
    for cat in cats:
        cat = str(cat).strip()
        if not CATEGORY.match(cat):
            raise InvalidRequest(f"Not an arXiv category: {cat[:40]!r} (write e.g. cs.CL).")
        from ..index.query import normalize_category

        if normalize_category(cat) not in categories:
            categories.append(normalize_category(cat))
    similar = signed_in and _flag(values.get("similar"))
    prefs = Preferences(cadence, trending, query or None, tuple(categories), similar)
    if not (prefs.trending_count or prefs.has_topic or prefs.similar_to_upvotes):
        raise InvalidRequest("Choose something to receive: trending papers, a topic, or papers like your upvotes.")
    return prefs


def request_subscription(
    store: Store, email: str, prefs: Preferences, *, user_id: int | None = None, now: dt.datetime | None = None
) -> Recorded:
    """Record a subscription request and, in the same transaction, the email it causes (in the
    outbox, sent after the answer): a confirmation link, or an active address's preferences link.
    No new email when one was sent within `digest_resend_minutes`; an email still waiting (not
    sent yet, or failed and waiting for its retry) is made due at once instead of doubled. Raises
    the database's error (a full disk) when it cannot be recorded: then nothing was."""
    now = now or utcnow()
    quiet_since = now - dt.timedelta(minutes=store.settings.digest_resend_minutes)
    with store.writing() as session:  # reads the address's state, then writes what it decides
        sub = sub_store.by_email(session, email)
        if sub is None:
            sub_store.create_pending(session, email, prefs, new_secret(), user_id=user_id)
            kind = "confirm"
        elif sub.status == "pending":
            sub_store.set_preferences(session, sub.id, prefs, user_id=user_id)
            kind = "confirm"
        elif sub.status in ("unsubscribed", "suspended"):
            sub_store.restart(session, sub.id, prefs, new_secret(), user_id=user_id)
            kind = "confirm"
        else:
            kind = "manage"
        sub = sub_store.by_email(session, email, lock=True)  # concurrent requests for one address queue here
        mail_id = None if sub is None else _queue(session, sub, kind, now, quiet_since)
        delayed = outbox_store.retrying(session)
    return Recorded(mail_id, delayed)


def _queue(session, sub: Subscriber, kind: str, now: dt.datetime, quiet_since: dt.datetime) -> int | None:
    """The outbox id of the email to try now for this request, or None. Only emails actually sent
    count for the quiet time: a failed one never stops the next request from sending."""
    waiting = outbox_store.open_for(session, sub.id)
    if waiting is not None:
        if waiting.status == "pending" and outbox_store.renew(session, waiting.id, kind, now):
            return waiting.id
        return None  # being sent right now
    if sub.confirm_sent_at is not None and sub.confirm_sent_at > quiet_since:
        return None
    return outbox_store.add(session, kind, sub.email, subscription_id=sub.id, now=now)


def resolve(store: Store, links: Links, purpose: str, token: str) -> Subscriber:
    """The subscription a link names; raises BadLink when it is forged, expired or revoked."""
    target = links.read(purpose, token)
    with store.session() as session:
        sub = sub_store.get(session, target.subscription_id)
    if sub is None or not target.matches(sub.secret):
        raise BadLink("this link is no longer valid (the subscription was renewed or removed)")
    return sub


def confirm(store: Store, sub: Subscriber) -> bool:
    with store.session() as session, session.begin():
        return sub_store.confirm(session, sub.id, utcnow())


def unsubscribe(store: Store, sub: Subscriber) -> bool:
    """Takes effect at once: the next digest run does not see the address."""
    with store.session() as session, session.begin():
        return sub_store.unsubscribe(session, sub.id, utcnow())


def resubscribe(store: Store, sub: Subscriber) -> bool:
    with store.session() as session, session.begin():
        return sub_store.reactivate(session, sub.id)


def update_preferences(store: Store, sub: Subscriber, prefs: Preferences) -> None:
    with store.session() as session, session.begin():
        sub_store.set_preferences(session, sub.id, prefs)


def reload(store: Store, sub: Subscriber) -> Subscriber:
    with store.session() as session:
        return sub_store.get(session, sub.id) or sub
