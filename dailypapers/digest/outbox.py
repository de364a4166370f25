"""Mail that must not be lost: the one-off emails (a subscription's confirmation or preferences
link, an account email), sent from the outbox.

    send_now(store, mail_id)    right after the answer to the request that recorded it (web)
    send_due(store)             the mail-outbox job, every minute: retries, and what send_now missed

Recorded first. The request that causes an email writes its outbox row in its own transaction (the
subscription, the new account) before it answers; a database that cannot take the row (a full
disk) fails the request, so the visitor is told, and nothing is claimed that was not recorded. The
message is built when its turn comes, from the rows it names (so a retry carries the links and
preferences as they are then); an email no longer wanted (a confirmation for a subscription
confirmed meanwhile) is recorded 'skipped'.

Sending. A sender claims a due row ('pending' -> 'sending', naming itself host:pid:run, with a
lease of `digest_lease_seconds`) in one statement, so the web's attempt and the job's never both
send it; it makes one SMTP attempt, then records the outcome in one commit: 'sent' (with the time,
and the subscription's confirm_sent_at), or, after a temporary failure (4xx, server refused or
unreachable, time-out), 'pending' again with its next try `mail_retry_minutes` later, doubling with
each try, until `mail_max_attempts` tries have failed: then 'failed'. A permanent refusal (5xx) is
'failed' at once. When the server cannot be reached the job stops its run; the next run goes on.

At least once, like digests (send.py). A sender killed between the server's acceptance and the
commit that records it leaves its row 'sending'; the job takes it over once that sender is gone
(its process no longer exists, or its lease ran out) and sends it once more, with the same
deterministic Message-ID, which mail clients use to collapse duplicates. A row interrupted twice is
marked 'unknown' and not sent a third time. We prefer at least once to at most once: a lost
confirmation is a subscriber lost without a trace, a duplicate inside a one-commit window is
harmless."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..errors import one_line
from ..store import outbox as outbox_store
from ..store import subscriptions as sub_store
from ..store.engine import Store
from ..store.outbox import Mail
from ..store.schema import utcnow
from . import account_mail, confirm
from .mailer import ACTIVE_RUNS, Delivered, Mailer, run_id, sender_gone
from .transport import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger(__name__)

SUBSCRIPTION_KINDS = ("confirm", "manage")
BATCH = 200  # emails at most per run of the job


@dataclass(kw_only=True)
class OutboxReport(Delivered):
    def summary(self) -> str:
        parts = self.counted("sent", "deferred", "failed", "skipped", "resent_after_interruption", "unknown", "busy")
        return "outbox: " + (", ".join(parts) or "nothing to send") + self.stopped_note()

    @property
    def idle(self) -> bool:
        return not (self.sent or self.deferred or self.failed or self.skipped or self.resent_after_interruption or self.unknown
                    or self.stopped)


def message_id(mail: Mail, domain: str) -> str:
    """Deterministic per row: a resend after an interruption carries the same id."""
    return f"<{mail.kind}.{mail.created_at:%Y%m%dT%H%M%S}.{mail.id}@{domain}>"


def _build(store: Store, mailer: Mailer, mail: Mail, msg_id: str) -> bytes | str:
    with store.session() as session:
        if mail.kind in SUBSCRIPTION_KINDS:
            sub = sub_store.get(session, mail.subscription_id) if mail.subscription_id is not None else None
            return "not sent: the subscription no longer exists" if sub is None else confirm.message(mailer, sub, mail.kind, msg_id)
        return account_mail.message(store, session, mailer, mail, msg_id)


def _retry_at(store: Store, attempts: int, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(minutes=store.settings.mail_retry_minutes * 2 ** (attempts - 1))


def _send_one(store: Store, mailer: Mailer, mail_id: int, run: str, due_by: dt.datetime, report: OutboxReport) -> None:
    """Claim one email due by `due_by`, send it (one attempt) and record the outcome."""
    settings = store.settings
    lease_until = utcnow() + dt.timedelta(seconds=settings.digest_lease_seconds)
    with store.session() as session, session.begin():
        mail = outbox_store.claim(session, mail_id, sender=run, lease_until=lease_until, now=due_by)
    if mail is None:
        report.busy += 1
        return
    msg_id = message_id(mail, mailer.domain)
    message = _build(store, mailer, mail, msg_id)
    if isinstance(message, str):
        with store.session() as session, session.begin():
            outbox_store.mark_skipped(session, mail.id, run, message)
        report.skipped += 1
        return
    try:
        mailer.deliver(mail.recipient, message, msg_id, retries=0)
    except (TemporaryFailure, TransportError) as exc:
        connection = isinstance(exc, TransportError) or exc.connection
        with store.session() as session, session.begin():
            if mail.attempts >= settings.mail_max_attempts:
                outbox_store.mark_failed(session, mail.id, run, f"gave up after {mail.attempts} tries: {exc}")
                report.failed += 1
                log.warning("gave up the %s email to %s after %d tries: %s", mail.kind, mail.recipient, mail.attempts, exc)
            else:
                retry_at = _retry_at(store, mail.attempts, utcnow())
                outbox_store.defer(session, mail.id, run, str(exc), retry_at)
                report.deferred += 1
                log.info("the %s email to %s waits for a retry at %s UTC: %s", mail.kind, mail.recipient, f"{retry_at:%H:%M}", exc)
        if connection:
            report.stopped = f"the mail server is unreachable or refuses us: {exc}"
        return
    except PermanentFailure as exc:
        with store.session() as session, session.begin():
            outbox_store.mark_failed(session, mail.id, run, str(exc))
        report.failed += 1
        log.warning("the %s email to %s was refused: %s", mail.kind, mail.recipient, exc)
        return
    sent_at = utcnow()
    with store.session() as session, session.begin():  # the one commit between acceptance and our record
        outbox_store.mark_sent(session, mail.id, run, msg_id, sent_at)
        if mail.subscription_id is not None:
            sub_store.note_sent(session, mail.subscription_id, sent_at)
    report.sent += 1


def _send(store: Store, mail_ids: list[int], due_by: dt.datetime, report: OutboxReport, mailer: Mailer | None = None) -> None:
    run = run_id()
    ACTIVE_RUNS.add(run)
    own = mailer is None
    mailer = mailer or Mailer(store)
    try:
        for mail_id in mail_ids:
            _send_one(store, mailer, mail_id, run, due_by, report)
            if report.stopped:
                break
    finally:
        ACTIVE_RUNS.discard(run)
        if own:
            mailer.close()


def send_now(store: Store, mail_id: int) -> bool:
    """The first try of an email just recorded, after the answer; a failure is left to the job, and
    logged in one line. True when it was sent."""
    report = OutboxReport()
    try:
        _send(store, [mail_id], utcnow(), report)
    except Exception as exc:  # after the answer: nobody to tell but the log; the row stays for the job
        log.warning("could not send email %d now (the mail-outbox job will): %s", mail_id, one_line(exc))
        return False
    return report.sent == 1


def _take_over(store: Store, now: dt.datetime, report: OutboxReport) -> None:
    """Rows whose sender died while sending: pending again (sent once more), or given up."""
    with store.session() as session:
        held = outbox_store.in_flight(session)
    for mail in held:
        if not sender_gone(mail.sender, mail.next_attempt_at, now):
            continue
        give_up = mail.interrupted >= 1
        with store.session() as session, session.begin():
            if not outbox_store.take_over(session, mail.id, mail.sender, give_up=give_up, now=now):
                continue
        if give_up:
            report.unknown += 1
            log.warning("the %s email to %s was interrupted twice while sending; not sent again", mail.kind, mail.recipient)
        else:
            report.resent_after_interruption += 1


def send_due(store: Store, *, now: dt.datetime | None = None, mailer: Mailer | None = None) -> OutboxReport:
    """Send the emails whose time has come (first tries the web did not make, retries), after taking
    over those whose sender died. Safe alongside other runs and the web's own tries."""
    now = now or utcnow()
    report = OutboxReport()
    _take_over(store, now, report)
    with store.session() as session:
        ids = outbox_store.due(session, now, BATCH)
    if ids:
        _send(store, ids, now, report, mailer)
    return report
