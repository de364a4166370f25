"""Accounts, upvotes, comments, submissions and the security around them."""

from __future__ import annotations

import datetime as dt

import pytest

from support import client_fixture, client_for, read_once
from dailypapers.store import papers as paper_store
from dailypapers.store import users as user_store
from dailypapers.store.engine import Store
from webhelp import csrf_from, log_in, make_user, post_each, token_of


client = client_fixture("fresh_site", scope="function")


def paper_row(settings, arxiv_id):
    return read_once(settings, paper_store.get, arxiv_id)


def test_sign_up_log_out_log_in(client, fresh_site):
    page = client.get("/signup")
    token = csrf_from(page.text)
    r = client.post("/signup", data={"username": "bob", "password": "long enough pass", "email": "bob@example.org", "csrftoken": token})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "dp_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert ">bob</a>" in client.get("/").text
    store = Store(fresh_site)
    with store.session() as session:
        assert user_store.by_name(session, "bob")["password_hash"].startswith("$argon2id$")
    store.dispose()
    r = client.post("/logout", data={"csrftoken": token_of(client, "/")})
    assert r.status_code == 303 and "Log in" in client.get("/").text
    log_in(client, "bob", "long enough pass")
    assert ">bob</a>" in client.get("/").text


def test_bad_sign_ups_and_log_ins(client, fresh_site):
    token = csrf_from(client.get("/signup").text)
    assert client.post("/signup", data={"username": "x", "password": "long enough pass", "csrftoken": token}).status_code == 400
    assert client.post("/signup", data={"username": "carol", "password": "short", "csrftoken": token}).status_code == 400
    make_user(fresh_site, "dave")
    taken = client.post("/signup", data={"username": "DAVE", "password": "long enough pass", "csrftoken": token})
    assert taken.status_code == 400 and "taken" in taken.text
    token = csrf_from(client.get("/login").text)
    wrong = client.post("/login", data={"username": "dave", "password": "nope nope nope", "csrftoken": token})
    assert wrong.status_code == 400 and "Wrong name or password" in wrong.text
    evil = client.post("/login", data={"username": "dave", "password": "correct horse battery", "csrftoken": token, "next": "https://evil.example/"})
    assert evil.headers["location"] == "/"


def test_log_in_is_rate_limited(fresh_site, client):
    make_user(fresh_site, "erin")
    codes = post_each(client, "/login", [{"username": "erin", "password": "wrong password!"}] * 11)
    assert codes[:10] == [400] * 10 and codes[10] == 429
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": "erin", "password": "correct horse battery", "csrftoken": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_sign_up_is_rate_limited(client):
    codes = post_each(client, "/signup", [{"username": f"user{i}", "password": "long enough pass"} for i in range(6)])
    assert codes[:5] == [303] * 5 and codes[5] == 429


