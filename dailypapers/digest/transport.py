"""Where messages go: an SMTP server (DAILYPAPERS_SMTP_URL), or, by default, .eml files in an outbox
folder. Failures are sorted into what a retry may fix (4xx answers, refused or dropped connections)
and what it will not (5xx for this recipient or message); a server that refuses us altogether (bad
credentials, our sender address rejected) stops the run.

URL forms: smtp://user:pass@host:587 uses STARTTLS when the server offers it (?starttls=required
insists, ?starttls=off never tries, for local test servers); smtps://user:pass@host:465 is TLS from
the first byte. One connection is kept open for many messages."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ..config import Settings
from ..errors import ConfigError, DailyPapersError


class TemporaryFailure(Exception):
    """The message may go through later (4xx, connection refused or lost, timeout)."""

    def __init__(self, message: str, *, connection: bool = False):
        super().__init__(message)
        self.connection = connection  # the server as a whole, not this recipient


class PermanentFailure(Exception):
    """The server refused this recipient or message for good (5xx)."""


class TransportError(DailyPapersError):
    """The server will not take mail from us at all; sending stops."""


def _classify(code: int, text: str, what: str) -> Exception:
    reply = f"{what}: {code} {text}".strip()
    return TemporaryFailure(reply) if 400 <= code < 500 else PermanentFailure(reply)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SMTPTransport:
    """Delivers over one reused SMTP connection."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(f"DAILYPAPERS_SMTP_URL must be smtp://host:port or smtps://host:port, not {url!r}")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        try:
            self.port = parts.port or (465 if self.tls else 25)
        except ValueError:
            raise ConfigError(f"DAILYPAPERS_SMTP_URL has a bad port: {url!r}") from None
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.starttls = options.get("starttls", "auto")
        if self.starttls not in ("auto", "required", "off"):
            raise ConfigError("DAILYPAPERS_SMTP_URL: starttls must be auto, required or off")
        self.timeout = timeout
        self.conn: smtplib.SMTP | None = None
        self.description = f"{parts.scheme}://{self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if self.tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if not self.tls and self.starttls != "off":
                if conn.has_extn("starttls"):
                    conn.starttls(context=context)
                    conn.ehlo()
                elif self.starttls == "required":
                    conn.close()
                    raise TransportError(f"{self.description} does not offer STARTTLS, which the URL requires")
            if self.user:
                conn.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(f"{self.description} refused our credentials: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportError(f"{self.description}: {exc}") from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS with {self.description} failed: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"{self.description}: {exc.smtp_code} {_text(exc.smtp_error)}", connection=True) from None
            raise TransportError(f"{self.description} refused the connection: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach {self.description}: {exc}", connection=True) from None
        return conn

    def send(self, from_addr: str, to_addr: str, message: bytes, message_id: str = "") -> None:
        """Hand one message to the server; raises TemporaryFailure, PermanentFailure or TransportError."""
        reused = self.conn is not None
        try:
            self._send(from_addr, to_addr, message)
        except TemporaryFailure as exc:
            # A server may close a connection that has carried many messages: one fresh try at once.
            if not (reused and exc.connection):
                raise
            self._send(from_addr, to_addr, message)

    def _send(self, from_addr: str, to_addr: str, message: bytes) -> None:
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.sendmail(from_addr, [to_addr], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, _text(text), f"recipient {to_addr} refused") from None
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}") from None
            raise TransportError(f"{self.description} refuses our sender {from_addr}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPDataError as exc:
            raise _classify(exc.smtp_code, _text(exc.smtp_error), "message refused") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code == 421 or 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}", connection=True) from None
            raise _classify(exc.smtp_code, _text(exc.smtp_error), "refused") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TemporaryFailure(f"connection to {self.description} lost: {exc or type(exc).__name__}", connection=True) from None

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    conn.close()
                except OSError:
                    pass


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxTransport:
    """Writes each message as an .eml file (named after its Message-ID, so writing it again replaces
    it); what happens when no SMTP server is configured."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.description = str(folder)
        self.written = 0

    def send(self, from_addr: str, to_addr: str, message: bytes, message_id: str = "") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = _UNSAFE_NAME.sub("_", message_id.strip("<>")) or f"message-{os.getpid()}-{self.written}"
        path = self.folder / f"{name}.eml"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(message)
        os.replace(tmp, path)  # a reader never sees half a message
        self.written += 1

    def close(self) -> None:
        pass


def outbox_dir(settings: Settings) -> Path:
    return settings.outbox_dir or settings.data_dir / "outbox"


def open_transport(settings: Settings):
    """The transport the settings name: SMTP when smtp_url is set, else the outbox folder."""
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url, timeout=settings.smtp_timeout)
    return OutboxTransport(outbox_dir(settings))


def local_hostname() -> str:
    return socket.gethostname()
