"""Claiming authorship in a real browser (Debian's chromium through Playwright, against a live
server): a member picks which author they are on the paper page, a curator confirms it on the
queue page, and the paper page, its card and the author's page show the claimed mark; the
member's comment carries the author badge. Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from browserhelp import shot, ui_log_in
from support import feature_all_listed, site_settings
from webhelp import live_server, make_user

pytestmark = pytest.mark.browser

PAPER = {"id": "2503.90201", "title": "Claimed <b>paper</b> & $\\alpha<\\beta$",
         "authors": ["Ashish Vaswani", "Noam <i>Shazeer</i>"], "categories": ["cs.CL"], "comment": None,
         "abstract": "An abstract with $x^2$ & <script>window.__xss=1</script>.", "listed": "2025-03-24"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from dailypapers.ingest.run import IngestJob
    from dailypapers.store.engine import Store

    tmp = tmp_path_factory.mktemp("browser-claims")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp)
    listing = tmp / "papers.jsonl"
    listing.write_text(json.dumps(PAPER) + "\n")
    store = Store(settings)
    IngestJob(store).run([str(listing)])
    feature_all_listed(store)  # the feed's cards show the claim: the paper is featured, not only listed
    store.dispose()
    make_user(settings, "ashish", "an author password")
    make_user(settings, "curie", "a curator password", is_curator=True)
    with live_server(settings) as base:
        yield base


def test_claim_confirm_and_badge(browser, server):
    author, curator = browser.new_context(), browser.new_context()
    try:
        page = author.new_page()
        ui_log_in(page, server, "ashish", "an author password")
        page.goto(server + "/papers/2503.90201")
        page.click("text=Are you an author of this paper?")
        page.select_option("#claim-position", label="Ashish Vaswani")
        shot(page, "claim-form")
        page.click("button:has-text('Claim authorship')")
        expect(page.locator(".claim-status")).to_contain_text("waits for a curator")
        page.fill("#comment-body", "We wrote this; ask us anything.")
        page.click("button:has-text('Comment')")

        desk = curator.new_page()
        ui_log_in(desk, server, "curie", "a curator password")
        desk.goto(server + "/claims")
        expect(desk.locator("table.claims")).to_contain_text("Ashish Vaswani")
        shot(desk, "claims-queue")
        desk.click("button:has-text('Confirm')")
        expect(desk.locator(".empty")).to_contain_text("No claims wait")

        desk.goto(server + "/papers/2503.90201")
        expect(desk.locator('#authors a.claimed[href="/u/ashish"]')).to_have_count(1)
        expect(desk.locator(".comment .badge.author")).to_have_text("author")
        shot(desk, "claimed-paper")
        desk.goto(server + "/date/2025-03-24")
        expect(desk.locator('.card a.claimed[href="/u/ashish"]')).to_have_count(1)
        desk.click(".card a.author >> text=Ashish Vaswani")
        expect(desk.locator("h1")).to_have_text("Ashish Vaswani")
        expect(desk.locator(".coauthors")).to_contain_text("Noam <i>Shazeer</i> (1)")  # shown as text, escaped
        shot(desk, "author-page")
        assert desk.evaluate("window.__xss") is None
    finally:
        author.close()
        curator.close()
