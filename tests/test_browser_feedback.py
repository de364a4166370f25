"""Save and "Not interested" on the feed in a real browser (Chromium), with JavaScript: no reload
(the page's navigation count stays and a marker set on the window survives), the button says
Saved, the dismissed card collapses to one line, "Hidden · Undo", Undo brings it back, and after a
reload the saved paper is still saved and the dismissed one is hidden, with the page saying so.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browserhelp import shot, ui_log_in
from support import load_site_data, site_settings
from webhelp import live_server, make_user

pytestmark = pytest.mark.browser

DAY = "/date/2024-10-25"
KEPT, HIDDEN, THIRD = "2410.17243", "2410.16251", "2410.18533"
NAVIGATIONS = "performance.getEntriesByType('navigation').length + ':' + (window.__marker || '')"


@pytest.fixture(scope="module")
def server(tmp_path_factory, listing_subset):
    tmp = tmp_path_factory.mktemp("feedback")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp)
    load_site_data(settings, listing_subset)
    make_user(settings)
    with live_server(settings) as base:
        yield base


def card(page, arxiv_id: str):
    return page.locator(f'.cards .card:has(.feedback[data-paper="{arxiv_id}"])')


def test_save_and_dismiss_without_a_reload(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    ui_log_in(page, server, "alice", "correct horse battery")
    page.goto(server + DAY)
    page.evaluate("window.__marker = 'same page'")
    before = page.evaluate(NAVIGATIONS)

    saved = card(page, KEPT).locator(".save-button")
    saved.click()
    expect(saved).to_have_text("Saved")  # (the page's CSP rules out wait_for_function's eval)
    assert saved.get_attribute("aria-pressed") == "true"

    card(page, HIDDEN).locator(".dismiss-button").click()
    line = card(page, HIDDEN).locator(".collapsed-line")
    line.wait_for()
    assert line.inner_text().strip() == "Hidden · Undo"
    assert not card(page, HIDDEN).locator(".card-title").is_visible()  # collapsed to the one line
    assert card(page, THIRD).locator(".card-title").is_visible()
    assert page.evaluate(NAVIGATIONS) == before == "1:same page"  # no reload, no navigation
    shot(page, "feedback-saved-and-hidden")

    # Undo, then hide it again: both without a reload.
    line.locator(".undo-button").click()
    expect(card(page, HIDDEN).locator(".collapsed-line")).to_have_count(0)
    assert card(page, HIDDEN).locator(".card-title").is_visible()
    card(page, HIDDEN).locator(".dismiss-button").click()
    card(page, HIDDEN).locator(".collapsed-line").wait_for()
    assert page.evaluate(NAVIGATIONS) == "1:same page"

    # After a reload: still saved, and hidden, the page saying how many it hid.
    page.reload()
    assert page.evaluate("window.__marker || ''") == ""
    assert card(page, KEPT).locator(".save-button").inner_text().strip() == "Saved"
    assert card(page, HIDDEN).count() == 0
    assert "1 paper you marked not interested is hidden here" in page.locator(".hidden-notice").inner_text()
    page.click(".hidden-notice >> text=Show it")
    page.wait_for_url("**hidden=show**")
    assert card(page, HIDDEN).locator(".dismiss-button").inner_text().strip() == "Hidden · Undo"
    shot(page, "feedback-after-reload")
    context.close()


def test_follow_an_author_without_a_reload(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    ui_log_in(page, server, "alice", "correct horse battery")
    page.goto(server + "/authors/Zesen%20Cheng")
    page.evaluate("window.__marker = 'same page'")
    button = page.locator(".follow-form .follow-button")
    assert button.inner_text().strip() == "Follow"
    button.click()
    expect(button).to_have_text("Following")
    assert page.evaluate(NAVIGATIONS) == "1:same page"
    page.goto(server + "/following")
    assert "Zesen Cheng" in page.locator(".follows").inner_text()
    context.close()
