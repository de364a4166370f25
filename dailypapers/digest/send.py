"""Sending digests exactly once (the one-off emails, confirmations and account emails, go through
the outbox: outbox.py, which handles a crash the same way).

    send_digests(store, "daily") -> SendReport        (`dailypapers digest send`, the scheduled jobs)

Exactly once. Each (subscription, period) digest has one row in `deliveries`, unique on
(subscription, kind, period). A sender inserts it with status 'sending', naming itself
(host:pid:run), and commits BEFORE the SMTP transaction starts; only the process whose insert
succeeded may send. When the server has accepted the message the row becomes 'sent', in the same
commit that claims the next subscriber's row, so each sender has at most one message in flight and
the time between the server's acceptance and our record is one commit. A digest with nothing new is
recorded 'skipped' and no email goes out.

The message in flight at a crash (SIGKILL, power loss) is bounded like this: its row stays 'sending'.
The next run finds it: when its sender is gone (same host and that process no longer exists, or, from
another host, its lease `digest_lease_seconds` has run out), the row is taken over and the digest is
sent once more, with the same deterministic Message-ID. We resend rather than give up because
nearly all of a send is before the server accepts (composing, connecting, transmitting), and a
server that did not answer "250" to the end of DATA has not accepted the message (aiosmtpd and real
servers drop a message whose connection was lost). So the resend is a duplicate only when the crash
fell between the server's acceptance and our commit, a window of one database commit, and then it
carries the same Message-ID, which mail clients use to collapse duplicates. A row interrupted twice
is marked 'unknown' and never sent a third time. So: every digest is sent at least once unless its
sender died twice holding it, and at most twice, the second time only inside that one-commit window.

Failures. Temporary ones (4xx, refused or lost connections) are retried in the run, with backoff
(`smtp_retries`, `smtp_backoff` doubling); a digest still failing is deferred ('pending' with
`next_attempt_at`, doubling from `digest_retry_minutes`) for a later run, up to
`digest_max_attempts`; when the server itself is unreachable the run stops and later runs go on
where it stopped. Permanent ones (5xx) mark the digest 'failed' and count against the address, which
is suspended after `digest_suspend_after` permanent failures in a row."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..store import deliveries as delivery_store
from ..store import subscriptions as sub_store
from ..store.engine import Store
from ..store.schema import utcnow
from ..store.subscriptions import Subscriber
from .compose import Composer, Digest
from .mailer import ACTIVE_RUNS, Delivered, Mailer, message_id, run_id, sender_gone
from .period import DigestPeriod, latest_due
from .transport import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger(__name__)

BATCH = 250  # subscribers composed, then sent, at a time


@dataclass
class SendReport(Delivered):
    cadence: str
    period: str
    where: str = ""
    dry_run: bool = False
    subscribers: int = 0
    suspended: int = 0
    done_before: int = 0  # already sent, skipped or failed by an earlier run
    rendered: int = 0
    seconds: float = 0.0
    previews: list[tuple[str, str, str]] = field(default_factory=list)  # dry run: (email, subject, text)

    def summary(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        parts = [f"{self.period}: {verb} {self.sent}", f"skipped {self.skipped} (nothing new)"]
        parts += self.counted("deferred", "failed", "suspended", "resent_after_interruption", "unknown", "done_before", "busy")
        text = ", ".join(parts) + f" of {self.subscribers} subscribers in {self.seconds:.1f}s"
        return text + self.stopped_note()


# --- digests ------------------------------------------------------------------------------------


def due_period(store: Store, cadence: str, now: dt.datetime | None = None) -> DigestPeriod:
    """The latest period of this cadence whose digests are due at `now` (aware; default: now)."""
    settings = store.settings
    now = now or dt.datetime.now(dt.UTC)
    return latest_due(cadence, now, ZoneInfo(settings.timezone), settings.digest_time, settings.digest_weekday)


@dataclass
class _Work:
    subscriber: Subscriber
    digest: Digest | None = None
    retry_id: int | None = None  # the pending row to claim, when retrying


def send_digests(
    store: Store,
    cadence: str,
    *,
    period: DigestPeriod | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    only: str | None = None,
    mailer: Mailer | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Compose and send the digests of `period` (default: the latest due) to the active subscribers
    of `cadence` (or only the address `only`). Safe to run again, and alongside another run: each
    digest goes out once. With `dry_run`, nothing is sent or recorded."""
    started = time.perf_counter()
    settings = store.settings
    aware_now = now or dt.datetime.now(dt.UTC)
    db_now = aware_now.astimezone(dt.UTC).replace(tzinfo=None)
    period = period or due_period(store, cadence, aware_now)
    report = SendReport(cadence, period.key, dry_run=dry_run)
    with store.session() as session:
        subscribers = sub_store.active(session, cadence, email=only)
        states = delivery_store.states(session, "digest", period.key)
    report.subscribers = len(subscribers)
    run = run_id()
    ACTIVE_RUNS.add(run)
    own_mailer = mailer is None
    mailer = mailer or Mailer(store)
    report.where = mailer.transport.description
    try:
        work = _work_list(store, subscribers, states, db_now, report, dry_run)
        composer = Composer(store, period, topic_limit=settings.digest_topic_count)
        done = 0
        for start in range(0, len(work), BATCH):
            batch = work[start : start + BATCH]
            composer.prepare([item.subscriber for item in batch])  # the batch's recommendations, at once
            for item in batch:
                item.digest = composer.compose_for(item.subscriber)
            if dry_run:
                _dry_run(mailer, batch, report, preview=only is not None)
            else:
                _record_empty(store, batch, period, report)
                _send_batch(store, mailer, batch, period, run, db_now, report)
            done += len(batch)
            if on_progress:
                on_progress(done, len(work))
            if report.stopped:
                break
        report.rendered = mailer.renderer.rendered
    finally:
        ACTIVE_RUNS.discard(run)
        if own_mailer:
            mailer.close()
    report.seconds = time.perf_counter() - started
    return report


