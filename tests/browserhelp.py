"""What the browser tests share: Debian's chromium found (or the tests skipped), its flags, signing
in through the login form, and screenshots under test-artifacts/screenshots/. The `browser`
fixture (conftest.py) launches it once per module."""

from __future__ import annotations

import os
import shutil

import pytest

from support import ROOT

SHOTS = ROOT / "test-artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("DAILYPAPERS_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required for the browser tests (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); browser tests skipped")
    return path


def ui_log_in(page, server: str, name: str, password: str) -> None:
    page.goto(server + "/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(server + "/")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
