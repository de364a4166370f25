"""Sign-up never reveals whether an email address has an account here: the answer is the same either
way, and what differs goes by email to the address itself (a real SMTP server receives it). An
address is attached to a new account only once its owner follows the signed, expiring link."""

from __future__ import annotations

import statistics
import time

import pytest
from starlette.testclient import TestClient

from support import site_settings
from dailypapers.store import users as user_store
from dailypapers.store.engine import Store
from digesthelp import links_in
from webhelp import csrf_from, make_user

BASE = "https://testserver"


@pytest.fixture
def site(db_url, tmp_path, smtp):
    return site_settings(db_url, tmp_path, base_url=BASE, smtp_url=smtp.url, smtp_backoff=0.01, secret_key="test secret",
                         rate_limit_signup="1000/hour", search_semantic=False)


def client_of(settings) -> TestClient:
    from dailypapers.web.app import create_app

    return TestClient(create_app(settings), base_url=BASE, follow_redirects=False)


def sign_up(settings, username: str, email: str = "", password: str = "long enough pass"):
    """A sign-up from a new browser; the response and that browser."""
    c = client_of(settings)
    token = csrf_from(c.get("/signup").text)
    r = c.post("/signup", data={"username": username, "password": password, "email": email, "csrftoken": token})
    return r, c


def user(settings, name: str) -> dict | None:
    store = Store(settings)
    with store.session() as session:
        found = user_store.by_name(session, name)
    store.dispose()
    return found


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def comparable(r) -> tuple:
    """What a visitor sees of a sign-up answer, without the per-request cookie values."""
    cookies = sorted(h.split("=", 1)[0] for h in r.headers.get_list("set-cookie"))
    return r.status_code, r.headers.get("location"), cookies, r.text


def test_sign_up_answers_the_same_whether_or_not_the_email_is_taken(site, smtp):
    make_user(site, "dave", email="dave@example.org")
    taken, _ = sign_up(site, "mallory", "dave@example.org")
    shouted, _ = sign_up(site, "mallory2", "DAVE@Example.org")
    free, _ = sign_up(site, "erin", "erin@example.org")
    assert comparable(taken) == comparable(shouted) == comparable(free)
    assert taken.status_code == 303 and "dp_session" in taken.headers["set-cookie"]

    # The owner of the taken address is told, and nothing is attached to the new accounts.
    to_dave = smtp.handler.messages_to("dave@example.org")
    assert len(to_dave) == 2
    body = plain(to_dave[0])
    assert "tried to sign up" in body and "dave" in body and not links_in(body.split("/login", 1)[1])
    assert user(site, "mallory")["email"] is None and user(site, "dave")["email"] == "dave@example.org"
    # The free address gets a link to confirm it; until then the account has no address.
    to_erin = smtp.handler.messages_to("erin@example.org")
    assert len(to_erin) == 1 and "erin" in plain(to_erin[0])
    assert [p for p in links_in(plain(to_erin[0])) if p.startswith("/account/email/")]
    assert user(site, "erin")["email"] is None


def test_sign_up_takes_as_long_either_way(site, smtp):
    make_user(site, "dave", email="dave@example.org")
    sign_up(site, "warmup", "warm@example.org")
    times = {"taken": [], "free": []}
    for i in range(3):
        for kind, email in (("taken", "dave@example.org"), ("free", f"new{i}@example.org")):
            started = time.perf_counter()
            r, _ = sign_up(site, f"{kind}{i}", email)
            times[kind].append(time.perf_counter() - started)
            assert r.status_code == 303
    taken, free = statistics.median(times["taken"]), statistics.median(times["free"])
    assert max(taken, free) / min(taken, free) < 3, times


def test_the_email_is_attached_only_when_its_owner_confirms(site, smtp):
    r, browser = sign_up(site, "erin", "Erin@Example.org")
    assert r.status_code == 303
    link = [p for p in links_in(plain(smtp.handler.messages_to("erin@example.org")[0])) if p.startswith("/account/email/")][0]
    page = browser.get(link)
    assert page.status_code == 200 and "erin@example.org" in page.text and "erin" in page.text
    assert user(site, "erin")["email"] is None  # a GET (a mail scanner) changes nothing
    done = browser.post(link, data={"csrftoken": csrf_from(page.text)})
    assert done.status_code == 200 and "confirmed" in done.text
    assert user(site, "erin")["email"] == "erin@example.org"
    again = browser.post(link, data={"csrftoken": csrf_from(browser.get(link).text)})
    assert again.status_code == 200 and user(site, "erin")["email"] == "erin@example.org"
    # The subscription form now offers the confirmed address.
    from webhelp import log_in

    signed_in = client_of(site)
    log_in(signed_in, "erin", "long enough pass")
    assert 'value="erin@example.org"' in signed_in.get("/subscribe").text


def test_the_first_owner_to_confirm_keeps_the_address(site, smtp):
    sign_up(site, "first", "shared@example.org")
    sign_up(site, "second", "shared@example.org")
    mails = smtp.handler.messages_to("shared@example.org")
    assert len(mails) == 2
    links = [[p for p in links_in(plain(m)) if p.startswith("/account/email/")][0] for m in mails]
    c = client_of(site)
    for link in reversed(links):  # the second account's link is followed first
        page = c.get(link)
        c.post(link, data={"csrftoken": csrf_from(page.text)})
    assert user(site, "second")["email"] == "shared@example.org" and user(site, "first")["email"] is None
    late = c.post(links[0], data={"csrftoken": csrf_from(c.get(links[0]).text)})
    assert late.status_code == 409 and "another account" in late.text


def test_confirmation_links_are_signed_and_expire(site, smtp):
    sign_up(site, "erin", "erin@example.org")
    link = [p for p in links_in(plain(smtp.handler.messages_to("erin@example.org")[0])) if p.startswith("/account/email/")][0]
    c = client_of(site)
    token = link.rsplit("/", 1)[1]
    altered = token[:-10] + ("x" if token[-10] != "x" else "y") + token[-9:]
    assert c.get(f"/account/email/{altered}").status_code == 400
    from dailypapers.digest.account_mail import AddressLinks

    real = time.time
    try:
        time.time = lambda: real() - (site.email_confirm_hours + 1) * 3600
        old = AddressLinks("test secret", BASE, hours=site.email_confirm_hours).token(user(site, "erin")["id"], "erin@example.org")
    finally:
        time.time = real
    r = c.get(f"/account/email/{old}")
    assert r.status_code == 400 and "expired" in r.text
    assert c.get(f"/account/email/{AddressLinks('another', BASE).token(1, 'erin@example.org')}").status_code == 400


def test_account_emails_to_one_address_are_limited(site, smtp):
    make_user(site, "dave", email="dave@example.org")
    answers = [sign_up(site, f"try{i}", "dave@example.org")[0].status_code for i in range(4)]
    assert answers == [303] * 4  # the sign-ups all go through
    assert len(smtp.handler.messages_to("dave@example.org")) == 3  # the address is not flooded
