"""Sending digests: exactly once (also across a SIGKILL), nothing when there is nothing new, topic
alerts, temporary and permanent SMTP failures injected by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from support import ROOT, load_site_data, site_settings
from dailypapers.digest import period as periods
from dailypapers.digest.compose import Composer
from dailypapers.digest.links import new_secret
from dailypapers.digest.send import send_digests
from dailypapers.store import deliveries as delivery_store
from dailypapers.store import subscriptions as sub_store
from dailypapers.store.engine import Store
from dailypapers.store.subscriptions import Preferences
from digesthelp import Recorder, SMTPServer, free_port, password_checker, self_signed_certificate, server_tls_context, wait_for

HF_DAY = periods.parse("daily", "2024-10-25")  # three papers with upvotes (the HF fixture)
LISTING_DAY = periods.parse("daily", "2025-03-18")  # a day of the arXiv listing, no upvotes


def settings_for(db_url, tmp_path, listing, **overrides):
    values = dict(base_url="https://testserver", smtp_backoff=0.01, smtp_retries=2, search_semantic=False, secret_key="k")
    values.update(overrides)
    settings = site_settings(db_url, tmp_path, **values)
    load_site_data(settings, listing)
    return settings


@pytest.fixture
def site(db_url, tmp_path, listing_subset, smtp):
    return settings_for(db_url, tmp_path, listing_subset, smtp_url=smtp.url)


@pytest.fixture
def store(site):
    s = Store(site)
    yield s
    s.dispose()


def add_subscribers(store, emails, prefs=Preferences()) -> list[int]:
    ids = []
    with store.session() as session, session.begin():
        for address in emails:
            sid = sub_store.create_pending(session, address, prefs, new_secret())
            sub_store.confirm(session, sid, dt.datetime(2024, 1, 1))
            ids.append(sid)
    return ids


def statuses(store, period) -> dict[str, int]:
    with store.session() as session:
        return delivery_store.counts(session, "digest", period.key)


def test_each_digest_goes_out_once_and_empty_ones_are_skipped(store, smtp):
    readers = [f"reader{i}@example.org" for i in range(5)]
    add_subscribers(store, readers)
    add_subscribers(store, ["nothing@example.org"], Preferences(trending_count=0, topic_query='"no paper says this zzqx"'))
    report = send_digests(store, "daily", period=HF_DAY)
    assert (report.sent, report.skipped) == (5, 1), report.summary()
    assert smtp.handler.count_by_recipient() == {r: 1 for r in readers}
    again = send_digests(store, "daily", period=HF_DAY)
    assert (again.sent, again.skipped, again.done_before) == (0, 0, 6)
    assert len(smtp.handler.received) == 5
    assert statuses(store, HF_DAY) == {"sent": 5, "skipped": 1}
    ids = {m.message["Message-ID"] for m in smtp.handler.received}
    assert len(ids) == 5
    with store.session() as session:
        assert sub_store.by_email(session, "reader0@example.org").last_digest_at == dt.datetime(2024, 10, 28)


def test_topic_alerts_bring_only_new_papers(store, smtp):
    [sid] = add_subscribers(store, ["topics@example.org"], Preferences(trending_count=0, topic_categories=("cs.CV",)))
    send_digests(store, "daily", period=LISTING_DAY)
    following = periods.parse("daily", "2025-03-19")
    send_digests(store, "daily", period=following)
    first, second = smtp.handler.messages_to("topics@example.org")
    with store.session() as session:
        rows = {d["period"]: d for d in delivery_store.recent_for(session, sid)}
        sent = {p: delivery_store.get(session, _delivery_id(session, sid, p))["paper_ids"] for p in rows}
    assert sent[LISTING_DAY.key] and sent[following.key]
    assert not set(sent[LISTING_DAY.key]) & set(sent[following.key])
    assert "New papers matching cs.CV" in first.get_body(("plain",)).get_content()
    assert "more matching papers" in second.get_body(("plain",)).get_content()


def test_weekly_digests_cover_the_iso_week(store, smtp):
    add_subscribers(store, ["weekly@example.org"], Preferences(cadence="weekly", trending_count=0, topic_query="segmentation"))
    add_subscribers(store, ["daily@example.org"], Preferences(trending_count=0, topic_query="segmentation"))
    report = send_digests(store, "weekly", period=periods.parse("weekly", "2025-W12"))
    assert (report.subscribers, report.sent) == (1, 1)
    [message] = smtp.handler.messages_to("weekly@example.org")
    assert "<weekly.digest.testserver>" in message["List-Id"] and message["Message-ID"].startswith("<digest.weekly.2025-W12.")
    assert "Your weekly papers" in message.get_body(("plain",)).get_content()


def test_the_scheduled_jobs_send_what_is_due(store, smtp):
    from dailypapers.jobs.registry import JOBS

    assert JOBS["digest-daily"].setting == JOBS["digest-weekly"].setting == "digest_time"
    assert JOBS["digest-retry"].every_minutes
    add_subscribers(store, ["due@example.org"])
    summary = JOBS["digest-retry"].run(store)  # today's due periods: nothing featured then, so nothing new
    assert summary.startswith("daily:") and "weekly:" in summary and "skipped 1" in summary
    assert not smtp.handler.received


def _delivery_id(session, subscription_id, period_key):
    from sqlalchemy import select

    from dailypapers.store.schema import Delivery

    return session.execute(
        select(Delivery.id).where(Delivery.subscription_id == subscription_id, Delivery.period == period_key)
    ).scalar_one()


def test_temporary_failures_retry_with_backoff_then_defer_then_fail(store, smtp):
    add_subscribers(store, ["flaky@example.org", "busy@example.org", "fine@example.org"])
    smtp.handler.rcpt_replies["flaky@example.org"] = ["451 4.3.0 try again"]  # once: the in-run retry gets through
    smtp.handler.always_refuse["busy@example.org"] = "452 4.2.2 mailbox full"
    report = send_digests(store, "daily", period=HF_DAY)
    assert (report.sent, report.deferred, report.failed) == (2, 1, 0), report.summary()
    assert smtp.handler.count_by_recipient() == {"flaky@example.org": 1, "fine@example.org": 1}
    assert statuses(store, HF_DAY) == {"sent": 2, "pending": 1}
    # Not due yet: nothing happens. Later it is tried again; at the last attempt it fails for good.
    assert send_digests(store, "daily", period=HF_DAY).deferred == 1
    store.settings.digest_max_attempts = 2
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    report = send_digests(store, "daily", period=HF_DAY, now=later)
    assert (report.sent, report.failed) == (0, 1), report.summary()
    assert statuses(store, HF_DAY) == {"sent": 2, "failed": 1}
    del smtp.handler.always_refuse["busy@example.org"]
    assert send_digests(store, "daily", period=HF_DAY, now=later).sent == 0  # failed is final


def test_permanent_failures_are_recorded_and_suspend_the_address(store, smtp):
    add_subscribers(store, ["gone@example.org", "here@example.org"], Preferences(trending_count=10, topic_categories=("cs.CV",)))
    smtp.handler.always_refuse["gone@example.org"] = "550 5.1.1 no such user"
    store.settings.digest_suspend_after = 2
    first = send_digests(store, "daily", period=HF_DAY)
    assert (first.sent, first.failed, first.suspended) == (1, 1, 0)
    second = send_digests(store, "daily", period=LISTING_DAY)
    assert (second.sent, second.failed, second.suspended) == (1, 1, 1), second.summary()
    with store.session() as session:
        gone = sub_store.by_email(session, "gone@example.org")
        [row] = [d for d in delivery_store.recent_for(session, gone.id) if d["period"] == HF_DAY.key]
    assert gone.status == "suspended" and gone.permanent_failures == 2 and row["status"] == "failed"
    assert send_digests(store, "daily", period=periods.parse("daily", "2025-03-19")).subscribers == 1


def test_a_refused_connection_is_retried_with_backoff(db_url, tmp_path, listing_subset):
    port = free_port()
    settings = settings_for(db_url, tmp_path, listing_subset, smtp_url=f"smtp://127.0.0.1:{port}?starttls=off",
                            smtp_retries=6, smtp_backoff=0.05)
    store = Store(settings)
    add_subscribers(store, ["patient@example.org", "also@example.org"])
    server = SMTPServer(Recorder(), port=port)
    starter = threading.Timer(0.4, server.start)  # the server comes up while the sender backs off
    starter.start()
    try:
        report = send_digests(store, "daily", period=HF_DAY)
        starter.join()
        assert report.sent == 2 and not report.stopped, report.summary()
        assert server.handler.count_by_recipient() == {"patient@example.org": 1, "also@example.org": 1}
    finally:
        starter.join()
        server.stop()
        store.dispose()


def test_an_unreachable_server_stops_the_run_and_the_next_run_finishes(db_url, tmp_path, listing_subset):
    port = free_port()
    settings = settings_for(db_url, tmp_path, listing_subset, smtp_url=f"smtp://127.0.0.1:{port}?starttls=off", smtp_retries=1)
    store = Store(settings)
    readers = [f"r{i}@example.org" for i in range(4)]
    add_subscribers(store, readers)
    report = send_digests(store, "daily", period=HF_DAY)
    assert report.stopped and report.sent == 0 and report.deferred == 1
    with SMTPServer(port=port) as server:
        report = send_digests(store, "daily", period=HF_DAY)
        assert report.sent == 4, report.summary()
        assert server.handler.count_by_recipient() == {r: 1 for r in readers}
    store.dispose()


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_tls_and_authentication(db_url, tmp_path, listing_subset, monkeypatch, scheme):
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # our client trusts the test certificate, as it would a real CA
    port = free_port()
    tls = server_tls_context(cert, key)
    if scheme == "starttls":
        options = dict(tls_context=tls, require_starttls=True)
        url = f"smtp://digest%40example.org:s3cret@localhost:{port}?starttls=required"
    else:
        options = dict(ssl_context=tls, server_hostname="localhost", auth_require_tls=False)  # aiosmtpd cannot tell implicit TLS
        url = f"smtps://digest%40example.org:s3cret@localhost:{port}"
    checker = password_checker("digest@example.org", "s3cret")
    with SMTPServer(port=port, authenticator=checker, auth_required=True, **options) as server:
        settings = settings_for(db_url, tmp_path, listing_subset, smtp_url=url, smtp_timeout=10)
        store = Store(settings)
        add_subscribers(store, ["secure@example.org"])
        report = send_digests(store, "daily", period=HF_DAY)
        assert report.sent == 1, report.summary()
        assert server.handler.count_by_recipient() == {"secure@example.org": 1}
        store.settings.smtp_url = url.replace("s3cret", "wrong")
        add_subscribers(store, ["later@example.org"])
        report = send_digests(store, "daily", period=HF_DAY)
        assert report.sent == 0 and "refused our credentials" in report.stopped
        store.dispose()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_digest_in_flight_at_a_crash_is_sent_once_more_then_given_up(store, smtp):
    once, twice, held = add_subscribers(store, ["once@example.org", "twice@example.org", "held@example.org"])
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}:dead"
    alive = f"{host}:{os.getppid()}:live"
    future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=10)
    with store.session() as session, session.begin():
        for sid, sender in ((once, dead), (twice, dead), (held, alive)):
            delivery_store.claim_new(session, sid, "digest", HF_DAY.key, sender=sender, lease_until=future,
                                     message_id=f"<digest.daily.2024-10-25.{sid}@testserver>", paper_ids=[])
        row = _delivery_id(session, twice, HF_DAY.key)
        delivery_store.take_over(session, row, dead, give_up=False)  # interrupted once already...
        delivery_store.claim_retry(session, row, sender=dead, lease_until=future, paper_ids=[], now=future)  # ...and again
    report = send_digests(store, "daily", period=HF_DAY)
    assert (report.sent, report.resent_after_interruption, report.unknown, report.busy) == (1, 1, 1, 1), report.summary()
    [message] = smtp.handler.messages_to("once@example.org")
    assert message["Message-ID"] == f"<digest.daily.2024-10-25.{once}@testserver>"  # the same id: a duplicate is detectable
    assert smtp.handler.count_by_recipient() == {"once@example.org": 1}
    assert statuses(store, HF_DAY) == {"sent": 1, "unknown": 1, "sending": 1}


@pytest.mark.slow
def test_a_killed_sender_restarted_sends_every_digest_exactly_once(db_url, tmp_path, listing_subset):
    handler = Recorder(delay=0.01, hold_from=13)  # holds the 13th message: the kill lands inside its SMTP transaction
    with SMTPServer(handler) as server:
        settings = settings_for(db_url, tmp_path, listing_subset, smtp_url=server.url)
        store = Store(settings)
        readers = [f"reader{i:02d}@example.org" for i in range(40)]
        add_subscribers(store, readers)
        env = dict(os.environ, DAILYPAPERS_DATABASE_URL=settings.database_url, DAILYPAPERS_DATA_DIR=str(settings.data_dir),
                   DAILYPAPERS_SMTP_URL=server.url, DAILYPAPERS_BASE_URL=settings.base_url, DAILYPAPERS_SECRET_KEY="k",
                   DAILYPAPERS_SEARCH_SEMANTIC="0")
        cmd = [sys.executable, "-m", "dailypapers", "digest", "send", "--cadence", "daily", "--period", "2024-10-25"]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Kill it while the server holds the 13th message, not yet accepted.
        assert wait_for(lambda: handler.data_started >= 13, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        handler.hold_from = None
        assert len(handler.received) == 12
        assert statuses(store, HF_DAY).get("sending") == 1  # the one in flight
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "resent after interruption 1" in done.stdout
        assert handler.count_by_recipient() == {r: 1 for r in readers}
        assert statuses(store, HF_DAY) == {"sent": 40}
        store.dispose()


def test_without_smtp_the_cli_writes_an_outbox_and_says_where(db_url, tmp_path, listing_subset, cli_env):
    settings = settings_for(db_url, tmp_path, listing_subset)
    store = Store(settings)
    add_subscribers(store, ["box@example.org"], Preferences(trending_count=3, topic_query="contrastive"))
    env = dict(cli_env, DAILYPAPERS_DATABASE_URL=settings.database_url, DAILYPAPERS_DATA_DIR=str(settings.data_dir),
               DAILYPAPERS_SEARCH_SEMANTIC="0")
    run = lambda *args: subprocess.run([sys.executable, "-m", "dailypapers", "digest", *args], env=env, cwd=ROOT,
                                       capture_output=True, text=True, timeout=120)
    preview = run("send", "--period", "2024-10-25", "--dry-run", "--to", "BOX@example.org")
    assert preview.returncode == 0, preview.stderr
    assert "Breaking the Memory Barrier" in preview.stdout and "would send 1" in preview.stdout
    assert not (settings.data_dir / "outbox").exists()
    sent = run("send", "--period", "2024-10-25")
    assert sent.returncode == 0, sent.stderr
    outbox = settings.data_dir / "outbox"
    assert f"written as .eml files to {outbox}" in sent.stdout.replace("\n", "")
    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "box@example.org" and message.get_content_type() == "multipart/alternative"
    status = run("status", "--period", "2024-10-25")
    assert "active 1" in status.stdout and "sent 1" in status.stdout
    assert run("send", "--to", "nobody@example.org").returncode == 1
    store.dispose()


def test_compose_similar_papers_from_upvotes(store):
    """Papers like yours: the member's recommender (the one /for-you ranks with) picks them, from
    the stored vectors and the words; here one upvote, a paper with the same vector and one close
    to it (the rest orthogonal)."""
    import numpy as np

    from dailypapers.index.model import DIM, MODEL_KEY
    from dailypapers.search.recommend import recommender_for
    from dailypapers.store import embeddings as embedding_store
    from dailypapers.store import feed as feed_store
    from dailypapers.store import users as user_store
    from dailypapers.store import votes as vote_store
    from dailypapers.store.feed import FeedQuery

    with store.session() as session:
        day = feed_store.list_featured(session, FeedQuery(start=LISTING_DAY.start, end=LISTING_DAY.end, sort="time", limit=500)).items
    ids = [i.paper.id for i in day]
    liked, near, far = ids[0], ids[1], ids[2]
    axis = np.eye(DIM, dtype=np.float32)
    vectors = {pid: axis[3 + n % (DIM - 3)] for n, pid in enumerate(ids)}
    vectors[liked] = vectors[near] = axis[0]
    vectors[far] = 0.8 * axis[0] + 0.6 * axis[1]
    with store.session() as session, session.begin():
        embedding_store.upsert_many(session, MODEL_KEY, [(pid, "h", v) for pid, v in vectors.items()])
        uid = user_store.create(session, "fan", "x")
        vote_store.add(session, uid, liked)
        sid = sub_store.create_pending(session, "fan@example.org", Preferences(trending_count=0, similar_to_upvotes=True), "s", user_id=uid)
        sub_store.confirm(session, sid, dt.datetime(2024, 1, 1))
        sub = sub_store.get(session, sid)
    recommender_for(store).fit(uid)  # the updater's refit; without it, the neighbour score on the fly ranks alike
    for prepared in (False, True):  # a member alone, and a batch at once (what send_digests does)
        composer = Composer(store, LISTING_DAY, topic_limit=5)
        if prepared:
            composer.prepare([sub])
            assert composer._prepared
        [section] = composer.compose_for(sub).sections
        assert section.kind == "similar" and [p.paper_id for p in section.papers] == [near, far]
