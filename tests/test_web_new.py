"""/new and /api/listings, and a site with listings but nothing featured yet (issue 14, point 1),
over a real slice of the arxiv-daily corpus, which is arXiv's listings: nothing in it is featured."""

from __future__ import annotations

import gzip
import html
import json
import re
from collections import defaultdict

import pytest

from support import client_for, db_for, drop_pg_database, site_settings
from webhelp import log_in, make_user, token_of

from dailypapers.ingest.run import IngestJob
from dailypapers.store.engine import Store


@pytest.fixture(scope="module")
def by_day(listing_subset) -> dict[str, list[dict]]:
    """The slice's papers by listing day, in file order (the listing's order)."""
    days: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(listing_subset) as f:
        for line in f:
            obj = json.loads(line)
            days[obj["listed"]].append(obj)
    return dict(days)


@pytest.fixture(params=["sqlite", "postgresql"])
def listed_site(request, tmp_path, listing_subset):
    """A site fed only arXiv's listings: nothing featured."""
    url, pg = db_for(request, tmp_path, request.param)
    settings = site_settings(url, tmp_path, page_size=50)
    store = Store(settings)
    IngestJob(store).run([str(listing_subset)])
    store.dispose()
    yield settings
    if pg:
        drop_pg_database(*pg)


def ids_on(page: str) -> list[str]:
    return re.findall(r'<h3 class="card-title"><a href="/papers/([^"]+)">', page)


def test_home_says_nothing_is_featured_and_offers_the_listing(listed_site, by_day):
    latest = max(by_day)
    with client_for(listed_site) as c:
        home = c.get("/")
        assert home.status_code == 200
        assert "Nothing has been featured on this site yet" in home.text
        assert 'class="card"' not in home.text  # no listed paper shown as the community's pick
        assert "0 papers" not in home.text and "Most upvoted" not in home.text  # no sorting of nothing
        # How papers get featured: a submission, a curator's pick from New, the mirror of HF.
        assert 'href="/submit"' in home.text and "mirror of Hugging Face's daily papers" in home.text
        assert f'href="/new/{latest}"' in home.text
        assert f"arXiv listed {len(by_day[latest])} papers" in home.text
        first = by_day[latest][0]
        assert f'href="/papers/{first["id"]}"' in home.text
        # A day of the listing, without featured papers: said, and the listing offered.
        day = min(by_day)
        page = c.get(f"/date/{day}").text
        assert "No papers were featured on this day" in page and f'href="/new/{day}"' in page
        assert c.get("/api/daily_papers").json() == []


def test_new_lists_a_day_in_listing_order_with_filters_and_pages(listed_site, by_day):
    day = min(by_day)
    papers = by_day[day]
    with client_for(listed_site) as c:
        page = c.get(f"/new/{day}")
        assert page.status_code == 200
        assert ids_on(page.text) == [p["id"] for p in papers[:50]]
        assert f"{len(papers)} papers listed" in page.text
        assert "Not featured" in page.text and "Feature on today" not in page.text  # anonymous: a login link
        second = c.get(f"/new/{day}?page=2")
        assert ids_on(second.text) == [p["id"] for p in papers[50:100]]
        latest = c.get("/new")
        assert ids_on(latest.text) == [p["id"] for p in by_day[max(by_day)][:50]]
        assert 'aria-current="page">New</a>' in latest.text
        # Category filter: an archive covers its categories; a name arXiv lacks is a 400.
        in_cv = [p["id"] for p in papers if "cs.CV" in p["categories"]]
        cv = c.get(f"/new/{day}?category=cs.cv")
        assert ids_on(cv.text) == in_cv[:50] and f"{len(in_cv)} papers listed in cs.CV" in cv.text
        assert c.get(f"/new/{day}?category=nonsense.XX").status_code == 400
        days = sorted(by_day)
        assert f'href="/new/{days[1]}"' in page.text  # next day
        assert c.get("/new/2025-13-01").status_code == 400


def test_api_listings_is_the_same_query(listed_site, by_day):
    day = min(by_day)
    with client_for(listed_site) as c:
        items = c.get(f"/api/listings?date={day}&limit=100").json()
        assert [i["paper"]["id"] for i in items] == [p["id"] for p in by_day[day][:100]]
        assert all(i["listedOn"] == day and i["isFeatured"] is False and i["featuredOn"] is None for i in items)
        more = c.get(f"/api/listings?date={day}&limit=100&p=1").json()
        assert [i["paper"]["id"] for i in more] == [p["id"] for p in by_day[day][100:200]]
        assert [i["paper"]["id"] for i in c.get("/api/listings?limit=5").json()] == [p["id"] for p in by_day[max(by_day)][:5]]
        cs = c.get(f"/api/listings?date={day}&category=cs&limit=100").json()
        assert cs and all(any(cat.startswith("cs.") for cat in i["paper"]["categories"]) for i in cs)
        bad = c.get("/api/listings?category=nonsense.XX")
        assert bad.status_code == 400 and "not an arXiv archive or category" in bad.json()["error"]


def test_a_member_features_a_listed_paper_from_new(listed_site, by_day):
    import datetime as dt

    day = min(by_day)
    target = by_day[day][3]["id"]
    make_user(listed_site, "curie", is_curator=True)  # the papers are older than a week: a curator's
    make_user(listed_site, "bob")
    with client_for(listed_site) as c:
        log_in(c, "bob")
        page = c.get(f"/new/{day}").text
        assert f'<input type="hidden" name="arxiv_id" value="{target}">' in page
        refused = c.post("/submit", data={"csrftoken": token_of(c, f"/new/{day}"), "arxiv_id": target})
        assert refused.status_code == 400 and "only curators" in html.unescape(refused.text)
        c.post("/logout", data={"csrftoken": token_of(c)})
        log_in(c, "curie")
        missing_token = c.post("/submit", data={"arxiv_id": target})
        assert missing_token.status_code == 403
        ok = c.post("/submit", data={"csrftoken": token_of(c, f"/new/{day}"), "arxiv_id": target})
        assert ok.status_code == 303
        today = dt.datetime.now(dt.UTC).date().isoformat()
        after = c.get(f"/new/{day}").text
        card = after.split(f'href="/papers/{target}"', 1)[1].split("</article>", 1)[0]
        assert "Featured" in card and f'href="/date/{today}"' in card
        home = c.get("/").text
        assert "Nothing has been featured" not in home and ids_on(home) == [target]
        items = c.get(f"/api/listings?date={day}&limit=10").json()
        assert [i["isFeatured"] for i in items] == [i["paper"]["id"] == target for i in items]
        assert [i["paper"]["id"] for i in c.get("/api/daily_papers").json()] == [target]
