"""The mail room of one site: its transport with the retry policy, its From address, its signed
links and its templates; and the deterministic Message-IDs."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..store import kv
from ..store.engine import Store
from . import mime, receive
from .links import Links
from .render import Content, Renderer, mail_domain, sender
from .transport import TemporaryFailure, local_hostname, open_transport

log = logging.getLogger(__name__)


def site_secret(store: Store) -> str:
    """The secret the web site signs with (web/site.py keeps the same one)."""
    return store.settings.secret_key or kv.get_or_create(store, "secret_key", lambda: secrets.token_urlsafe(48))


@dataclass(kw_only=True)
class Delivered:
    """What a sending run did with its emails (digests, or the outbox's confirmations and account
    emails); each report adds its own counts."""

    sent: int = 0
    skipped: int = 0
    deferred: int = 0  # failed for now; tried again later
    failed: int = 0
    resent_after_interruption: int = 0
    unknown: int = 0  # a crashed run's: sent or not, nobody knows
    busy: int = 0  # taken by another sender first
    stopped: str | None = None  # why the run stopped early

    def counted(self, *names: str) -> list[str]:
        """"name N" for each of these counts that is not zero."""
        return [f"{name.replace('_', ' ')} {getattr(self, name)}" for name in names if getattr(self, name)]

    def stopped_note(self) -> str:
        return f"; stopped: {self.stopped}" if self.stopped else ""


ACTIVE_RUNS: set[str] = set()  # the sending runs going on in this process (see `sender_gone`)


def run_id() -> str:
    """Names one sending run: host:pid:random (see send.py for how it is used after a crash)."""
    return f"{local_hostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sender_gone(sender: str | None, lease_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the sender of a row marked 'sending' is gone: a process of this host that no longer
    exists, a finished run of this process, or, from another host, a lease that ran out."""
    host, _, rest = (sender or "").partition(":")
    pid_text, _, _ = rest.partition(":")
    if host == local_hostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return sender not in ACTIVE_RUNS
        if not _pid_alive(pid):
            return True
    return lease_until is None or lease_until <= now


def message_id(kind: str, period: str, subscription_id: int, domain: str) -> str:
    """Deterministic per (kind, period, subscription): a duplicate, if ever, has the same id."""
    return f"<{kind}.{period.replace(':', '.')}.{subscription_id}@{domain}>"


class Mailer:
    """A transport with the retry policy, the From address and the links of one site."""

    def __init__(self, store: Store, transport=None):
        self.store = store
        self.settings = store.settings
        self.transport = transport or open_transport(self.settings)
        self.links = Links(site_secret(store), self.settings.base_url, confirm_hours=self.settings.digest_confirm_hours)
        self.domain = mail_domain(self.settings)
        name, self.from_addr = sender(self.settings)
        self.from_header = mime.address(name, self.from_addr)
        self.renderer = Renderer(self.settings)
        self.sleep: Callable[[float], None] = time.sleep

    def message(self, content: Content, to: str, msg_id: str, *, parts: tuple[bytes, bytes], list_headers: list[tuple[str, str]]) -> bytes:
        """The message to one address; `parts` is Content.encoded(...) for it."""
        headers = [
            ("From", self.from_header),
            ("To", to),
            ("Subject", mime.header_value("Subject", content.subject)),
            ("Date", email.utils.format_datetime(dt.datetime.now(dt.UTC))),
            ("Message-ID", msg_id),
            ("Auto-Submitted", "auto-generated"),
        ] + list_headers
        return mime.build(headers, *parts)

    def list_headers(self, cadence: str, unsubscribe_token: str) -> list[tuple[str, str]]:
        """List-Id and RFC 8058 one-click List-Unsubscribe for a subscription: an https URL, and a
        mailto when an address that `dailypapers digest receive` reads is configured."""
        targets = [f"<{self.links.one_click_url(unsubscribe_token)}>"]
        if self.settings.unsubscribe_address:
            targets.append(f"<mailto:{self.settings.unsubscribe_address}?subject={receive.SUBJECT_WORD}%20{unsubscribe_token}>")
        site = self.settings.site_name.replace('"', "")
        return [
            ("List-Id", mime.header_value("List-Id", f"{site} {cadence} digest <{cadence}.digest.{self.domain}>")),
            ("List-Unsubscribe", mime.fold_list(targets)),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
        ]

    def deliver(self, to: str, message: bytes, msg_id: str, *, retries: int | None = None) -> None:
        """Send with in-run retries of temporary failures (default `smtp_retries`); raises the last failure."""
        retries = self.settings.smtp_retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                self.transport.send(self.from_addr, to, message, msg_id)
                return
            except TemporaryFailure as exc:
                if attempt == retries:
                    raise
                wait = self.settings.smtp_backoff * (2**attempt)
                log.info("temporary failure for %s (%s); retrying in %.1fs", to, exc, wait)
                self.sleep(wait)

    def close(self) -> None:
        self.transport.close()
