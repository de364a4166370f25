"""Subscribing, confirming, managing and leaving, through the site and the emails it sends: a real
SMTP server (aiosmtpd) receives the mail, and the links in it are followed against the app."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from support import env_for, load_site_data, read_once, site_settings
from dailypapers.digest import period as periods
from dailypapers.digest.links import Links
from dailypapers.digest.send import send_digests
from dailypapers.store import subscriptions as sub_store
from dailypapers.store.engine import Store
from digesthelp import links_in
from webhelp import csrf_from, log_in, make_user, post_each

BASE = "https://testserver"


@pytest.fixture
def site(db_url, tmp_path, listing_subset, smtp):
    settings = site_settings(
        db_url, tmp_path, base_url=BASE, smtp_url=smtp.url, smtp_backoff=0.01, secret_key="test secret", search_semantic=False
    )
    load_site_data(settings, listing_subset)
    return settings


def client_of(settings) -> TestClient:
    from dailypapers.web.app import create_app

    return TestClient(create_app(settings), base_url=BASE, follow_redirects=False)


@pytest.fixture
def client(site):
    with client_of(site) as c:
        yield c


def subscription(settings, email):
    return read_once(settings, sub_store.by_email, email)


def subscribe(client, email, **fields):
    token = csrf_from(client.get("/subscribe").text)
    data = {"email": email, "cadence": "daily", "trending": "10", "csrftoken": token} | fields
    return client.post("/subscribe", data=data)


def test_double_opt_in_then_manage_and_leave_by_links(client, site, smtp):
    r = subscribe(client, "Reader@Example.org", query='"contrastive loss"')
    assert r.status_code == 200 and "Check your inbox" in r.text
    sub = subscription(site, "reader@example.org")
    assert sub.status == "pending" and sub.preferences.topic_query == '"contrastive loss"'
    [confirm_mail] = smtp.handler.messages_to("reader@example.org")
    assert confirm_mail.get_content_type() == "multipart/alternative"
    assert confirm_mail["Message-ID"] and confirm_mail["Date"] and "testserver" in confirm_mail["From"]
    text = confirm_mail.get_body(("plain",)).get_content()
    html = confirm_mail.get_body(("html",)).get_content()
    [confirm_path] = {p for p in links_in(text) if p.startswith("/subscribe/confirm/")}
    assert confirm_path in html and 'style="' in html  # CSS inlined
    assert confirm_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # every email: leave in one click
    assert [p for p in links_in(text) if p.startswith("/unsubscribe/")]

    # Nothing but the confirmation goes to a pending address.
    report = send_digests(Store(site), "daily", period=periods.parse("daily", "2024-10-25"))
    assert report.subscribers == 0 and len(smtp.handler.received) == 1

    # Following the link shows a button (a GET changes nothing); the button confirms.
    page = client.get(confirm_path)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert subscription(site, "reader@example.org").status == "pending"
    r = client.post(confirm_path, data={"csrftoken": csrf_from(page.text)})
    assert r.status_code == 200 and "You are subscribed" in r.text
    assert subscription(site, "reader@example.org").status == "active"

    # The digest: headers, parts, papers, and links that work.
    report = send_digests(Store(site), "daily", period=periods.parse("daily", "2024-10-25"))
    assert report.sent == 1, report.summary()
    digest = smtp.handler.messages_to("reader@example.org")[-1]
    assert digest.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in digest.iter_parts()] == ["text/plain", "text/html"]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "daily.digest.testserver" in digest["List-Id"]
    assert digest["Message-ID"] == f"<digest.daily.2024-10-25.{sub.id}@testserver>"
    unsub_urls = [u.strip().strip("<>") for u in digest["List-Unsubscribe"].split(",")]
    # No mailto unless an address that `digest receive` reads is configured: nothing would act on it.
    assert len(unsub_urls) == 1 and unsub_urls[0].startswith("https://testserver/unsubscribe/one-click/")
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert "Breaking the Memory Barrier" in text and "64 upvotes" in text and "/papers/2410.17243" in text
    assert "prefers-color-scheme: dark" in html and "Zesen Cheng" in html
    paths = links_in(text)
    assert client.get("/papers/2410.17243").status_code == 200
    [prefs_path] = [p for p in paths if p.startswith("/preferences/")]
    [unsub_path] = [p for p in paths if p.startswith("/unsubscribe/")]
    assert prefs_path in html and unsub_path in html

    # Preferences without logging in: switch to weekly.
    page = client.get(prefs_path)
    assert page.status_code == 200 and "reader@example.org" in page.text
    r = client.post(prefs_path, data={"csrftoken": csrf_from(page.text), "cadence": "weekly", "trending": "5", "query": "", "categories": "cs.CL"})
    assert r.status_code == 200 and "Saved" in r.text
    prefs = subscription(site, "reader@example.org").preferences
    assert (prefs.cadence, prefs.trending_count, prefs.topic_query, prefs.topic_categories) == ("weekly", 5, None, ("cs.CL",))

    # Unsubscribe by the page: a button, then at once.
    page = client.get(unsub_path)
    assert "Unsubscribe" in page.text and subscription(site, "reader@example.org").status == "active"
    r = client.post(unsub_path, data={"csrftoken": csrf_from(page.text)})
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    assert subscription(site, "reader@example.org").status == "unsubscribed"
    assert send_digests(Store(site), "weekly", period=periods.parse("weekly", "2025-W12")).subscribers == 0

    # Back through the preferences page (the mailbox was proven once).
    page = client.get(prefs_path)
    client.post(prefs_path, data={"csrftoken": csrf_from(page.text), "action": "resubscribe"})
    assert subscription(site, "reader@example.org").status == "active"


def _digest_to_a_new_subscriber(store, smtp, email):
    """A confirmed daily subscription for `email`, then the digest of 2024-10-25 it received."""
    with store.session() as session, session.begin():
        sid = sub_store.create_pending(session, email, sub_store.Preferences(), "s" * 20)
        sub_store.confirm(session, sid, dt.datetime(2024, 10, 1))
    send_digests(store, "daily", period=periods.parse("daily", "2024-10-25"))
    [digest] = smtp.handler.messages_to(email)
    return digest


def test_one_click_unsubscribe_needs_no_cookie_and_acts_at_once(site, smtp):
    store = Store(site)
    digest = _digest_to_a_new_subscriber(store, smtp, "oneclick@example.org")
    one_click = digest["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    with client_of(site) as mail_client:  # a mail client: no cookie, no CSRF token
        r = mail_client.post(one_click.removeprefix(BASE), content=b"List-Unsubscribe=One-Click",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert subscription(site, "oneclick@example.org").status == "unsubscribed"
    with client_of(site) as browser:  # a person opening the header's link gets a page, not a change
        assert "gets no more digests" in browser.get(one_click.removeprefix(BASE)).text
    assert send_digests(store, "daily", period=periods.parse("daily", "2024-10-28")).subscribers == 0
    store.dispose()


def _receive(env, message: bytes):
    return subprocess.run([sys.executable, "-m", "dailypapers", "digest", "receive"], input=message, env=env,
                          capture_output=True, timeout=120)


def test_unsubscribe_by_email_through_digest_receive(site, smtp):
    """With DAILYPAPERS_UNSUBSCRIBE_ADDRESS set, the header's mailto names it, and the message a mail
    client sends there, piped to `dailypapers digest receive`, unsubscribes at once. Exit statuses
    tell the mail server what to do: 0 done, 65 bounce (no valid request), 75 try again later."""
    settings = site.model_copy(update={"unsubscribe_address": "leave@testserver"})
    store = Store(settings)
    digest = _digest_to_a_new_subscriber(store, smtp, "bymail@example.org")
    mailto = urlsplit(digest["List-Unsubscribe"].split(",")[1].strip().strip("<>"))
    assert mailto.scheme == "mailto" and mailto.path == "leave@testserver"
    subject = parse_qs(mailto.query)["subject"][0]
    assert subject.startswith("unsubscribe ")

    env = dict(env_for(settings), DAILYPAPERS_SECRET_KEY="test secret", DAILYPAPERS_BASE_URL=BASE)
    # As a mail server pipes it: an mbox From_ line, the client's headers, the subject from the URL.
    message = (f"From bymail@example.org Mon Oct 28 09:00:00 2024\nFrom: Reader <bymail@example.org>\n"
               f"To: leave@testserver\nSubject: {subject}\nContent-Type: text/plain\n\nSent from my phone\n").encode()
    done = _receive(env, message)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "unsubscribed bymail@example.org"
    assert subscription(site, "bymail@example.org").status == "unsubscribed"
    assert send_digests(store, "daily", period=periods.parse("daily", "2024-10-28")).subscribers == 0
    again = _receive(env, message)  # the server delivered it twice: still done, nothing else changes
    assert again.returncode == 0 and b"already unsubscribed" in again.stdout

    token = subject.split()[1]
    altered = token[:-10] + ("x" if token[-10] != "x" else "y") + token[-9:]
    for bad in (b"Subject: hello\n\nplease take me off your list\n",
                f"Subject: unsubscribe {altered}\n\n".encode(),
                b"\x00\xff not an email at all"):
        refused = _receive(env, bad)
        assert refused.returncode == 65, refused
        line = refused.stderr.decode().strip()
        assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line

    unreachable = dict(env, DAILYPAPERS_DATABASE_URL="postgresql://dailypapers@127.0.0.1:9/nowhere")
    later = _receive(unreachable, message)
    assert later.returncode == 75 and b"try again later" in later.stderr
    store.dispose()


def test_the_request_is_found_where_clients_put_it():
    from dailypapers.digest.receive import NotARequest, token_of

    token = "WzQyLCJhYmMiXQ.Zx1b2A.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    encoded = "=?utf-8?q?unsubscribe_" + token.replace("-", "=2D") + "?="  # an encoded-word subject
    assert token_of(f"Subject: {encoded}\n\n".encode()) == token
    assert token_of(f"Subject: Re: Unsubscribe {token}\n\n".encode()) == token
    body_only = f"Subject: (no subject)\nContent-Type: text/plain\n\nunsubscribe {token}.\n-- \nsig\n".encode()
    assert token_of(body_only) == token
    with pytest.raises(NotARequest):
        token_of(b"Subject: unsubscribe\n\nunsubscribe me please\n")


def test_subscribing_again_does_not_flood_or_reveal(client, site, smtp):
    first = subscribe(client, "twice@example.org")
    again = subscribe(client, "twice@example.org")
    other = subscribe(client, "new@example.org")
    assert first.text == again.text == other.text  # the same answer whatever the state
    assert len(smtp.handler.messages_to("twice@example.org")) == 1  # no second email within the quiet time

    # After the quiet time a pending address gets its confirmation again; an active one its links,
    # and its preferences are not changed by someone who only knows the address.
    store = Store(site)
    with store.session() as session, session.begin():
        sub = sub_store.by_email(session, "twice@example.org")
        sub_store.confirm(session, sub.id, dt.datetime(2024, 10, 1))
        sub_store.note_sent(session, sub.id, dt.datetime(2024, 10, 1))  # the quiet time is over
    r = subscribe(client, "twice@example.org", cadence="weekly", trending="0", query="attacker")
    assert r.text == first.text
    mails = smtp.handler.messages_to("twice@example.org")
    assert len(mails) == 2 and "already subscribed" in mails[-1].get_body(("plain",)).get_content()
    assert [p for p in links_in(mails[-1].get_body(("plain",)).get_content()) if p.startswith("/preferences/")]
    prefs = subscription(site, "twice@example.org").preferences
    assert prefs.cadence == "daily" and prefs.topic_query is None
    store.dispose()


def test_links_are_signed_bound_and_expire(client, site, smtp):
    subscribe(client, "links@example.org")
    sub = subscription(site, "links@example.org")
    links = Links("test secret", BASE, confirm_hours=48)
    good = links.token("preferences", sub.id, sub.secret)
    assert client.get(f"/preferences/{good}").status_code == 200
    altered = good[:-10] + ("x" if good[-10] != "x" else "y") + good[-9:]  # inside the signature, not its padding bits
    assert client.get(f"/preferences/{altered}").status_code == 400
    assert client.get(f"/preferences/{Links('another', BASE).token('preferences', sub.id, sub.secret)}").status_code == 400
    assert client.get(f"/unsubscribe/{good}").status_code == 400  # a preferences link cannot unsubscribe
    assert client.get(f"/preferences/{links.token('preferences', sub.id, 'rotated secret')}").status_code == 400
    # Confirmation links expire.
    real = time.time
    try:
        time.time = lambda: real() - 49 * 3600
        old = links.token("confirm", sub.id, sub.secret)
    finally:
        time.time = real
    r = client.get(f"/subscribe/confirm/{old}")
    assert r.status_code == 400 and "expired" in r.text


def test_forms_validate_and_escape(client, site):
    r = subscribe(client, "not an address")
    assert r.status_code == 400 and "does not look right" in r.text
    r = subscribe(client, "x@example.org", trending="0", query="")
    assert r.status_code == 400 and "Choose something" in r.text
    r = subscribe(client, "x@example.org", categories="<script>")
    assert r.status_code == 400 and "<script>" not in r.text and "&lt;script&gt;" in r.text
    subscribe(client, "esc@example.org", query="<b>bold</b> & more")
    sub = subscription(site, "esc@example.org")
    token = Links("test secret", BASE).token("preferences", sub.id, sub.secret)
    page = client.get(f"/preferences/{token}").text
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert client.cookies  # a browser that has been here: a POST without the token is refused
    assert client.post("/subscribe", data={"email": "nocsrf@example.org", "trending": "5"}).status_code == 403


def test_subscribing_is_rate_limited_per_client(client):
    codes = post_each(client, "/subscribe", [{"email": f"r{i}@example.org", "trending": "5"} for i in range(11)])
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_json_api_takes_any_body_without_a_server_error(client, site):
    """Found by schemathesis: a 254-character address (the longest allowed) overflowed the
    rate-limit key on PostgreSQL, and an email that is not a string raised; both answered 500."""
    longest = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".org"
    assert len(longest) == 254
    assert client.post("/api/subscriptions", json={"email": longest, "trending": 5}).status_code == 202
    for email in ([1], 5, None, {"a": 1}):
        r = client.post("/api/subscriptions", json={"email": email, "trending": 5})
        assert r.status_code == 400 and "email" in r.json()["error"], email
    infinite = b'{"email": "ok@example.org", "trending": Infinity}'
    assert client.post("/api/subscriptions", content=infinite, headers={"content-type": "application/json"}).status_code == 400


def test_json_api_and_similar_only_for_accounts(client, site, smtp):
    r = client.post("/api/subscriptions", json={"email": "api@example.org", "cadence": "weekly", "query": "diffusion", "similar": True})
    assert r.status_code == 202 and r.json()["status"] == "check-your-inbox"
    sub = subscription(site, "api@example.org")
    assert sub.preferences.cadence == "weekly" and sub.preferences.similar_to_upvotes is False and sub.user_id is None
    assert client.post("/api/subscriptions", json={"email": "bad"}).status_code == 400
    assert client.post("/api/subscriptions", content=b"[1]", headers={"content-type": "application/json"}).status_code == 400

    make_user(site, "carol")
    log_in(client, "carol")
    assert "New papers like the ones I upvoted" in client.get("/subscribe").text
    subscribe(client, "carol@example.org", similar="1")
    sub = subscription(site, "carol@example.org")
    assert sub.preferences.similar_to_upvotes and sub.user_id is not None


def test_every_page_offers_the_subscription(site):
    with client_of(site) as c:
        home = c.get("/date/2024-10-25").text
        assert "Get trending papers in your email inbox!" in home and 'href="/subscribe"' in home
        assert "Get trending papers in your email inbox! <a" not in c.get("/subscribe").text
