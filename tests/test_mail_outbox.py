"""Mail is never silently lost: the confirmation or account email is recorded with the request,
before the answer; sent at once after it; retried with backoff by the mail-outbox job until it is
sent (once) or marked failed; visible in `dailypapers digest status`. A full disk (a real small
tmpfs under the SQLite store) gets an honest 503 and one log line; the mail server down gets an
honest 200. A real SMTP server (aiosmtpd) receives the mail."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from support import ROOT, env_for, site_settings
from dailypapers.digest import outbox
from dailypapers.jobs.registry import JOBS, Quiet
from dailypapers.store import outbox as outbox_store
from dailypapers.store import subscriptions as sub_store
from dailypapers.store.engine import Store
from dailypapers.store.schema import OutboxMail, utcnow
from dailypapers.web.subscribe import DELAYED, NOT_RECORDED, SENT
from digesthelp import SMTPServer, free_port, links_in
from services import fill, small_disk
from webhelp import csrf_from

BASE = "https://testserver"
table = OutboxMail.__table__


def settings_for(db_url, tmp_path, smtp_url, **overrides):
    values = dict(base_url=BASE, smtp_url=smtp_url, smtp_backoff=0.01, secret_key="test secret", search_semantic=False,
                  rate_limit_subscribe="1000/hour", rate_limit_subscribe_email="1000/day", rate_limit_signup="1000/hour")
    return site_settings(db_url, tmp_path, **(values | overrides))


def client_of(settings) -> TestClient:
    from dailypapers.web.app import create_app

    return TestClient(create_app(settings), base_url=BASE, follow_redirects=False)


def subscribe(client, email, token=None):
    token = token or csrf_from(client.get("/subscribe").text)
    return client.post("/subscribe", data={"email": email, "cadence": "daily", "trending": "10", "csrftoken": token})


def rows(store) -> list[dict]:
    with store.session() as session:
        return [dict(r) for r in session.execute(select(table).order_by(table.c.id)).mappings()]


def later(minutes: float) -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=minutes)


def confirm_links(message) -> list[str]:
    return [p for p in links_in(message.get_body(("plain",)).get_content()) if p.startswith("/subscribe/confirm/")]


def status_output(settings) -> str:
    env = env_for(settings) | {"DAILYPAPERS_SMTP_URL": settings.smtp_url}
    done = subprocess.run([sys.executable, "-m", "dailypapers", "digest", "status"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_full_disk_answers_503_and_records_nothing_then_subscribing_works(tmp_path, smtp, caplog):
    """The SQLite store on a small tmpfs, filled to the last byte."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        settings = settings_for(f"sqlite:///{disk / 'dailypapers.db'}", tmp_path, smtp.url)
        with client_of(settings) as client:
            token = csrf_from(client.get("/subscribe").text)
            fill(disk)
            caplog.clear()
            with caplog.at_level(logging.INFO):
                r = subscribe(client, "full@example.org", token)
            assert r.status_code == 503 and r.headers["Retry-After"] and NOT_RECORDED in r.text
            assert "Check your inbox" not in r.text  # nothing claimed
            lines = [rec for rec in caplog.records if "could not record a subscription request" in rec.getMessage()]
            assert len(lines) == 1 and "database or disk is full" in lines[0].getMessage()
            assert all(rec.exc_info is None for rec in caplog.records)  # one line, no traceback
            with client_of(settings) as api:  # no cookies: an API client
                r = api.post("/api/subscriptions", json={"email": "api@example.org", "trending": 5})
            assert r.status_code == 503 and r.json()["error"] == NOT_RECORDED
            store = Store(settings)
            assert rows(store) == [] and not smtp.handler.received
            with store.session() as session:
                assert sub_store.by_email(session, "full@example.org") is None

            (disk / ".filler").unlink()  # space again: the same request goes through, and the mail arrives
            r = subscribe(client, "full@example.org", token)
            assert r.status_code == 200 and SENT in r.text
            [message] = smtp.handler.messages_to("full@example.org")
            assert confirm_links(message)
            assert [(m["kind"], m["status"], m["attempts"]) for m in rows(store)] == [("confirm", "sent", 1)]
            store.dispose()


def test_mail_server_down_then_back_each_email_goes_out_once(db_url, tmp_path):
    port = free_port()  # nothing listens there yet
    settings = settings_for(db_url, tmp_path, f"smtp://127.0.0.1:{port}?starttls=off")
    store = Store(settings)
    with client_of(settings) as client:
        r = subscribe(client, "first@example.org")
        assert r.status_code == 200 and SENT in r.text  # the first try fails only after the answer
        [row] = rows(store)
        assert (row["status"], row["attempts"]) == ("pending", 1) and "cannot reach" in row["last_error"]
        assert later(0.5) < row["next_attempt_at"] <= later(1.1)  # mail_retry_minutes=1
        r = subscribe(client, "second@example.org")
        assert r.status_code == 200 and DELAYED in r.text  # honest: mail is waiting for the server
    with client_of(settings) as api:  # no cookies: an API client
        r = api.post("/api/subscriptions", json={"email": "third@example.org", "trending": 5})
        assert r.status_code == 202 and r.json()["message"] == DELAYED
    assert [(m["recipient"], m["status"], m["attempts"]) for m in rows(store)] == [
        ("first@example.org", "pending", 1), ("second@example.org", "pending", 1), ("third@example.org", "pending", 1)]

    # Not yet due: the job leaves them alone. Due and still down: one try, then the run stops; the
    # wait doubles.
    assert outbox.send_due(store).idle
    report = outbox.send_due(store, now=later(1.5))
    assert (report.deferred, report.sent) == (1, 0) and report.stopped
    first = rows(store)[0]
    assert first["attempts"] == 2 and later(1.5) < first["next_attempt_at"] <= later(2.1)
    out = status_output(settings)
    assert "confirm: retrying 3 (next try" in out and "cannot reach" in out, out

    with SMTPServer(port=port) as server:
        report = outbox.send_due(store, now=later(3))
        assert (report.sent, report.deferred) == (3, 0), report.summary()
        assert outbox.send_due(store, now=later(60)).idle  # never twice
        idle = JOBS["mail-outbox"].run(store)
        assert idle == "outbox: nothing to send" and isinstance(idle, Quiet)  # an idle minute logs nothing
        assert server.handler.count_by_recipient() == {"first@example.org": 1, "second@example.org": 1, "third@example.org": 1}
    assert {(m["status"], m["message_id"] is not None) for m in rows(store)} == {("sent", True)}
    with store.session() as session:
        assert sub_store.by_email(session, "first@example.org").confirm_sent_at is not None
    assert "confirm: sent 3" in status_output(settings)
    store.dispose()


