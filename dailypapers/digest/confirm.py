"""One-off emails to a subscription's address: the double opt-in confirmation, and the preferences
link sent when an active address subscribes again. Recorded in the outbox by the request that
causes them (optin.py), built from the subscription when their turn comes (outbox.py)."""

from __future__ import annotations

from ..store import subscriptions as sub_store
from ..store.subscriptions import Subscriber
from .mailer import Mailer


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


def message(mailer: Mailer, sub: Subscriber, kind: str, msg_id: str) -> bytes | str:
    """The email of `kind` to a subscription, as it stands now: 'confirm', the double opt-in link
    (nothing else is sent to a pending address); 'manage', its preferences and unsubscribe links (to
    an active address that subscribes again). A str, saying why, when it is no longer wanted."""
    links, cadence = mailer.links, sub.preferences.cadence
    if kind == "confirm":
        if sub.status != "pending":
            return f"not sent: the subscription is {sub.status} now"
        url = links.url("confirm", sub.id, sub.secret)
        content = mailer.renderer.confirmation(cadence, describe_preferences(sub.preferences), url)
    else:
        if sub.status != "active":
            return f"not sent: the subscription is {sub.status} now"
        content = mailer.renderer.already_subscribed(
            cadence, links.url("preferences", sub.id, sub.secret), links.url("unsubscribe", sub.id, sub.secret)
        )
    parts = content.encoded(sub.email, links.url("preferences", sub.id, sub.secret), links.url("unsubscribe", sub.id, sub.secret))
    headers = mailer.list_headers(cadence, links.token("unsubscribe", sub.id, sub.secret))
    return mailer.message(content, sub.email, msg_id, parts=parts, list_headers=headers)
