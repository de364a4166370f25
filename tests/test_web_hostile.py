"""Hostile requests get a 4xx at once, never a 500 or a stall: oversized bodies, multipart posts,
dates at the edge of the calendar."""

from __future__ import annotations

import re
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from support import client_fixture, client_for, site_settings
from webhelp import csrf_from, live_server

MB = 2**20


@pytest.fixture
def empty_site(sqlite_url, tmp_path):
    return site_settings(sqlite_url, tmp_path, rate_limit_storage="memory://")


client = client_fixture("empty_site", scope="function")


def rss() -> int:
    """This process's resident memory in bytes (the live server runs in a thread of it)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # so what "sent" counts is near what the server got
    return sock


def _head(token: str, extra: str) -> bytes:
    return (
        "POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Cookie: csrftoken={token}\r\n{extra}\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    return data


def _send_until_answered(sock: socket.socket, body_size: int, *, chunked: bool) -> tuple[int, bytes | None]:
    """Send the body 64 KB at a time, looking for an answer after each piece; (bytes sent, answer)."""
    piece = b"a" * (64 * 1024)
    sent = 0
    while sent < body_size:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return sent, _answer(sock)
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        except (BrokenPipeError, ConnectionResetError):
            return sent, _answer(sock)
        sent += len(piece)
    readable, _, _ = select.select([sock], [], [], 5)
    return sent, (_answer(sock) if readable else None)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_big_bodies_are_refused_at_once_without_reading_them(empty_site, chunked):
    """A 20 MB form POST, with a valid CSRF cookie so that the CSRF check would read the body: the 413
    comes before the client has sent the body, in well under a second, and the server does not
    hold the body in memory."""
    size = 20 * MB
    with live_server(empty_site) as base:
        with _connect(base) as probe:  # a real CSRF cookie, so only the size can stop the request
            probe.sendall(b"GET /login HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            page = b""
            while chunk := probe.recv(65536):
                page += chunk
        token = re.search(rb"csrftoken=([^;]+);", page).group(1).decode()
        before = rss()
        started = time.monotonic()
        with _connect(base) as sock:
            framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
            sock.sendall(_head(token, framing))
            sent, answer = _send_until_answered(sock, size, chunked=chunked)
        took = time.monotonic() - started
        grown = rss() - before
    assert answer is not None and answer.startswith(b"HTTP/1.1 413"), answer
    assert b"connection: close" in answer.lower()
    limit = empty_site.max_body_kb * 1024
    if chunked:  # answered as soon as the count passed the cap
        assert sent <= limit + 2 * MB, sent
    else:  # answered on the headers alone
        assert sent <= 2 * MB, sent
    assert took < 3, took
    assert grown < size // 2, f"the server grew by {grown} bytes for a {size}-byte body"


def test_the_largest_legitimate_bodies_fit(client, empty_site):
    """A 10,000-character comment of 4-byte characters, form-encoded, is under half the cap and
    goes through to its handler (which sends a visitor who is not logged in to log in)."""
    from urllib.parse import urlencode

    token = csrf_from(client.get("/login").text)
    body = urlencode({"body": "\U0001d54f" * 10_000, "csrftoken": token})
    assert len(body) < empty_site.max_body_kb * 1024 // 2
    assert empty_site.max_body_kb * 1024 < 5 * MB  # and a 5 MB form is over it
    r = client.post("/papers/2410.17243/comments", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_oversized_bodies_get_413_on_every_path(client):
    token = csrf_from(client.get("/login").text)
    big = b"a=" + b"x" * (client.app.state.site.settings.max_body_kb * 1024)
    for path in ("/login", "/signup", "/submit", "/api/subscriptions", "/papers/2410.17243/comments", "/nowhere"):
        r = client.post(path, content=big, headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token})
        assert r.status_code == 413, (path, r.status_code)
    api = client.post("/api/subscriptions", content=big, headers={"content-type": "application/json"})
    assert api.status_code == 413 and "error" in api.json()
    assert client.post("/login", content=b"x", headers={"content-length": "many"}).status_code == 400


def test_streamed_bodies_are_cut_off_where_the_app_reads_them(empty_site, caplog):
    """Without a cookie the CSRF check lets the request through, so the handler itself reads the
    chunked body: it is stopped there with a 413 (not a 500), and nothing is logged as a crash."""
    limit = empty_site.max_body_kb * 1024

    def chunks():
        yield b'{"email": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'@example.org"}'

    with client_for(empty_site) as anonymous:
        r = anonymous.post("/api/subscriptions", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.headers["connection"] == "close" and "error" in r.json()
    assert "unhandled error" not in caplog.text


def _post_routes(app) -> list[str]:
    """Every POST route of the site, with its parameters filled in."""
    from dailypapers.web.routes import ROUTES

    paths = {path for method, path, _ in ROUTES if method == "POST"}
    paths |= {path for path, ops in app.openapi()["paths"].items() if "post" in ops}
    fill = {"{arxiv_id:path}": "2410.17243", "{arxiv_id}": "2410.17243", "{token}": "not-a-token", "{claim_id}": "1",
            "{collection_id}": "1", "{token_id}": "1", "{action}": "save"}
    out = []
    for path in sorted(paths):
        for k, v in fill.items():
            path = path.replace(k, v)
        assert "{" not in path, path
        out.append(path)
    return out


def _multipart(fields: dict[str, str], boundary: str = "XyZ", file: bool = False) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    if file:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="username"; filename="a.txt"\r\n'
                     "Content-Type: text/plain\r\n\r\nhello\r\n")
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def test_multipart_posts_get_415_everywhere_but_one_click_unsubscribe_and_imports(client):
    """The site's forms are urlencoded and its API takes JSON: multipart/form-data is refused with
    415 before the CSRF check (which would crash on it: asgi-csrf passes python-multipart a
    FileClass argument that it no longer takes). RFC 8058 one-click unsubscribe is an exception:
    mail clients SHOULD post it as multipart/form-data; a library import's file upload the other
    (its handler checks the CSRF token: a visitor is sent to log in)."""
    token = csrf_from(client.get("/login").text)
    fields = {"csrftoken": token, "username": "bob", "password": "long enough pass", "body": "hi", "email": "a@b.org",
              "arxiv_id": "2410.17243", "List-Unsubscribe": "One-Click"}
    paths = _post_routes(client.app.app)
    anonymous = client_for(client.app.state.site.settings)
    assert {"/login", "/signup", "/logout", "/submit", "/subscribe", "/api/subscriptions"} <= set(paths)
    for path in paths:
        for header in ("multipart/form-data; boundary=XyZ", "multipart/form-data;boundary=XyZ", "multipart/form-data",
                       'multipart/form-data; boundary="XyZ"'):
            for file in (False, True):
                body = _multipart(fields, file=file)
                with_cookie = client.post(path, content=body, headers={"content-type": header})
                anonymous.cookies.clear()
                without = anonymous.post(path, content=body, headers={"content-type": header})
                for r in (with_cookie, without):
                    if path.startswith("/unsubscribe/one-click/"):
                        assert r.status_code == 400, (path, header, r.status_code)  # a bad token, read as such
                    elif path == "/library/import":
                        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (path, header, r.status_code)
                    else:
                        assert r.status_code == 415, (path, header, r.status_code, r.text[:200])
    other = client.post("/login", content=b"username=bob", headers={"content-type": "text/plain"})
    assert other.status_code == 415


EDGE_PAGES = ["/date/9999-12-31", "/date/0001-01-01", "/date/1990-12-31", "/week/9999-W52", "/week/0001-W01",
              "/week/1990-W52", "/month/0001-01", "/month/9999-12", "/month/1990-12", "/date?d=9999-12-31",
              "/date?d=0001-01-01"]
EDGE_API = ["date=9999-12-31", "date=0001-01-01", "week=9999-W52", "week=0001-W01", "month=0001-01", "month=9999-12"]


def test_dates_at_the_edge_of_the_calendar_get_400(client):
    """The site serves days from 1991 (arXiv's first year) to the end of next year; outside that,
    a date, week or month is a 400 with a one-line reason, never an overflow (a 500)."""
    for path in EDGE_PAGES:
        r = client.get(path)
        assert r.status_code == 400, (path, r.status_code)
        assert "1991" in r.text and "Traceback" not in r.text
    for query in EDGE_API:
        r = client.get(f"/api/daily_papers?{query}")
        assert r.status_code == 400 and "1991" in r.json()["error"], (query, r.status_code)


def test_the_first_and_last_periods_served_have_no_links_beyond_them(client):
    import datetime as dt

    last_year = dt.date.today().year + 1
    for path in ("/date/1991-01-01", "/week/1991-W01", "/month/1991-01", f"/date/{last_year}-12-31",
                 f"/week/{last_year}-W{dt.date(last_year, 12, 28).isocalendar()[1]:02d}", f"/month/{last_year}-12"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert 'href="/date/1990' not in r.text and f"/{last_year + 1}-" not in r.text


def test_periods_never_overflow():
    """Every well-formed day, week and month from year 1 to 9999 parses to a period or a BadPeriod,
    and a period's neighbours are periods in range or None."""
    import datetime as dt

    from dailypapers import periods

    texts = []
    for year in (1, 2, 1990, 1991, 1992, dt.date.today().year, dt.date.today().year + 1, dt.date.today().year + 2, 9998, 9999):
        texts += [("day", f"{year:04d}-01-01"), ("day", f"{year:04d}-12-31"), ("week", f"{year:04d}-W01"),
                  ("week", f"{year:04d}-W52"), ("week", f"{year:04d}-W53"), ("month", f"{year:04d}-01"), ("month", f"{year:04d}-12")]
    parse = {"day": periods.parse_day, "week": periods.parse_week, "month": periods.parse_month}
    served = 0
    for kind, text in texts:
        try:
            period = parse[kind](text)
        except periods.BadPeriod:
            continue
        served += 1
        assert periods.FIRST_DAY <= period.end and period.start <= periods.last_day()
        for neighbour in (period.previous(), period.next()):
            assert neighbour is None or (periods.FIRST_DAY <= neighbour.end and neighbour.start <= periods.last_day())
        assert period.label and period.path
    assert served >= 20
    assert periods.day(dt.date(1991, 1, 1)).previous() is None
    assert periods.month_of(periods.last_day()).next() is None


@pytest.mark.parametrize("state", ["no folder", "empty folder", "no swagger"])
def test_missing_vendor_files_are_404_with_a_start_up_warning(sqlite_url, tmp_path, caplog, state):
    """KaTeX and Swagger UI come from `npm ci`. Without them: one warning line at start naming what
    is missing and how to install it, 404 (not 500) for their URLs, pages that do not ask for them
    (math stays LaTeX source), and /docs pointing at /openapi.json."""
    import logging
    import shutil

    from support import ROOT

    vendor = tmp_path / "vendor"
    if state != "no folder":
        vendor.mkdir()
    if state == "no swagger":
        shutil.copytree(ROOT / "node_modules" / "katex", vendor / "katex")
    settings = site_settings(sqlite_url, tmp_path, vendor_dir=vendor, rate_limit_storage="memory://")
    with caplog.at_level(logging.WARNING):
        c = client_for(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "npm ci" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert "Swagger UI" in warnings[0] and ("KaTeX" in warnings[0]) == (state != "no swagger") and "\n" not in warnings[0]
    with c:
        for path in ("/static/vendor/katex/dist/katex.min.js", "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js",
                     "/static/vendor/nothing.js"):
            expected = 200 if state == "no swagger" and "katex" in path else 404
            assert c.get(path).status_code == expected, path
        login = c.get("/login").text
        assert ("/static/vendor/katex" in login) == (state == "no swagger")
        docs = c.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" not in docs.text.replace('id="swagger-ui"', "")
        assert 'href="/openapi.json"' in docs.text and "Swagger UI is not installed" in docs.text


def test_vendor_files_present_no_warning(sqlite_url, tmp_path, caplog):
    import logging

    settings = site_settings(sqlite_url, tmp_path, rate_limit_storage="memory://")
    with caplog.at_level(logging.WARNING):
        c = client_for(settings)
    assert "npm ci" not in caplog.text
    docs = c.get("/docs").text
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in docs and "not installed" not in docs
    assert "/static/vendor/katex/dist/katex.min.js" in c.get("/login").text
