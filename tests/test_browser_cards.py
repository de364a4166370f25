"""The card grid in a real browser (Chromium): pictures on top of every card, thumbnails made by the
job and generated cards alike, every <img> loading; the list view chosen and remembered; a phone's
390 px without sideways scrolling. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from browserhelp import shot
from support import load_site_data, site_settings
from upstream import Answer, Upstream
from webhelp import live_server

pytestmark = pytest.mark.browser

ALL_IMAGES_LOADED = "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"


@pytest.fixture(scope="module")
def server(tmp_path_factory, listing_subset):
    from dailypapers.ingest.thumbnails import make_thumbnails
    from dailypapers.store.engine import Store
    from pdfhelp import make_pdf

    tmp = tmp_path_factory.mktemp("cards")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp)
    load_site_data(settings, listing_subset)
    store = Store(settings)
    with Upstream(lambda req: Answer(body=make_pdf("Paper " + req.path.rsplit("/", 1)[-1]), content_type="application/pdf")) as up:
        # Some of the latest day's papers get a thumbnail, the rest show their generated cards.
        store.settings = settings.model_copy(update={"arxiv_pdf_url": up.url + "/pdf/{id}", "thumbnail_job_limit": 6})
        assert make_thumbnails(store).made == 6
    store.dispose()
    with live_server(settings) as base:
        yield base


def _load_all(page) -> None:
    """Scroll down the page a screen at a time so every lazy image loads, then wait for them."""
    import time

    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 1, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
    deadline = time.monotonic() + 15
    while not page.evaluate("Array.from(document.images).every(i => i.complete)") and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.evaluate("window.scrollTo(0, 0)")


def test_grid_with_a_picture_on_every_card(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    assert page.locator(".cards.grid").count() == 1
    cards = page.locator(".cards.grid .card").count()
    assert cards > 6 and page.locator(".card .thumb img").count() == cards
    webp = page.locator('.card .thumb img[src*=".webp?v="]').count()
    assert webp == 6  # the thumbnails the job made; the others are generated cards
    columns = page.evaluate("getComputedStyle(document.querySelector('.cards.grid')).gridTemplateColumns.split(' ').length")
    assert columns >= 3
    _load_all(page)
    assert page.evaluate(ALL_IMAGES_LOADED) == []
    shot(page, "cards-grid")
    context.close()


def test_list_view_is_remembered(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    page.click(".view-switch >> text=List")
    page.wait_for_url("**view=list**")
    assert page.locator(".cards.list").count() == 1 and page.locator(".card .thumb").count() == 0
    shot(page, "cards-list")
    page.goto(server + "/trending?period=month")  # another page, no parameter: still the list
    assert page.locator(".cards.list").count() == 1
    page.goto(server + "/")
    assert page.locator(".cards.list").count() == 1
    page.click(".view-switch >> text=Grid")
    page.goto(server + "/")
    assert page.locator(".cards.grid").count() == 1
    context.close()


@pytest.mark.parametrize("path", ["/", "/?view=list", "/trending?period=month", "/search?q=language", "/new", "/new?view=list"])
def test_phone_width_has_no_sideways_scroll(browser, server, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(server + path)
    _load_all(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate(ALL_IMAGES_LOADED) == []
    if path == "/":
        box = page.locator(".card .thumb img").first.bounding_box()
        assert box and box["width"] > 300  # one column, the picture as wide as the card
        shot(page, "cards-phone")
    context.close()


def test_new_lists_the_day_with_its_featured_marks(browser, server, tmp_path_factory):
    """/new: every paper arXiv listed on the latest day, as cards with pictures (generated ones for
    the papers without a thumbnail), each saying whether it is featured; a filter by category."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/new")
    assert page.locator("h1").inner_text() == "New on arXiv"
    listed = int(page.locator("p.count").inner_text().split()[0].replace(",", ""))
    cards = page.locator(".cards.grid .card").count()
    assert cards > 6 and page.locator(".card .thumb img").count() == cards
    # load_site_data featured every listed paper: each card says since when.
    assert page.locator(".card .badge.featured").count() == cards
    _load_all(page)
    assert page.evaluate(ALL_IMAGES_LOADED) == []
    shot(page, "new-grid")
    page.fill("#new-category", "cs.CV")
    page.click(".jump button[type=submit]")
    page.wait_for_url("**category=cs.CV**")
    in_cv = int(page.locator("p.count").inner_text().split()[0].replace(",", ""))
    assert 0 < in_cv < listed and "listed in cs.CV" in page.locator("p.count").inner_text()
    assert 0 < page.locator(".cards .card").count() <= in_cv
    context.close()

