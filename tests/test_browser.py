"""The site in a real browser: Playwright driving Debian's chromium against a live server.

Screenshots of the main pages are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browserhelp import SHOTS, shot, ui_log_in
from support import load_site_data, site_settings
from webhelp import live_server, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, listing_subset):
    tmp = tmp_path_factory.mktemp("browser")
    settings = site_settings(f"sqlite:///{tmp / 'site.db'}", tmp)
    load_site_data(settings, listing_subset)
    evil = tmp / "evil.jsonl"
    evil.write_text(
        '{"id": "2503.99998", "title": "<img src=x onerror=\\"window.__xss=1;alert(1)\\"> Attention $\\\\alpha<\\\\beta$",'
        ' "authors": ["<script>window.__xss=2</script>"], "categories": ["cs.CL"], "comment": null,'
        ' "abstract": "Math: $E = mc^2$ and $$\\\\sum_{i=1}^n x_i$$. <script>window.__xss=3</script> a < b & c", "listed": "2025-03-24"}\n'
    )
    from dailypapers.jobs.ingest import ingest_job
    from dailypapers.store.engine import Store

    store = Store(settings)
    ingest_job(store).run([str(evil)])
    store.dispose()
    make_user(settings, "curie", "a curator password", is_curator=True)
    with live_server(settings) as base:
        yield base


@pytest.fixture
def browser_context(browser):
    context = browser.new_context()  # each test starts with no cookies
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    dialogs, violations = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.dialogs, page.violations = dialogs, violations
    yield page
    page.close()


def enter(page, server, link: str, button: str) -> None:
    """Follow `link` to a form, give the reader's name and password, press `button`: signed in."""
    page.click(link)
    page.fill("#username", "reader")
    page.fill("#password", "a reader password")
    page.click(f"button:has-text('{button}')")
    page.wait_for_url(server + "/")
    assert page.locator("nav >> text=reader").is_visible()


def test_sign_up_log_out_log_in(page, server):
    page.goto(server + "/")
    shot(page, "feed-anonymous")
    enter(page, server, "text=Sign up", "Create account")
    page.click("button:has-text('Log out')")
    page.wait_for_url(server + "/")
    enter(page, server, "nav >> text=Log in", "Log in")


def test_upvote_from_the_feed_without_reload(page, server):
    ui_log_in(page, server, "curie", "a curator password")
    page.goto(server + "/date/2024-10-25")
    page.evaluate("window.__marker = 'same page'")
    button = page.locator('.vote[data-paper="2410.16251"] button')
    assert button.locator(".count").inner_text() == "41"
    button.click()
    expect(button.locator(".count")).to_have_text("42")
    assert page.evaluate("window.__marker") == "same page"  # no reload
    assert button.get_attribute("aria-pressed") == "true"
    shot(page, "feed-upvoted")
    page.reload()
    assert page.locator('.vote[data-paper="2410.16251"] .count').inner_text() == "42"
    page.locator('.vote[data-paper="2410.16251"] button').click()
    expect(page.locator('.vote[data-paper="2410.16251"] .count')).to_have_text("41")


def test_move_between_days(page, server):
    page.goto(server + "/date/2025-03-21")
    page.click(".period-nav >> text=Next")
    page.wait_for_url(server + "/date/2025-03-24")  # the weekend has no papers
    page.click(".period-nav >> text=Previous")
    page.wait_for_url(server + "/date/2025-03-21")
    page.fill("#jump-date", "2025-03-19")
    page.click(".jump button")
    page.wait_for_url(server + "/date/2025-03-19")
    page.click("text=Week")
    page.wait_for_url(server + "/week/2025-W12")
    assert "papers" in page.locator(".count").first.inner_text()


def test_paper_page_renders_math(page, server):
    page.goto(server + "/papers/2503.99998")
    page.wait_for_selector(".abstract-full .katex")
    assert page.locator(".abstract-full .katex").count() >= 2
    assert page.locator(".abstract-full .katex-display").count() == 1
    shot(page, "paper")
    assert page.dialogs == [] and page.evaluate("window.__xss") is None


def test_submit_and_comment(page, server):
    ui_log_in(page, server, "curie", "a curator password")
    page.goto(server + "/submit")
    page.fill("#arxiv_id", "https://arxiv.org/abs/2503.11685")
    page.click("button:has-text('Submit')")
    page.wait_for_url("**/papers/2503.11685?submitted=1")
    assert "on today's feed" in page.locator(".notice").inner_text()
    page.fill("#comment-body", "Lovely: $\\tanh$ in **hardware**. <script>window.__xss=4</script>")
    page.click("button:has-text('Comment')")
    page.wait_for_selector(".comment-body strong")
    assert page.locator(".comment-body strong").inner_text() == "hardware"
    page.wait_for_selector(".comment-body .katex")
    shot(page, "paper-discussion")
    page.goto(server + "/submit")
    page.fill("#arxiv_id", "2503.11685")
    page.click("button:has-text('Submit')")
    assert "already featured" in page.locator(".error").inner_text()
    assert page.evaluate("window.__xss") is None and page.dialogs == []


def test_feed_links_can_be_subscribed_to(page, server):
    import feedparser

    page.goto(server + "/")
    links = page.eval_on_selector_all('link[rel="alternate"]', "els => els.map(e => [e.type, e.href])")
    assert ("application/atom+xml", server + "/feeds/daily.atom") in [tuple(l) for l in links]
    for _type, href in links:
        response = page.request.get(href)
        assert response.ok and not feedparser.parse(response.body()).bozo
    page.goto(server + "/papers/2503.99998")
    href = page.locator(".facts a.chip").first.get_attribute("href")
    assert href == "/feeds/category/cs.CL.atom"
    assert feedparser.parse(page.request.get(server + href).body()).entries


def test_no_injected_script_ever_runs(page, server):
    for path in ("/", "/date/2025-03-24", "/papers/2503.99998", "/api/papers/2503.99998", "/feeds/daily.atom",
                 "/trending?period=month", "/papers/2503.11685"):
        page.goto(server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
    assert page.dialogs == []
    assert page.violations == []  # nothing even tried to run inline


def test_phone_width_reads_without_horizontal_scrolling(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path, name in (("/", "feed-phone"), ("/papers/2503.99998", "paper-phone"), ("/stats", "stats-phone")):
        page.goto(server + path)
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        shot(page, name)
    context.close()


def test_screenshots_of_the_main_pages(page, server):
    for path, name in (("/trending?period=month", "trending"), ("/stats", "stats"), ("/login", "login"),
                       ("/docs", "api-docs"), ("/date/2024-10-25", "feed-hf-day")):
        page.goto(server + path)
        page.wait_for_load_state("load")
        shot(page, name)
    page.goto(server + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15000)  # Swagger UI ran from our own files
    assert (SHOTS / "stats.png").stat().st_size > 5000
