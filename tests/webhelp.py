"""Helpers for driving the site through its HTTP interface in tests."""

from __future__ import annotations

import re

from dailypapers.store import users as user_store
from dailypapers.store.engine import Store
from dailypapers.web.security import hash_password

TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = TOKEN.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def make_user(settings, name: str = "alice", password: str = "correct horse battery", **roles) -> str:
    store = Store(settings)
    with store.session() as session, session.begin():
        user_store.create(session, name, hash_password(password), **roles)
    store.dispose()
    return password


def log_in(client, name: str = "alice", password: str = "correct horse battery"):
    page = client.get("/login")
    token = csrf_from(page.text)
    r = client.post("/login", data={"username": name, "password": password, "csrftoken": token, "next": "/"})
    assert r.status_code == 303, r.text
    return r


def token_of(client, path: str = "/submit") -> str:
    return csrf_from(client.get(path).text)
