"""Helpers for driving the site through its HTTP interface in tests."""

from __future__ import annotations

import contextlib
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


def post_each(client, path: str, forms: list[dict], token_page: str | None = None) -> list[int]:
    """The status of posting each form to `path`, with the CSRF token of `token_page` (`path`)."""
    token = token_of(client, token_page or path)
    return [client.post(path, data={**form, "csrftoken": token}).status_code for form in forms]


@contextlib.contextmanager
def live_server(settings, **overrides):
    """The app served by uvicorn on a real socket in a thread; yields its base URL. The settings'
    base_url is set to that address unless given."""
    import socket
    import threading
    import time

    import uvicorn

    from dailypapers.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"base_url": base, **overrides})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
