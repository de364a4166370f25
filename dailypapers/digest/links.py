"""Signed links in emails: confirm a subscription, open its preferences, unsubscribe.

A token names the subscription and carries a tag of the subscription's own secret, signed with the
site's secret (itsdangerous, one salt per purpose, so a link for one purpose never works for
another). Links work without logging in and without cookies. Rotating a subscription's secret (done
when an address subscribes again after leaving) revokes every link sent before. Confirmation links
expire after `digest_confirm_hours`; preferences and unsubscribe links do not, so an unsubscribe
link in a year-old email still works, as RFC 8058 expects."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import DailyPapersError

PURPOSES = ("confirm", "preferences", "unsubscribe")
PATHS = {"confirm": "/subscribe/confirm/", "preferences": "/preferences/", "unsubscribe": "/unsubscribe/"}
ONE_CLICK = "/unsubscribe/one-click/"


class BadLink(DailyPapersError):
    """A link that is not ours, was altered, was revoked, or has expired (the message says which)."""


def read_pair(signer: URLSafeTimedSerializer, token: str, max_age: int | None, expired: str) -> tuple[int, str]:
    """The (id, text) a signed link carries; raises BadLink, saying `expired` for an expired one,
    when it is forged, altered or expired."""
    try:
        value = signer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadLink(expired) from None
    except BadSignature:
        raise BadLink("this link is not valid (it may be incomplete: copy the whole link from the email)") from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise BadLink("this link is not valid")
    return value[0], value[1]


def new_secret() -> str:
    """A subscription's secret."""
    return secrets.token_urlsafe(24)


def secret_tag(subscription_secret: str) -> str:
    return hashlib.blake2b(subscription_secret.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True)
class LinkTarget:
    """Whom a valid token names; `tag` must match the subscription's current secret."""

    subscription_id: int
    tag: str

    def matches(self, subscription_secret: str) -> bool:
        return secrets.compare_digest(self.tag, secret_tag(subscription_secret))


class Links:
    """Makes and reads the tokens of one site."""

    def __init__(self, site_secret: str, base_url: str, *, confirm_hours: int = 48):
        self.base_url = base_url.rstrip("/")
        self.confirm_seconds = confirm_hours * 3600
        self._signers = {p: URLSafeTimedSerializer(site_secret, salt=f"dailypapers-digest-{p}") for p in PURPOSES}

    def token(self, purpose: str, subscription_id: int, subscription_secret: str) -> str:
        return self._signers[purpose].dumps([subscription_id, secret_tag(subscription_secret)])

    def url(self, purpose: str, subscription_id: int, subscription_secret: str) -> str:
        return self.base_url + PATHS[purpose] + self.token(purpose, subscription_id, subscription_secret)

    def one_click_url(self, unsubscribe_token: str) -> str:
        return self.base_url + ONE_CLICK + unsubscribe_token

    def read(self, purpose: str, token: str) -> LinkTarget:
        """Who the token names; raises BadLink when it is forged, altered or expired."""
        max_age = self.confirm_seconds if purpose == "confirm" else None
        expired = "this link has expired; subscribe again to get a new one"
        return LinkTarget(*read_pair(self._signers[purpose], token, max_age, expired))
