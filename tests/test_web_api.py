"""The JSON API, and Hugging Face's own client reading it from a real server."""

from __future__ import annotations

import pytest

from support import client_fixture, client_for
from webhelp import live_server


client = client_fixture("shared_site")


def test_daily_papers_shape(client):
    items = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    assert [i["paper"]["id"] for i in items] == ["2410.17243", "2410.16251", "2410.18533"]  # most upvoted first
    item = next(i for i in items if i["paper"]["id"] == "2410.17243")
    paper = item["paper"]
    assert paper["title"].startswith("Breaking the Memory Barrier") and paper["summary"].startswith("Contrastive loss")
    assert paper["authors"][0]["name"] == "Zesen Cheng" and paper["upvotes"] == 64
    assert paper["publishedAt"] == "2024-10-22T17:59:30.000Z"
    assert item["publishedAt"] == "2024-10-25T00:57:09.392Z" and item["numComments"] == 3
    assert item["title"] == paper["title"] and item["submittedBy"]["name"] == paper["submittedOnDailyBy"]["name"]


def test_daily_papers_periods_sorting_paging(client, listing_subset):
    latest = client.get("/api/daily_papers").json()
    assert {i["paper"]["id"] for i in latest} and len(latest) == 50
    week = client.get("/api/daily_papers", params={"week": "2025-W12", "limit": 100, "p": 0}).json()
    assert len(week) == 100
    month_first = client.get("/api/daily_papers", params={"month": "2025-03", "limit": 100}).json()
    month_second = client.get("/api/daily_papers", params={"month": "2025-03", "limit": 100, "p": 1}).json()
    assert not {i["paper"]["id"] for i in month_first} & {i["paper"]["id"] for i in month_second}
    assert client.get("/api/daily_papers", params={"date": "2025-03-18", "p": 99}).json() == []
    trending = client.get("/api/daily_papers", params={"date": "2024-10-25", "sort": "trending"}).json()
    assert [i["paper"]["id"] for i in trending] == ["2410.17243", "2410.16251", "2410.18533"]


def test_a_days_default_order_is_by_upvotes_as_on_hugging_face(client):
    """HF orders a day most upvoted first; sort=publishedAt and sort=trending still work."""
    default = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    assert [(i["paper"]["id"], i["paper"]["upvotes"]) for i in default] == [
        ("2410.17243", 64), ("2410.16251", 41), ("2410.18533", 37)
    ]
    newest = client.get("/api/daily_papers", params={"date": "2024-10-25", "sort": "publishedAt"}).json()
    assert [i["paper"]["id"] for i in newest] == ["2410.16251", "2410.18533", "2410.17243"]
    month = client.get("/api/daily_papers", params={"month": "2024-10"}).json()
    assert [i["paper"]["id"] for i in month] == ["2410.17243", "2410.16251", "2410.18533"]


def test_submitter_without_a_date_searches_every_date_in_any_case(client):
    """As on HF: ?submitter=NAME alone lists that user's papers from every day, not only the
    latest (2024-10-25 is long before the latest day here); the name matches in any case."""
    latest = client.get("/api/daily_papers").json()
    assert "2410.16251" not in {i["paper"]["id"] for i in latest}
    for name in ("canyuchen", "CanyuChen", "CANYUCHEN"):
        items = client.get("/api/daily_papers", params={"submitter": name}).json()
        assert [i["paper"]["id"] for i in items] == ["2410.16251"], name
        assert items[0]["submittedBy"]["name"] == "canyuchen" and items[0]["submittedBy"]["fullname"] == "Canyu Chen"
    assert client.get("/api/daily_papers", params={"submitter": "canyuchen", "date": "2025-03-18"}).json() == []
    assert len(client.get("/api/daily_papers", params={"submitter": "canyuchen", "month": "2024-10"}).json()) == 1
    assert client.get("/api/daily_papers", params={"submitter": "nobody-at-all"}).json() == []


def test_imported_submitters_and_claimed_authors_keep_hugging_faces_profile(client):
    """The submitter's full name and avatar (HF's relative avatar URLs made absolute: on our site
    they would lead nowhere), and the accounts that claimed an authorship, with their status."""
    item = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()[0]
    by = item["submittedBy"]
    assert (by["name"], by["user"], by["fullname"]) == ("ClownRat", "ClownRat", "Zesen Cheng")
    assert by["avatarUrl"] == "https://huggingface.co/avatars/1b09e2742aecce1bbdc57f0c4504cf38.svg"
    assert item["paper"]["submittedOnDailyBy"] == by
    first, second = item["paper"]["authors"][:2]
    assert first["name"] == "Zesen Cheng" and first["user"]["user"] == "ClownRat"
    assert first["status"] == "claimed_verified" and first["statusLastChangedAt"] == "2024-10-25T09:30:02.067Z"
    assert first["hidden"] is False and "user" not in second and "status" not in second
    lidong = item["paper"]["authors"][8]
    assert lidong["user"]["avatarUrl"].startswith("https://cdn-avatars.huggingface.co/")
    assert item["mediaUrls"] == item["paper"]["mediaUrls"] and len(item["mediaUrls"]) == 3
    assert all(u.startswith("https://cdn-uploads.huggingface.co/") for u in item["mediaUrls"])
    canyu = client.get("/api/papers/2410.16251").json()["submittedOnDailyBy"]
    assert canyu["fullname"] == "Canyu Chen" and canyu["avatarUrl"].startswith("https://cdn-avatars.huggingface.co/")