def _work_list(store, subscribers, states, now, report: SendReport, dry_run: bool) -> list[_Work]:
    """Who still needs this period's digest; takes over rows of senders that died."""
    work = []
    max_attempts = store.settings.digest_max_attempts
    for sub in subscribers:
        state = states.get(sub.id)
        if state is None:
            work.append(_Work(sub))
            continue
        if state.status == "sending":
            if not sender_gone(state.sender, state.next_attempt_at, now):
                report.busy += 1
                continue
            give_up = state.interrupted >= 1
            if not dry_run:
                with store.session() as session, session.begin():
                    if not delivery_store.take_over(session, state.id, state.sender, give_up=give_up):
                        report.busy += 1  # another run took it over first
                        continue
            if give_up:
                report.unknown += 1
                continue
            report.resent_after_interruption += 1
            work.append(_Work(sub, retry_id=state.id))
        elif state.status == "pending":
            if state.attempts >= max_attempts:
                if not dry_run:
                    with store.session() as session, session.begin():
                        delivery_store.mark_failed(session, state.id, f"gave up after {state.attempts} attempts")
                        if sub_store.failed_permanently(session, sub.id, store.settings.digest_suspend_after):
                            report.suspended += 1
                report.failed += 1
            elif state.next_attempt_at is None or state.next_attempt_at <= now:
                work.append(_Work(sub, retry_id=state.id))
            else:
                report.deferred += 1
        else:
            report.done_before += 1
    return work


def _dry_run(mailer: Mailer, batch: list[_Work], report: SendReport, *, preview: bool) -> None:
    renderer = mailer.renderer
    for item in batch:
        if item.digest.empty:
            report.skipped += 1
            continue
        report.sent += 1
        if preview:
            content = renderer.digest(item.digest)
            _, text = content.personal(item.subscriber.email, "(preferences link)", "(unsubscribe link)")
            report.previews.append((item.subscriber.email, content.subject, text))


def _record_empty(store: Store, batch: list[_Work], period: DigestPeriod, report: SendReport) -> None:
    """Nothing new: record 'skipped' (one transaction for the batch) and move the alerts' start on."""
    fresh = [w.subscriber.id for w in batch if w.digest.empty and w.retry_id is None]
    retried = [w for w in batch if w.digest.empty and w.retry_id is not None]
    if not fresh and not retried:
        return
    with store.session() as session, session.begin():
        if fresh:
            delivery_store.record_skipped(session, fresh, "digest", period.key)
        for w in retried:
            delivery_store.mark_skipped(session, w.retry_id)
        sub_store.advance(session, fresh + [w.subscriber.id for w in retried], period.covered_until)
    report.skipped += len(fresh) + len(retried)


