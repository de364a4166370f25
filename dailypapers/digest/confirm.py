"""One-off emails to one address: the double opt-in confirmation, and the preferences link sent when
an active address subscribes again. Recorded in deliveries like digests (kind confirm or manage)."""

from __future__ import annotations

import logging

from ..store import deliveries as delivery_store
from ..store import subscriptions as sub_store
from ..store.engine import Store
from ..store.schema import utcnow
from ..store.subscriptions import Subscriber
from .mailer import Mailer, message_id, run_id
from .render import Content
from .transport import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger(__name__)


def describe_preferences(prefs: sub_store.Preferences) -> str:
    """What a subscription receives, in words (for the confirmation email and pages)."""
    parts = []
    if prefs.trending_count:
        parts.append(f"the {prefs.trending_count} top trending papers")
    if prefs.topic_query:
        parts.append(f"new papers matching “{prefs.topic_query}”")
    if prefs.topic_categories:
        parts.append("new papers in " + ", ".join(prefs.topic_categories))
    if prefs.similar_to_upvotes:
        parts.append("new papers like the ones you upvoted")
    return "; ".join(parts)


def _send_single(store: Store, subscriber: Subscriber, kind: str, content: Content, mailer: Mailer | None) -> bool:
    """A one-off email (confirmation, manage link), recorded in deliveries like digests. True when sent."""
    own = mailer is None
    mailer = mailer or Mailer(store)
    now = utcnow()
    period = now.strftime("%Y-%m-%dT%H:%M:%S.%f")
    msg_id = message_id(kind, period, subscriber.id, mailer.domain)
    links, sub = mailer.links, subscriber
    unsubscribe = links.token("unsubscribe", sub.id, sub.secret)
    parts = content.encoded(sub.email, links.url("preferences", sub.id, sub.secret), links.url("unsubscribe", sub.id, sub.secret))
    headers = mailer.list_headers(sub.preferences.cadence, unsubscribe)
    message = mailer.message(content, sub.email, msg_id, parts=parts, list_headers=headers)
    run = run_id()
    try:
        with store.session() as session, session.begin():
            delivery_id = delivery_store.claim_new(
                session, subscriber.id, kind, period, sender=run, lease_until=now, message_id=msg_id, paper_ids=[]
            )
        if delivery_id is None:
            return False
        try:
            mailer.deliver(subscriber.email, message, msg_id)
        except (TemporaryFailure, PermanentFailure, TransportError) as exc:
            log.warning("could not send the %s email to %s: %s", kind, subscriber.email, exc)
            with store.session() as session, session.begin():
                delivery_store.mark_failed(session, delivery_id, str(exc))
            return False
        with store.session() as session, session.begin():
            delivery_store.mark_sent(session, delivery_id, utcnow())
        return True
    finally:
        if own:
            mailer.close()


def send_confirmation(store: Store, subscriber: Subscriber, mailer: Mailer | None = None) -> bool:
    """The double opt-in email: nothing else is sent to a pending address."""
    mailer_ = mailer or Mailer(store)
    try:
        url = mailer_.links.url("confirm", subscriber.id, subscriber.secret)
        content = mailer_.renderer.confirmation(subscriber.preferences.cadence, describe_preferences(subscriber.preferences), url)
        return _send_single(store, subscriber, "confirm", content, mailer_)
    finally:
        if mailer is None:
            mailer_.close()


def send_manage_link(store: Store, subscriber: Subscriber, mailer: Mailer | None = None) -> bool:
    """To an active address that subscribes again: its preferences and unsubscribe links."""
    mailer_ = mailer or Mailer(store)
    try:
        content = mailer_.renderer.already_subscribed(
            subscriber.preferences.cadence,
            mailer_.links.url("preferences", subscriber.id, subscriber.secret),
            mailer_.links.url("unsubscribe", subscriber.id, subscriber.secret),
        )
        return _send_single(store, subscriber, "manage", content, mailer_)
    finally:
        if mailer is None:
            mailer_.close()