def test_every_answer_has_one_stable_shape(client):
    """Unknown values are null, [] or 0, never missing: a listing paper, an HF paper, a search hit
    and a paper's own answer carry the same fields; the Hub's linked repositories are empty."""
    listing = client.get("/api/daily_papers", params={"date": "2025-03-18", "limit": 1}).json()[0]
    hf = client.get("/api/daily_papers", params={"date": "2024-10-25", "limit": 1}).json()[0]
    found = client.get("/api/papers/search", params={"q": "contrastive loss memory", "limit": 3}).json()
    assert set(listing) == set(hf) == set(found[0]) and set(listing["paper"]) == set(hf["paper"]) == set(found[0]["paper"])
    for item in (listing, hf, *found):
        assert item["linkedModels"] == item["linkedDatasets"] == item["linkedSpaces"] == []
        assert item["numTotalModels"] == item["numTotalDatasets"] == item["numTotalSpaces"] == 0
        assert item["thumbnail"] is None
    assert listing["submittedBy"] is None and listing["paper"]["submittedOnDailyBy"] is None
    assert listing["mediaUrls"] == [] and listing["ai_keywords"] == [] and listing["ai_summary"] is None
    info = client.get(f"/api/papers/{listing['paper']['id']}").json()
    assert info["linkedModels"] == [] and info["numTotalModels"] == 0 and info["numTotalSpaces"] == 0
    assert set(info) >= set(listing["paper"])


def test_members_avatars_are_the_sites_own_absolute_urls(fresh_site):
    """A member who submitted a paper: the generated avatar at /u/{name}/avatar.svg on the site's
    base URL (never a relative URL, never one that does not exist), and the display name."""
    import datetime as dt

    from dailypapers.store import daily as daily_store
    from dailypapers.store import papers as paper_store
    from dailypapers.store.engine import Store
    from dailypapers.store.schema import User
    from webhelp import make_user

    make_user(fresh_site, "bob")
    store = Store(fresh_site)
    with store.session() as session, session.begin():
        bob = session.query(User).filter_by(username="bob").one()
        bob.display_name = "Bob Builder"
        pid = paper_store.existing(session, ["2503.11685"])["2503.11685"][0]
        daily_store.add_submission(session, pid, dt.date(2025, 3, 25), bob.id, dt.datetime(2025, 3, 25, 8, 30))
    store.dispose()
    with client_for(fresh_site) as c:
        item = c.get("/api/daily_papers", params={"date": "2025-03-25"}).json()[0]
        by = item["submittedBy"]
        assert (by["name"], by["fullname"], by["avatarUrl"]) == ("bob", "Bob Builder", "http://testserver/u/bob/avatar.svg")
        assert [i["paper"]["id"] for i in c.get("/api/daily_papers", params={"submitter": "BOB"}).json()] == ["2503.11685"]
        listing = c.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
        for author in (a for i in listing for a in i["paper"]["authors"] if "user" in a):
            assert author["user"]["avatarUrl"].startswith("https://")


def test_search_items_are_daily_items(client):
    """A hit carries what the daily item of the same paper carries: when and by whom it was featured."""
    found = client.get("/api/papers/search", params={"q": "Can Knowledge Editing Really Correct Hallucinations", "limit": 5}).json()
    hit = next(i for i in found if i["paper"]["id"] == "2410.16251")
    daily = next(i for i in client.get("/api/daily_papers", params={"date": "2024-10-25"}).json() if i["paper"]["id"] == "2410.16251")
    assert hit == daily


