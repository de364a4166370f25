"""`dailypapers digest send`, `receive` and `status`: email digests and the mail around them."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError
from .common import open_store, out
from .progress import wanted

app = typer.Typer(help="Email digests: trending papers and topic alerts.", no_args_is_help=True)


@app.command("send")
def digest_send(
    cadence: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
    period: Annotated[
        Optional[str], typer.Option(help="The period to send: a day (YYYY-MM-DD) or, weekly, a week (YYYY-Www). Default: the latest due.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compose and count, but send and record nothing.")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Only the subscriber with this address (with --dry-run: print the digest).")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
) -> None:
    """Send the digests of a period to the confirmed subscribers of a cadence, each exactly once.

    Safe to run again and alongside `dailypapers up`: what was sent is never sent again, and a
    run killed midway is finished by the next one. Without DAILYPAPERS_SMTP_URL the messages are
    written as .eml files into the outbox folder."""
    from ..digest import period as periods
    from ..digest.send import send_digests

    if cadence not in periods.CADENCES:
        raise DailyPapersError("--cadence: daily or weekly")
    store = open_store()
    chosen = periods.parse(cadence, period) if period else None
    show = wanted(progress)

    def on_progress(done: int, total: int) -> None:
        if show:
            sys.stderr.write(f"\r{done}/{total} subscribers")
            sys.stderr.flush()

    email = to.strip().lower() if to else None
    report = send_digests(store, cadence, period=chosen, dry_run=dry_run, only=email, on_progress=on_progress)
    if show:
        sys.stderr.write("\n")
    if email and report.subscribers == 0:
        raise DailyPapersError(f"no confirmed {cadence} subscriber with the address {email}")
    for address, subject, text in report.previews:
        out.print(f"To: {address}\nSubject: {subject}\n\n{text}", highlight=False, markup=False)
    out.print(report.summary(), highlight=False, markup=False)
    if not dry_run and report.sent:
        where = "written as .eml files to" if not store.settings.smtp_url else "handed to"
        out.print(f"messages {where} {report.where}", highlight=False, markup=False)
    if report.stopped:
        raise typer.Exit(1)


@app.command("receive")
def digest_receive() -> None:
    """Read one email on standard input and carry out the unsubscribe request in it (the mailto:
    of List-Unsubscribe; set DAILYPAPERS_UNSUBSCRIBE_ADDRESS and pipe that address's mail here).

    Exit status, as mail servers read it: 0 done (also when already unsubscribed); 65 no valid
    request in the message (the server bounces it, so the sender learns nothing happened); 75
    the database could not be reached (the server keeps the message and tries again)."""
    from sqlalchemy.exc import OperationalError

    from ..digest.links import Links
    from ..digest.mailer import site_secret
    from ..digest.receive import MAX_BYTES, TryLater, receive

    message = sys.stdin.buffer.read(MAX_BYTES)
    try:
        store = open_store()
        links = Links(site_secret(store), store.settings.base_url)
        sub, changed = receive(store, links, message)
    except OperationalError as exc:
        raise TryLater(f"the database could not be reached, try again later ({exc.orig or exc})") from None
    out.print(f"{'unsubscribed' if changed else 'already unsubscribed:'} {sub.email}", highlight=False, markup=False)


@app.command("status")
def digest_status(
    cadence: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
    period: Annotated[Optional[str], typer.Option(help="A day or week (default: the latest due).")] = None,
) -> None:
    """Subscriptions by status; the confirmation and account emails of the outbox by status
    (pending: not tried yet; retrying: failed, with the next try's time; sent; failed), with the
    latest error; and the digests of a period by status."""
    from ..digest import period as periods
    from ..digest.send import due_period
    from ..store import deliveries as delivery_store
    from ..store import outbox as outbox_store
    from ..store import subscriptions as sub_store

    if cadence not in periods.CADENCES:
        raise DailyPapersError("--cadence: daily or weekly")
    store = open_store()
    chosen = periods.parse(cadence, period) if period else due_period(store, cadence)
    with store.session() as session:
        subs = sub_store.count_by_status(session)
        mails = outbox_store.summary(session)
        sent = delivery_store.counts(session, "digest", chosen.key)

    def say(text: str) -> None:
        out.print(text, highlight=False, markup=False)

    say("subscriptions: " + (", ".join(f"{k} {v}" for k, v in sorted(subs.items())) or "none"))
    say("emails (confirmations, account emails): " + ("" if mails else "none yet"))
    order = ("pending", "sending", "retrying", "sent", "failed", "skipped", "unknown")
    for kind in mails:
        parts = [f"{name} {kind.counts[name]}" for name in order if kind.counts.get(name)]
        if kind.next_try is not None:
            parts[[p.split()[0] for p in parts].index("retrying")] += f" (next try {kind.next_try:%Y-%m-%d %H:%M} UTC)"
        say(f"  {kind.kind}: " + ", ".join(parts))
        if kind.last_error:
            say(f"    latest error: {kind.last_error}")
    say(f"{chosen.key}: " + (", ".join(f"{k} {v}" for k, v in sorted(sent.items())) or "nothing yet"))
