"""The library in a real browser (Chromium): a member keeps a paper from its page (a new
collection, a tag, a note, read) with the plain forms, and the Cite box shows arXiv-style BibTeX,
with a working Copy button when JavaScript runs and the text alone when it does not."""

from __future__ import annotations

import bibtexparser
import pytest

from browserhelp import shot, ui_log_in
from support import load_site_data, site_settings
from webhelp import live_server, make_user

pytestmark = pytest.mark.browser
PAPER = "2410.17243"


@pytest.fixture(scope="module")
def server(tmp_path_factory, listing_subset):
    tmp = tmp_path_factory.mktemp("library")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp)
    load_site_data(settings, listing_subset)
    make_user(settings, "alice")
    with live_server(settings) as base:
        yield base


def test_keep_a_paper_and_copy_its_citation(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    ui_log_in(page, server, "alice", "correct horse battery")
    page.goto(f"{server}/papers/{PAPER}")
    page.click("#cite > summary")
    copy = page.locator("#cite .copy-button")
    assert copy.is_visible()
    copy.click()
    page.wait_for_function("document.querySelector('#cite .copy-button').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    entry = bibtexparser.parse_string(copied).entries[0]
    assert entry["eprint"] == PAPER and entry["archivePrefix"] == "arXiv"
    shot(page, "library-cite")

    page.fill("#new-collection", "Long context")
    page.click(".add-to-collection button")
    page.wait_for_url(f"{server}/papers/{PAPER}#library")
    assert page.locator(".library-in a.chip", has_text="Long context").count() == 1
    page.fill("#tag-input", "Memory, batching")
    page.click("button:has-text('Tag')")
    page.wait_for_url(f"{server}/papers/{PAPER}#library")
    page.click("details.note > summary")
    page.fill("#note-body", "Compare with **ring attention**")
    page.click("button:has-text('Save note')")
    page.wait_for_url(f"{server}/papers/{PAPER}#library")
    page.click("button:has-text('Mark read')")
    page.wait_for_url(f"{server}/papers/{PAPER}#library")
    panel = page.locator("#library")
    assert panel.locator(".note-body strong").inner_text() == "ring attention"
    assert panel.locator("a.chip", has_text="memory").count() == 1 and "mark unread" in panel.inner_text()
    shot(page, "library-panel")
    page.click("nav >> text=Library")
    assert page.locator(".collections a", has_text="Long context").count() == 1
    assert page.locator(".tag-cloud a", has_text="batching").count() == 1
    context.close()


def test_the_cite_box_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/papers/{PAPER}")
    page.click("#cite > summary")
    text = page.locator("#cite-bibtex").inner_text()
    assert bibtexparser.parse_string(text).entries[0]["eprint"] == PAPER
    assert not page.locator("#cite .copy-button").is_visible()
    context.close()