def test_search_without_a_query_lists_the_latest_papers(client):
    """huggingface_hub's list_papers() sends no q: the most recently featured papers, newest first."""
    items = client.get("/api/papers/search").json()
    assert len(items) == 20
    latest_day = client.get("/api/daily_papers", params={"limit": 1}).json()[0]["publishedAt"][:10]
    assert items[0]["publishedAt"][:10] == latest_day
    stamps = [i["publishedAt"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert len(client.get("/api/papers/search", params={"limit": 3}).json()) == 3


@pytest.mark.parametrize(
    "params",
    [{"date": "2024-13-01"}, {"date": "yesterday"}, {"week": "2025-12"}, {"month": "2025-1"}, {"limit": 101}, {"limit": 0},
     {"sort": "upvotes"}, {"p": -1}, {"p": "x"}, {"date": "2025-03-18", "week": "2025-W12"}, {"p": 10**6},
     {"p": 10**30}, {"month": "9999-12"}, {"week": "9999-W52"}, {"submitter": "x" * 101}],
)
def test_daily_papers_rejects_bad_parameters(client, params):
    r = client.get("/api/daily_papers", params=params)
    assert r.status_code == 400 and r.json()["error"]


def test_paper_by_id(client):
    body = client.get("/api/papers/2410.17243").json()
    assert body["id"] == "2410.17243" and body["upvotes"] == 64 and body["numComments"] == 3
    assert client.get("/api/papers/2410.17243v2").json()["id"] == "2410.17243"
    missing = client.get("/api/papers/2999.00001")
    assert missing.status_code == 404 and "no paper" in missing.json()["error"]
    assert client.get("/api/papers/nonsense").status_code == 404


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert "/api/daily_papers" in spec["paths"] and "/api/papers/{arxiv_id}" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "<script>" not in docs.text


def test_openapi_document_says_what_the_api_does(client):
    """Real response schemas; invalid parameters answer 400 with {"error"} (never FastAPI's 422,
    which the document must not promise); the sort enum and the bounds the validation enforces."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and schemas["Error"]["required"] == ["error"]
    daily = spec["paths"]["/api/daily_papers"]["get"]
    ok = daily["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["type"] == "array" and ok["items"] == {"$ref": "#/components/schemas/DailyItem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert daily["responses"]["400"]
    params = {p["name"]: p["schema"] for p in daily["parameters"]}
    assert {"enum": ["publishedAt", "trending", "githubStars"], "type": "string"} in params["sort"]["anyOf"]
    assert (params["limit"]["minimum"], params["limit"]["maximum"], params["limit"]["default"]) == (1, 100, 50)
    assert params["p"]["minimum"] == 0 and params["p"]["maximum"] == 10_000
    item = schemas["DailyItem"]
    assert item["additionalProperties"] is False and {"paper", "submittedBy", "linkedModels", "mediaUrls"} <= set(item["required"])
    assert schemas["User"]["properties"]["avatarUrl"]["type"] == "string"
    for path in ("/api/papers/{arxiv_id}/upvote", "/api/papers/{arxiv_id}/unvote", "/api/subscriptions"):
        assert "403" in spec["paths"][path]["post"]["responses"], path
    assert spec["paths"]["/api/subscriptions"]["post"]["responses"]["429"]
    sub = spec["paths"]["/api/subscriptions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert sub == {"$ref": "#/components/schemas/SubscriptionRequest"} and "SubscriptionRequest" in schemas


def test_api_posts_without_their_csrf_token_get_a_json_403(fresh_site):
    """A signed-in browser (it holds the CSRF cookie) posting without the token: 403 in the API's
    error shape, as documented."""
    from webhelp import log_in, make_user, token_of

    make_user(fresh_site)
    with client_for(fresh_site) as c:
        log_in(c)
        for path in ("/api/papers/2410.17243/upvote", "/api/papers/2410.17243/unvote", "/api/subscriptions"):
            r = c.post(path, json={"email": "a@example.org"})
            assert r.status_code == 403 and r.headers["content-type"] == "application/json", path
            assert "CSRF" in r.json()["error"]
        r = c.post("/api/papers/2410.17243/upvote", headers={"x-csrftoken": token_of(c)})
        assert r.status_code == 200 and r.json() == {"id": "2410.17243", "upvotes": 65, "upvoted": True}
        assert c.post("/login", data={"username": "alice"}).status_code == 403  # pages keep their own answer


@pytest.fixture(scope="module")
def live(shared_site):
    with live_server(shared_site) as base:
        yield base


def test_huggingface_hub_reads_our_api(live):
    from huggingface_hub import HfApi

    api = HfApi(endpoint=live, token=False)
    daily = list(api.list_daily_papers(date="2024-10-25"))
    assert {p.id for p in daily} == {"2410.17243", "2410.16251", "2410.18533"}
    first = next(p for p in daily if p.id == "2410.17243")
    assert first.title.startswith("Breaking the Memory Barrier") and first.upvotes == 64
    assert first.authors[0].name == "Zesen Cheng" and first.comments == 3
    assert first.published_at.isoformat().startswith("2024-10-22T17:59:30")
    assert first.submitted_at.isoformat().startswith("2024-10-25T00:57:09")
    assert first.submitted_by.username
    week = list(api.list_daily_papers(week="2025-W12", limit=10, p=1))
    assert len(week) == 10
    info = api.paper_info("2410.16251")
    assert info.id == "2410.16251" and info.upvotes == 41 and info.title.startswith("Can Knowledge Editing")
    assert info.summary and info.authors
    assert api.read_paper("2410.16251").startswith("# Can Knowledge Editing")
