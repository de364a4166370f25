"""A real SMTP server for the digest tests: aiosmtpd in this process, recording what it accepts and
answering with the failures a test asks for."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Recorder:
    """The handler: accepts everything unless told otherwise.

    `rcpt_replies[address]` is a list of replies given to that recipient's next RCPT commands, in
    turn ("451 ..." temporary, "550 ..." permanent); when the list is empty the recipient is
    accepted. `always_refuse[address]` is a reply given every time. `delay` seconds (`hold` from the
    `hold_from`th message on) pass between the end of DATA and the acceptance; the message is kept
    only if the client is still there."""

    delay: float = 0.0
    hold_from: int | None = None  # the DATA of this message and later ones waits `hold` seconds
    hold: float = 5.0
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    always_refuse: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    data_started: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.always_refuse:
            return self.always_refuse[address]
        queue = self.rcpt_replies.get(address)
        if queue:
            return queue.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_started += 1
            number = self.data_started
        wait = self.hold if self.hold_from is not None and number >= self.hold_from else self.delay
        if wait:
            await asyncio.sleep(wait)  # cancelled when the client goes away: nothing kept
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"

    def count_by_recipient(self) -> Counter:
        with self.lock:
            return Counter(r for m in self.received for r in m.recipients)

    def messages_to(self, address: str) -> list:
        with self.lock:
            return [m.message for m in self.received if address in m.recipients]


class SMTPServer:
    """`with SMTPServer() as server:` a server on a free port; `server.url` is its smtp_url."""

    def __init__(self, handler: Recorder | None = None, port: int | None = None, **options):
        self.handler = handler or Recorder()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, decode_data=False, **options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=off"

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> "SMTPServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


LINK = re.compile(r"https?://testserver(/[^\s\"'<>]+)")


def links_in(text: str) -> list[str]:
    """The site paths linked from a message part."""
    return LINK.findall(text)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, made with the openssl command (skip without it)."""
    import shutil

    import pytest

    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def password_checker(user: str, password: str):
    """An aiosmtpd authenticator accepting one user."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    return check