def _send_batch(store, mailer: Mailer, batch: list[_Work], period: DigestPeriod, run: str, now, report: SendReport) -> None:
    """Build every message of the batch first, then send them one at a time: the commit that
    records message k as sent also claims message k+1, right before its SMTP transaction."""
    settings = store.settings
    renderer = mailer.renderer
    lease = dt.timedelta(seconds=settings.digest_lease_seconds)
    outgoing = []
    for item in batch:
        if item.digest.empty:
            continue
        sub = item.subscriber
        content = renderer.digest(item.digest)
        unsub = mailer.links.token("unsubscribe", sub.id, sub.secret)
        prefs_url = mailer.links.url("preferences", sub.id, sub.secret)
        unsub_url = mailer.links.url("unsubscribe", sub.id, sub.secret)
        parts = content.encoded(sub.email, prefs_url, unsub_url)
        msg_id = message_id("digest", period.key, sub.id, mailer.domain)
        outgoing.append((item, msg_id, mailer.message(content, sub.email, msg_id, parts=parts,
                                                      list_headers=mailer.list_headers(period.cadence, unsub))))
    previous: tuple | None = None  # (delivery id, work item, outcome) not yet recorded
    with store.session() as session:
        try:
            for item, msg_id, message in outgoing:
                sub = item.subscriber
                with session.begin():
                    if previous is not None:
                        _record(session, settings, period, previous, report)
                    lease_until = utcnow() + lease
                    if item.retry_id is not None:
                        claimed = delivery_store.claim_retry(
                            session, item.retry_id, sender=run, lease_until=lease_until, paper_ids=item.digest.paper_ids, now=now
                        )
                        delivery_id = item.retry_id if claimed else None
                    else:
                        delivery_id = delivery_store.claim_new(
                            session, sub.id, "digest", period.key, sender=run, lease_until=lease_until, message_id=msg_id,
                            paper_ids=item.digest.paper_ids,
                        )
                previous = None  # recorded: only now, after the commit
                if delivery_id is None:
                    report.busy += 1  # another sender claimed it between our read and now
                    continue
                try:
                    mailer.deliver(sub.email, message, msg_id)
                    outcome: Exception | None = None
                except (TemporaryFailure, PermanentFailure) as exc:
                    outcome = exc
                except TransportError as exc:
                    previous = (delivery_id, item, TemporaryFailure(str(exc), connection=True))
                    report.stopped = str(exc)
                    break
                previous = (delivery_id, item, outcome)
                if isinstance(outcome, TemporaryFailure) and outcome.connection:
                    report.stopped = f"the mail server is unreachable: {outcome}"
                    break
        finally:
            if previous is not None:
                if session.in_transaction():
                    session.rollback()
                with session.begin():
                    _record(session, settings, period, previous, report)


def _record(session, settings, period: DigestPeriod, previous: tuple, report: SendReport) -> None:
    delivery_id, item, outcome = previous
    sub_id = item.subscriber.id
    if outcome is None:
        delivery_store.mark_sent(session, delivery_id, utcnow())
        sub_store.delivered(session, sub_id, period.covered_until)
        report.sent += 1
        return
    if isinstance(outcome, TemporaryFailure):
        row = delivery_store.get(session, delivery_id)
        attempts = row["attempts"] if row else 1
        if attempts < settings.digest_max_attempts:
            # The server down is no fault of this address: its digest goes first in the next run.
            wait = dt.timedelta(0) if outcome.connection else dt.timedelta(minutes=settings.digest_retry_minutes * 2 ** (attempts - 1))
            delivery_store.defer(session, delivery_id, str(outcome), utcnow() + wait)
            report.deferred += 1
            return
        outcome = PermanentFailure(f"gave up after {attempts} attempts: {outcome}")
    delivery_store.mark_failed(session, delivery_id, str(outcome))
    report.failed += 1
    if sub_store.failed_permanently(session, sub_id, settings.digest_suspend_after):
        report.suspended += 1
        log.warning("suspended %s after %d permanent failures", item.subscriber.email, settings.digest_suspend_after)
