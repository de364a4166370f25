"""Security by default: response headers, CSRF protection, password hashing, rate limits."""

from __future__ import annotations

import json
import math
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from asgi_csrf import asgi_csrf, default_send_csrf_failed

# No inline script anywhere (KaTeX and our own JS are files under /static); styles may be set by
# KaTeX through the CSSOM, which the policy allows without 'unsafe-inline'.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware on every request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(event):
            if event["type"] == "http.response.start":
                present = {k for k, _ in event.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                event = {**event, "headers": list(event.get("headers", [])) + extra}
            await send(event)

        await self.app(scope, receive, send_with_headers)


# Forms that work before anyone has a cookie still need a token: login CSRF is real.
ALWAYS_PROTECT = {"/login", "/signup", "/subscribe"}
# RFC 8058 one-click unsubscribe is POSTed by mail clients, which hold no token.
CSRF_EXEMPT_PREFIXES = ("/unsubscribe/one-click",)
# Multipart forms (a file upload) whose handler checks the form's token itself (check_form_csrf):
# asgi-csrf's own multipart reader no longer works with python-multipart (see web/limits.py).
CSRF_IN_HANDLER = ("/library/import",)


def _skip_csrf(scope) -> bool:
    if scope["path"].startswith(CSRF_EXEMPT_PREFIXES):
        return True
    if scope["path"] in CSRF_IN_HANDLER:
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"
    return False


class CsrfFailed(Exception):
    """A form whose CSRF token is missing or wrong, found by its handler (403)."""


def check_form_csrf(request, form) -> None:
    """The double-submit check asgi-csrf makes, for a multipart form its handler has read: the
    form's `csrftoken` must equal the visitor's signed csrftoken cookie (scope's token is a fresh,
    unguessable one when the cookie is missing or forged)."""
    import secrets

    sent = form.get("csrftoken")
    expected = request.scope["csrftoken"]()
    if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed("form field csrftoken did not match the cookie")


def with_csrf(app, secret: str, *, secure: bool):
    """Double-submit-cookie CSRF protection for every state-changing request: forms carry the
    `csrftoken` field, scripts the `x-csrftoken` header."""
    return asgi_csrf(
        app,
        signing_secret=secret,
        always_protect=ALWAYS_PROTECT,
        cookie_secure=secure,
        cookie_samesite="Lax",
        skip_if_scope=_skip_csrf,
        send_csrf_failed=_csrf_failed,
    )


async def _csrf_failed(scope, send, message_id) -> None:
    """The JSON API answers a missing or wrong token in its own error shape (as documented);
    pages get asgi-csrf's plain answer."""
    if not scope["path"].startswith("/api/"):
        await default_send_csrf_failed(scope, send, message_id)
        return
    body = json.dumps({"error": "CSRF check failed: send the csrftoken cookie's value in the x-csrftoken header"}).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A dummy hash to verify against when the user does not exist, so timing does not reveal names.
DUMMY_HASH = _hasher.hash("not a real password")


class RateLimited(Exception):
    def __init__(self, retry_after: int, what: str):
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after
        self.what = what


class RateLimiter:
    """Fixed-window limits from the `limits` library, over a shared storage (see store/ratelimit)."""

    def __init__(self, storage_uri: str, store=None):
        from limits import strategies
        from limits.storage import storage_from_string

        if storage_uri == "store":
            from ..store.ratelimit import StoreStorage

            storage = StoreStorage(store)
        else:
            storage = storage_from_string(storage_uri)
        self.limiter = strategies.FixedWindowRateLimiter(storage)

    def hit(self, limit: str, *keys: str, what: str = "requests", cost: int = 1) -> None:
        """Count one hit (or `cost` hits) against `limit` (e.g. '10/minute') for each key; raise
        RateLimited when over."""
        from limits import parse

        item = parse(limit)
        for key in keys:
            if not self.limiter.hit(item, key, cost=cost):
                reset = self.limiter.get_window_stats(item, key).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())), what)
