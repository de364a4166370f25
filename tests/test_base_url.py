"""The site's own address: derived from where `serve` and `up` listen when DAILYPAPERS_BASE_URL is
not set, so a site started on another port does not link to :8000; taken from each request for a
wildcard bind, but never for email; a configured address that disagrees is warned about."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from support import ROOT, env_for, make_settings, need_data

from dailypapers.config import Settings
from digesthelp import free_port


def _serve(env, *args, port):
    proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "serve", "--workers", "1", "--port", str(port),
                             "--log-level", "warning", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    raise AssertionError("serve did not answer")


def _stop(proc) -> str:
    proc.terminate()
    proc.wait(30)
    return proc.stderr.read()


@pytest.fixture
def env(sqlite_url, tmp_path):
    """A store with the three HF papers of 2024-10-25, and no base URL in the environment."""
    settings = make_settings(sqlite_url, tmp_path)
    env = env_for(settings)
    env.pop("DAILYPAPERS_BASE_URL", None)
    env["DAILYPAPERS_VENDOR_DIR"] = str(ROOT / "node_modules")
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    r = subprocess.run([sys.executable, "-m", "dailypapers", "ingest", str(hf)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return env


def _absolute_urls(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def _own_links(base: str):
    """The home page, the daily feed, the day's API answer and /docs, fetched from `base`."""
    home = httpx.get(base + "/", timeout=10).text
    atom = httpx.get(base + "/feeds/daily.atom", timeout=10).text
    api = httpx.get(base + "/api/daily_papers", params={"date": "2024-10-25"}, timeout=10).text
    docs = httpx.get(base + "/docs", timeout=10).text
    return home, atom, api, docs


def test_serve_on_another_port_links_to_that_port(env):
    port = free_port()
    proc = _serve(env, port=port)
    base = f"http://127.0.0.1:{port}"
    try:
        home, atom, api, docs = _own_links(base)
    finally:
        log = _stop(proc)
    assert f'<link rel="canonical" href="{base}/">' in home
    ids = re.findall(r"<id>([^<]+)</id>", atom)
    assert ids and all(i.startswith(base + "/") for i in ids), ids
    assert f'HfApi(endpoint="{base}")' in docs
    for text in (home, atom, api, docs):
        assert ":8000" not in text
        assert [u for u in _absolute_urls(text) if "127.0.0.1" in u and not u.startswith(base)] == []
    assert json.loads(api)  # the day's papers, whose URLs were checked above
    assert "Traceback" not in log and "DAILYPAPERS_BASE_URL" not in log  # nothing to warn about


def test_a_configured_base_url_that_disagrees_is_warned_about_once(env):
    port = free_port()
    proc = _serve(dict(env, DAILYPAPERS_BASE_URL="http://127.0.0.1:8000"), port=port)
    try:
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
    finally:
        log = _stop(proc)
    assert '<link rel="canonical" href="http://127.0.0.1:8000/">' in home  # the operator's word stands
    warnings = [line for line in log.splitlines() if "DAILYPAPERS_BASE_URL" in line]
    assert len(warnings) == 1, log
    assert "http://127.0.0.1:8000" in warnings[0] and str(port) in warnings[0]


def test_a_wildcard_bind_links_to_the_address_each_visitor_used(env):
    port = free_port()
    proc = _serve(env, "--host", "0.0.0.0", port=port)
    try:
        first = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        other = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": f"localhost:{port}"}, timeout=10).text
        hostile = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": "evil.example"}, timeout=10).text
        broken = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": '"><script>'}, timeout=10)
        again = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        atom = httpx.get(f"http://localhost:{port}/feeds/daily.atom", timeout=10).text
    finally:
        log = _stop(proc)
    assert f'href="http://127.0.0.1:{port}/"' in first
    assert f'href="http://localhost:{port}/"' in other
    assert 'href="http://evil.example/"' in hostile  # the sender's own answer only:
    assert f'href="http://127.0.0.1:{port}/"' in again and "evil.example" not in again  # never cached for others
    assert "<script>" not in broken.text
    assert f"<id>http://localhost:{port}/papers/" in atom
    notes = [line for line in log.splitlines() if "DAILYPAPERS_BASE_URL" in line]
    assert len(notes) == 1 and f"{socket.gethostname()}:{port}" in notes[0], log


def test_emails_never_take_their_links_from_a_request(db_url, tmp_path):
    """With a wildcard bind and no base URL, a confirmation email sent by the web links to the
    machine's name and the port, whatever Host the request named."""
    from starlette.testclient import TestClient

    from dailypapers.web.app import create_app
    from webhelp import csrf_from

    settings = make_settings(db_url, tmp_path, host="0.0.0.0", port=8123, vendor_dir=ROOT / "node_modules")
    assert settings.base_url == f"http://{socket.gethostname()}:8123"
    with TestClient(create_app(settings), base_url="http://evil.example", follow_redirects=False) as c:
        token = csrf_from(c.get("/subscribe").text)
        r = c.post("/subscribe", data={"email": "reader@example.org", "cadence": "daily", "trending": "10", "csrftoken": token})
        assert r.status_code == 200, r.text
    [mail] = list((settings.data_dir / "outbox").glob("*.eml"))
    text = mail.read_text()
    assert "evil.example" not in text
    assert f"http://{socket.gethostname()}:8123/subscribe/confirm/" in text


def test_derived_and_disagreeing_addresses():
    from dailypapers import siteurl

    assert Settings(port=9000).base_url == "http://127.0.0.1:9000"
    assert Settings(host="::1", port=9000).base_url == "http://[::1]:9000"
    assert Settings(host="localhost", port=80).base_url == "http://localhost"
    assert Settings(base_url="https://papers.example.org/", port=9000).base_url == "https://papers.example.org"
    assert Settings(port=9000).serving_at("127.0.0.1", 9100).base_url == "http://127.0.0.1:9100"
    assert Settings(base_url="http://x.org", port=9000).serving_at("127.0.0.1", 9100).base_url == "http://x.org"
    assert siteurl.disagreement("https://papers.example.org", "127.0.0.1", 8000) is None  # behind a proxy
    assert siteurl.disagreement("http://127.0.0.1:8000", "127.0.0.1", 8000) is None
    assert siteurl.disagreement("http://localhost:8000", "0.0.0.0", 8000) is None
    assert "port 9000" in siteurl.disagreement("http://127.0.0.1:8000", "127.0.0.1", 9000)
    assert "port 9000" in siteurl.disagreement(f"http://{socket.gethostname()}", "0.0.0.0", 9000)
    assert "10.1.2.3" in siteurl.disagreement("http://127.0.0.1:8000", "10.1.2.3", 8000)


def test_up_on_another_port_links_to_that_port(env):
    """`dailypapers up --port N`, like serve: its pages and the address it prints name the port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "up", "--port", str(port), "--workers", "1",
                             "--log-level", "warning"], env=dict(env, DAILYPAPERS_ONLINE="0"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.2)
        home = httpx.get(base + "/", timeout=10).text
        atom = httpx.get(base + "/feeds/daily.atom", timeout=10).text
    finally:
        proc.terminate()
        proc.wait(30)
    assert f'<link rel="canonical" href="{base}/">' in home and ":8000" not in home
    assert f"<id>{base}/papers/" in atom and ":8000" not in atom
    assert f"serving Daily Papers at {base}" in proc.stdout.read()
