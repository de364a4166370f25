"""The OpenAPI document tells the truth: schemathesis generates requests from /openapi.json (every
operation, its default phases, valid and invalid data) against a live server of a site with real
data, and checks that no answer is a server error, that every status code is documented and that
every body matches its documented schema. Run three times: as an anonymous client, as a signed-in
member sending the CSRF token (so upvotes and their answers are exercised too), and as a script
holding a personal API token (the personal API, /api/me/..., without cookies or CSRF token). Deterministic, so CI
sends the same requests every run."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from webhelp import csrf_from, live_server, make_user

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def signed_in_headers(base: str) -> list[str]:
    """-H options carrying a member's session and CSRF cookies, and the CSRF header."""
    with httpx.Client(base_url=base) as web:
        token = csrf_from(web.get("/login").text)
        r = web.post("/login", data={"username": "alice", "password": "correct horse battery", "csrftoken": token, "next": "/"})
        assert r.status_code == 303, r.text
        cookies = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
    return ["-H", f"Cookie: {cookies}", "-H", f"x-csrftoken: {token}"]


@pytest.fixture(scope="module")
def site(shared_site):
    make_user(shared_site)
    return shared_site


def token_headers(settings) -> list[str]:
    """-H options carrying a personal API token of the member (no cookie: no CSRF token needed)."""
    from dailypapers.store import tokens as token_store
    from dailypapers.store import users as user_store
    from dailypapers.store.engine import Store

    store = Store(settings)
    with store.session() as session, session.begin():
        _id, secret = token_store.create(session, user_store.by_name(session, "alice")["id"], "api", "schemathesis")
    store.dispose()
    return ["-H", f"Authorization: Bearer {secret}"]


@pytest.mark.parametrize("who", ["anonymous", "member", "token"])
def test_schemathesis_finds_nothing(site, tmp_path, who):
    # Generous subscription and personal limits: the fuzzer posts many from one address and member
    # (429 stays documented).
    limits = dict(rate_limit_subscribe="100000/hour", rate_limit_subscribe_email="100000/day", rate_limit_personal="100000/hour")
    with live_server(site, **limits) as base:
        headers = signed_in_headers(base) if who == "member" else token_headers(site) if who == "token" else []
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", *headers,
                "--checks", CHECKS, "--mode", "all", "--generation-deterministic", "--max-examples", "30",
                "--workers", "1", "--suppress-health-check", "all", "--no-color", "--output-truncate", "false",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    # GET /api/listings, GET /api/authors/{name}, and the personal API (issue 15): GET /api/me, POST
    # /api/me/papers/{arxiv_id}/{action}, GET and POST /api/me/follows, the library's two, and
    # GET /api/me/recommendations
    assert "Operations:       16 selected / 16 total" in run.stdout, run.stdout
    if who == "member":  # the upvote and personal routes answered as to a member, not only 401
        assert "Authentication failed" not in run.stdout, run.stdout