def test_state_changes_need_post_and_csrf(client, fresh_site):
    make_user(fresh_site)
    log_in(client)
    assert client.get("/papers/2410.17243/upvote").status_code in (404, 405)
    assert client.post("/papers/2410.17243/upvote", data={}).status_code == 403
    assert client.post("/papers/2410.17243/upvote", data={"csrftoken": "forged"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert paper_row(fresh_site, "2410.17243").upvote_count == 0
    # Log-in CSRF: the form is protected even before the visitor has any cookie.
    with client_for(fresh_site) as fresh:
        assert fresh.post("/login", data={"username": "alice", "password": "correct horse battery"}).status_code == 403


def test_upvote_without_and_with_javascript(client, fresh_site):
    make_user(fresh_site)
    log_in(client)
    token = token_of(client, "/date/2024-10-25")
    r = client.post("/papers/2410.17243/upvote", data={"csrftoken": token, "next": "/date/2024-10-25"})
    assert r.status_code == 303 and r.headers["location"] == "/date/2024-10-25"
    assert paper_row(fresh_site, "2410.17243").upvote_count == 1
    client.post("/papers/2410.17243/upvote", data={"csrftoken": token})  # one per user
    assert paper_row(fresh_site, "2410.17243").upvote_count == 1
    page = client.get("/date/2024-10-25").text
    assert 'action="/papers/2410.17243/unvote"' in page and 'aria-pressed="true"' in page
    r = client.post("/api/papers/2410.17243/unvote", headers={"x-csrftoken": token, "accept": "application/json"})
    assert r.json() == {"id": "2410.17243", "upvotes": 64, "upvoted": False}
    r = client.post("/papers/2410.17243/upvote", headers={"x-csrftoken": token, "accept": "application/json"})
    assert r.json()["upvotes"] == 65 and r.json()["upvoted"] is True
    profile = client.get("/u/alice").text
    assert "Breaking the Memory Barrier" in profile


def test_anonymous_upvote_goes_to_log_in(client):
    html = client.get("/date/2024-10-25").text
    assert 'href="/login?next=' in html and "vote-form" not in html
    r = client.post("/api/papers/2410.17243/upvote", headers={"accept": "application/json"})
    assert r.status_code == 401


def test_comments_are_markdown_and_sanitized(client, fresh_site):
    make_user(fresh_site)
    log_in(client)
    token = token_of(client, "/papers/2410.17243")
    body = "Nice **result** with $x<y$.\n\n<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    r = client.post("/papers/2410.17243/comments", data={"csrftoken": token, "body": body})
    assert r.status_code == 303 and "#comment-" in r.headers["location"]
    html = client.get("/papers/2410.17243").text
    thread = html.split('id="discussion"', 1)[1]
    assert "<strong>result</strong>" in thread and "$x&lt;y$" in thread
    comment = thread.split('class="comment-body math">', 1)[1].split("</div>", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in comment  # shown as text
    assert "<script" not in comment and "<img" not in comment and 'href="javascript' not in comment
    assert paper_row(fresh_site, "2410.17243").comment_count == 1
    assert "4 comments<" in client.get("/date/2024-10-25").text  # 3 on HF + ours


def test_comments_are_rate_limited(client, fresh_site):
    make_user(fresh_site)
    log_in(client)
    token = token_of(client, "/papers/2410.17243")
    codes = [client.post("/papers/2410.17243/comments", data={"csrftoken": token, "body": f"note {i}"}).status_code for i in range(11)]
    assert codes[:10] == [303] * 10 and codes[10] == 429


def test_submit_from_the_store_and_the_rules(client, fresh_site):
    make_user(fresh_site)
    make_user(fresh_site, "curie", is_curator=True)
    log_in(client)
    token = token_of(client)
    old = client.post("/submit", data={"csrftoken": token, "arxiv_id": "https://arxiv.org/abs/2410.17243v1"})
    assert old.status_code == 400 and "only curators" in old.text
    junk = client.post("/submit", data={"csrftoken": token, "arxiv_id": "not a paper"})
    assert junk.status_code == 400 and "not an arXiv id" in junk.text
    client.post("/logout", data={"csrftoken": token})
    log_in(client, "curie")
    token = token_of(client)
    ok = client.post("/submit", data={"csrftoken": token, "arxiv_id": "2410.17243"})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/papers/2410.17243")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f'href="/date/{today}"' in client.get("/papers/2410.17243").text
    again = client.post("/submit", data={"csrftoken": token, "arxiv_id": "2410.17243"})
    assert again.status_code == 400 and "already featured" in again.text
    feed = client.get(f"/date/{today}").text
    assert 'submitted by <a class="person" href="/u/curie">' in feed


def test_submissions_are_rate_limited(fresh_site):
    settings = fresh_site.model_copy(update={"rate_limit_submit": "2/hour"})
    make_user(settings)
    with client_for(settings) as c:
        log_in(c)
        token = token_of(c)
        codes = [c.post("/submit", data={"csrftoken": token, "arxiv_id": "2410.17243"}).status_code for _ in range(3)]
        assert codes[2] == 429


def test_curators_are_made_on_the_command_line(cli_env, fresh_site):
    import subprocess
    import sys

    env = dict(cli_env, DAILYPAPERS_DATABASE_URL=fresh_site.database_url)
    r = subprocess.run(
        [sys.executable, "-m", "dailypapers", "users", "create", "mod", "--curator", "--password-stdin"],
        input="a fine password\n", env=env, capture_output=True, text=True,
    )
    assert r.returncode == 0 and "created curator mod" in r.stdout
    store = Store(fresh_site)
    with store.session() as session:
        assert user_store.by_name(session, "mod")["is_curator"] is True
    store.dispose()