def test_subscribing_again_after_a_failed_or_waiting_confirmation_sends_again(db_url, tmp_path):
    port = free_port()
    settings = settings_for(db_url, tmp_path, f"smtp://127.0.0.1:{port}?starttls=off", mail_max_attempts=1)
    store = Store(settings)
    with client_of(settings) as client:
        token = csrf_from(client.get("/subscribe").text)
        subscribe(client, "failed@example.org", token)
        assert [(m["status"], m["attempts"]) for m in rows(store)] == [("failed", 1)]  # one try allowed
        assert "confirm: failed 1" in status_output(settings)
        with SMTPServer(port=port) as server:
            assert subscribe(client, "failed@example.org", token).status_code == 200  # within the quiet time
            assert len(server.handler.messages_to("failed@example.org")) == 1  # sent again, once
            subscribe(client, "failed@example.org", token)  # sent now: the quiet time holds
            assert len(server.handler.messages_to("failed@example.org")) == 1
    assert [m["status"] for m in rows(store)] == ["failed", "sent"]

    # A confirmation still waiting for its retry is made due at once by a new request, not doubled.
    settings = settings.model_copy(update={"mail_max_attempts": 10})
    store.dispose()
    store = Store(settings)
    with client_of(settings) as client:
        token = csrf_from(client.get("/subscribe").text)
        subscribe(client, "waiting@example.org", token)
        assert rows(store)[-1]["status"] == "pending"
        with SMTPServer(port=port) as server:
            subscribe(client, "waiting@example.org", token)
            assert len(server.handler.messages_to("waiting@example.org")) == 1
            assert outbox.send_due(store, now=later(60)).idle
            assert len(server.handler.messages_to("waiting@example.org")) == 1
    assert [m["status"] for m in rows(store) if m["recipient"] == "waiting@example.org"] == ["sent"]
    store.dispose()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_email_in_flight_at_a_crash_is_sent_once_more_then_given_up(db_url, tmp_path, smtp):
    """A sender killed between the server's acceptance and its record: at least once, at most twice,
    with the same Message-ID (the approach of digests, send.py)."""
    settings = settings_for(db_url, tmp_path, smtp.url)
    store = Store(settings)
    dead = f"{socket.gethostname()}:{_dead_pid()}:dead"
    alive = f"{socket.gethostname()}:{os.getppid()}:live"
    ids = {}
    with store.session() as session, session.begin():
        for address in ("once@example.org", "twice@example.org", "held@example.org"):
            sid = sub_store.create_pending(session, address, sub_store.Preferences(), "s" * 20)
            ids[address] = outbox_store.add(session, "confirm", address, subscription_id=sid)
    with store.session() as session, session.begin():
        for address, sender in (("once@example.org", dead), ("twice@example.org", dead), ("held@example.org", alive)):
            assert outbox_store.claim(session, ids[address], sender=sender, lease_until=later(10), now=utcnow())
        session.execute(update(table).where(table.c.id == ids["twice@example.org"]).values(interrupted=1))
    report = outbox.send_due(store)
    assert (report.sent, report.resent_after_interruption, report.unknown) == (1, 1, 1), report.summary()
    [message] = smtp.handler.messages_to("once@example.org")
    once = [m for m in rows(store) if m["id"] == ids["once@example.org"]][0]
    assert message["Message-ID"] == once["message_id"] == f"<confirm.{once['created_at']:%Y%m%dT%H%M%S}.{once['id']}@testserver>"
    assert smtp.handler.count_by_recipient() == {"once@example.org": 1}
    assert sorted(m["status"] for m in rows(store)) == ["sending", "sent", "unknown"]  # a live sender's row is left alone
    store.dispose()


def test_sign_up_emails_are_recorded_and_retried(db_url, tmp_path):
    port = free_port()
    settings = settings_for(db_url, tmp_path, f"smtp://127.0.0.1:{port}?starttls=off")
    store = Store(settings)
    with client_of(settings) as client:
        token = csrf_from(client.get("/signup").text)
        r = client.post("/signup", data={"username": "erin", "password": "long enough pass", "email": "erin@example.org",
                                         "csrftoken": token})
        assert r.status_code == 303
    assert [(m["kind"], m["status"], m["attempts"]) for m in rows(store)] == [("address", "pending", 1)]
    with SMTPServer(port=port) as server:
        assert outbox.send_due(store, now=later(2)).sent == 1
        [message] = server.handler.messages_to("erin@example.org")
        assert [p for p in links_in(message.get_body(("plain",)).get_content()) if p.startswith("/account/email/")]
    assert "address: sent 1" in status_output(settings)
    store.dispose()
