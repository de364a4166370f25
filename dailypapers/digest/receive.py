"""Unsubscribing by email: the mailto: of a digest's List-Unsubscribe header (RFC 2369).

When `unsubscribe_address` is set, every digest offers `mailto:ADDRESS?subject=unsubscribe TOKEN`
beside the one-click link, and the mail server hands each message to that address to
`dailypapers digest receive` on standard input (a pipe alias, a procmail or sieve rule). The token
is the one of the unsubscribe link, so a message works exactly when that link would, whoever sends
it; the sender's address proves nothing and is not used."""

from __future__ import annotations

import email
import email.policy
import re

from ..errors import DailyPapersError
from ..store.engine import Store
from ..store.subscriptions import Subscriber
from . import optin
from .links import BadLink, Links

SUBJECT_WORD = "unsubscribe"
_REQUEST = re.compile(rf"\b{SUBJECT_WORD}\s+(\.?[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+)", re.IGNORECASE)
MAX_BYTES = 1 << 20  # an unsubscribe request is a few hundred bytes; read no more than this


class NotARequest(DailyPapersError):
    """The message holds no valid unsubscribe request. Exit status 65 (EX_DATAERR): mail servers
    bounce the message to its sender, who learns that nothing happened."""

    exit_code = 65


class TryLater(DailyPapersError):
    """The request could not be carried out now (the database is unreachable). Exit status 75
    (EX_TEMPFAIL): mail servers keep the message and deliver it again later."""

    exit_code = 75


def token_of(message: bytes) -> str:
    """The unsubscribe token in a message's subject (where the mailto puts it), or else in the
    first lines of its plain-text body (a client that moved it there)."""
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    places = [str(parsed.get("subject", ""))]
    body = parsed.get_body(("plain",)) if parsed.is_multipart() or parsed.get_content_type() == "text/plain" else None
    if body is not None:
        try:
            places.append("\n".join(body.get_content().splitlines()[:20]))
        except (LookupError, ValueError):  # an unknown charset: the subject alone then
            pass
    for text in places:
        found = _REQUEST.search(text)
        if found:
            return found.group(1).rstrip(".")
    raise NotARequest("no unsubscribe request in this message (its subject must read 'unsubscribe' and the token)")


def receive(store: Store, links: Links, message: bytes) -> tuple[Subscriber, bool]:
    """Unsubscribe the subscription the message's token names: (it, whether this changed anything)."""
    token = token_of(message)
    try:
        sub = optin.resolve(store, links, "unsubscribe", token)
    except BadLink as exc:
        raise NotARequest(str(exc)) from None
    return sub, optin.unsubscribe(store, sub)
