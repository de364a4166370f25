"""A member's own marks through the site (issue 15): Save and "Not interested" on cards and paper
pages, with and without JavaScript; dismissed papers hidden from the member's feeds and back after
Undo; follows; personal API tokens and the private feed key; the personal API; CSRF, privacy
between members, and the rate limit. Real SQLite and PostgreSQL, through the app."""

from __future__ import annotations

import re

import pytest

from support import client_for, read_once
from dailypapers.store import feedback as feedback_store
from dailypapers.store import follows as follow_store
from dailypapers.store import library
from dailypapers.store import papers as paper_store
from dailypapers.store import tokens as token_store
from dailypapers.store import users as user_store
from webhelp import log_in, make_user, token_of

DAY = "/date/2024-10-25"  # three featured papers
KEPT, HIDDEN, OTHER = "2410.17243", "2410.16251", "2410.18533"
JSON = {"accept": "application/json"}


def cards_of(html: str) -> str:
    """The cards section of a page (not the links to papers elsewhere on it)."""
    return html.split('<section class="cards', 1)[1].split("</section>", 1)[0]


def member_marks(settings, name: str, arxiv_id: str) -> dict:
    def read(session):
        user = user_store.by_name(session, name)
        pid = paper_store.existing(session, [arxiv_id])[arxiv_id].id
        return {
            "saved": pid in library.saved(session, user["id"], [pid]),
            "dismissed": pid in feedback_store.dismissed(session, user["id"], [pid]),
            "signals": user_store.signals(session, user["id"]),
        }

    return read_once(settings, read)


@pytest.fixture
def alice(fresh_site):
    make_user(fresh_site)
    with client_for(fresh_site) as client:
        log_in(client)
        yield client


def test_save_and_dismiss_without_javascript(alice, fresh_site):
    token = token_of(alice, DAY)
    r = alice.post(f"/papers/{KEPT}/save", data={"csrftoken": token, "next": DAY})
    assert r.status_code == 303 and r.headers["location"] == DAY
    r = alice.post(f"/papers/{HIDDEN}/dismiss", data={"csrftoken": token, "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{HIDDEN}"  # only same-site next
    assert member_marks(fresh_site, "alice", KEPT) == {"saved": True, "dismissed": False, "signals": 2}
    assert member_marks(fresh_site, "alice", HIDDEN)["dismissed"]

    page = alice.get(DAY)
    assert page.headers["cache-control"].startswith("private")
    cards = cards_of(page.text)
    assert HIDDEN not in cards and KEPT in cards and OTHER in cards
    assert f'action="/papers/{KEPT}/unsave"' in cards and ">Saved</button>" in cards
    assert "2 papers" in page.text and "1 paper you marked not interested is hidden here" in page.text
    shown = alice.get(DAY + "?hidden=show").text
    assert HIDDEN in cards_of(shown) and f'action="/papers/{HIDDEN}/undismiss"' in shown and "Hidden · Undo" in shown
    assert "Hide them again" in shown

    # Idempotent: a second save or dismissal changes nothing, not even the signals counter.
    alice.post(f"/papers/{KEPT}/save", data={"csrftoken": token})
    alice.post(f"/papers/{HIDDEN}/dismiss", data={"csrftoken": token})
    assert member_marks(fresh_site, "alice", KEPT)["signals"] == 2

    # Undo: back on the feed.
    assert alice.post(f"/papers/{HIDDEN}/undismiss", data={"csrftoken": token, "next": DAY}).status_code == 303
    back = alice.get(DAY).text
    assert HIDDEN in cards_of(back) and "marked not interested" not in back
    assert alice.post(f"/papers/{KEPT}/unsave", data={"csrftoken": token}).status_code == 303
    assert member_marks(fresh_site, "alice", KEPT) == {"saved": False, "dismissed": False, "signals": 4}


def test_save_dismiss_and_follow_as_json(alice, fresh_site):
    token = token_of(alice, DAY)
    headers = {**JSON, "x-csrftoken": token}
    r = alice.post(f"/papers/{KEPT}/save", headers=headers)
    assert r.status_code == 200 and r.json() == {"id": KEPT, "saved": True}
    assert r.headers["cache-control"] == "private, no-store"
    assert alice.post(f"/papers/{KEPT}/unsave", headers=headers).json() == {"id": KEPT, "saved": False}
    assert alice.post(f"/papers/{HIDDEN}/dismiss", headers=headers).json() == {"id": HIDDEN, "dismissed": True}
    assert alice.post(f"/papers/{HIDDEN}/undismiss", headers=headers).json() == {"id": HIDDEN, "dismissed": False}
    assert alice.post("/papers/2410.99999/save", headers=headers).status_code == 404
    r = alice.post("/follow", data={"kind": "author", "value": "cheng z", "label": "Zesen Cheng"}, headers=headers)
    assert r.json() == {"kind": "author", "value": "cheng z", "label": "Zesen Cheng", "following": True}
    r = alice.post("/unfollow", data={"kind": "author", "value": "cheng z"}, headers=headers)
    assert r.json()["following"] is False


def test_unsave_turns_the_button_off_while_other_collections_keep_the_paper(alice, fresh_site):
    """Save / Saved shows and toggles the "Saved" collection: a paper also kept in another
    collection stays in the library after an unsave, and the button reads Save again."""
    token = token_of(alice, DAY)
    headers = {**JSON, "x-csrftoken": token}
    assert alice.post(f"/papers/{KEPT}/save", headers=headers).json()["saved"] is True

    def keep_elsewhere(session):
        user = user_store.by_name(session, "alice")
        pid = paper_store.existing(session, [KEPT])[KEPT].id
        other = library.create(session, user["id"], "Reading group")
        library.add(session, other, pid, user["id"])
        session.commit()

    read_once(fresh_site, keep_elsewhere)
    assert alice.post(f"/papers/{KEPT}/unsave", headers=headers).json() == {"id": KEPT, "saved": False}
    cards = cards_of(alice.get(DAY).text)
    assert f'action="/papers/{KEPT}/save"' in cards
    assert member_marks(fresh_site, "alice", KEPT)["saved"]  # still in "Reading group"


def test_personal_writes_need_the_csrf_token(alice, fresh_site):
    for path, form in [
        (f"/papers/{KEPT}/save", {}),
        (f"/papers/{HIDDEN}/dismiss", {}),
        ("/follow", {"kind": "category", "value": "cs.CL"}),
        ("/account/tokens", {"name": "x"}),
        ("/account/tokens/feed", {}),
        ("/account/taste", {"taste": "{}"}),
    ]:
        assert alice.post(path, data=form).status_code == 403, path
        assert alice.post(path, data={**form, "csrftoken": "forged"}).status_code == 403, path
    # The personal API with the session cookie needs the header as well...
    assert alice.post(f"/api/me/papers/{KEPT}/save").status_code == 403
    assert alice.post("/api/me/follows", json={"kind": "category", "value": "cs.CL"}).status_code == 403
    assert member_marks(fresh_site, "alice", KEPT)["signals"] == 0
    # ...and a bearer request, which carries no ambient credential, needs none, but is never signed
    # in by the cookie beside it: a wrong token is refused even so.
    assert alice.post(f"/api/me/papers/{KEPT}/save", headers={"authorization": "Bearer dp_wrong"}).status_code == 401
    assert alice.post(f"/papers/{KEPT}/save", headers={**JSON, "authorization": "Bearer dp_wrong"}).status_code == 401
    assert member_marks(fresh_site, "alice", KEPT)["saved"] is False


def test_signed_out_buttons_lead_to_log_in(fresh_site):
    with client_for(fresh_site) as client:
        page = client.get(DAY).text
        assert 'class="save-button" href="/login?next=%2Fdate%2F2024-10-25"' in page
        assert 'class="dismiss-button" href="/login?next=' in page and "save-form" not in page
        assert client.post(f"/papers/{KEPT}/save", headers=JSON).status_code == 401
        r = client.post(f"/papers/{KEPT}/save", data={"next": DAY})
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fdate%2F2024-10-25"
        author = client.get("/authors/Zesen%20Cheng").text
        assert 'class="button small ghost follow-button" href="/login?next=' in author
        for path in ("/following", "/account/tokens", "/account/taste", "/account/taste.json"):
            assert client.get(path).headers["location"].startswith("/login?next="), path
        assert client.get("/api/me").status_code == 401


def test_dismissed_hidden_from_feeds_not_from_search_or_its_page(alice, fresh_site):
    token = token_of(alice, DAY)
    alice.post(f"/papers/{HIDDEN}/dismiss", data={"csrftoken": token})
    author = alice.get("/authors/Baixiang%20Huang").text
    assert HIDDEN not in cards_of(author) and "1 paper you marked not interested is hidden here" in author
    # Trending (the latest month of the feed): its first paper dismissed is gone from it, and counted.
    top = re.search(r'href="/papers/([0-9.]+)"', cards_of(alice.get("/trending?period=month").text)).group(1)
    alice.post(f"/papers/{top}/dismiss", data={"csrftoken": token})
    trending = alice.get("/trending?period=month").text
    assert f'href="/papers/{top}"' not in cards_of(trending) and "1 paper you marked not interested is hidden here" in trending
    assert f'href="/papers/{top}"' in cards_of(alice.get("/trending?period=month&hidden=show").text)
    assert HIDDEN in cards_of(alice.get("/authors/Baixiang%20Huang?hidden=show").text)
    # The paper's own page and search results show it, as dismissed, with Undo.
    paper = alice.get(f"/papers/{HIDDEN}").text
    assert f'action="/papers/{HIDDEN}/undismiss"' in paper and "Hidden · Undo" in paper
    results = alice.get("/search?q=" + HIDDEN.replace(".", " ") + " knowledge editing hallucination").text
    assert f'action="/papers/{HIDDEN}/undismiss"' in results

    # /new: a listed paper dismissed is hidden from the day's listing, and counted.
    new = alice.get("/new").text
    first = re.search(r'href="/papers/([0-9.]+)"', cards_of(new)).group(1)
    alice.post(f"/papers/{first}/dismiss", data={"csrftoken": token})
    again = alice.get("/new").text
    assert f'href="/papers/{first}"' not in cards_of(again) and "1 paper you marked not interested is hidden here" in again
    # Another member, and a visitor, see everything.
    make_user(fresh_site, "bob")
    with client_for(fresh_site) as bob:
        log_in(bob, "bob")
        assert f'href="/papers/{first}"' in cards_of(bob.get("/new").text)
        assert HIDDEN in cards_of(bob.get(DAY).text)
    with client_for(fresh_site) as visitor:
        assert HIDDEN in cards_of(visitor.get(DAY).text)


def test_follows(alice, fresh_site):
    token = token_of(alice, "/authors/Zesen%20Cheng")
    author = alice.get("/authors/Zesen%20Cheng").text
    assert 'name="value" value="cheng z"' in author and 'name="label" value="Zesen Cheng"' in author
    r = alice.post("/follow", data={"csrftoken": token, "kind": "author", "value": "cheng z", "label": "Zesen Cheng",
                                    "next": "/authors/Zesen%20Cheng"})
    assert r.status_code == 303 and r.headers["location"] == "/authors/Zesen%20Cheng"
    assert 'action="/unfollow"' in alice.get("/authors/Zesen%20Cheng").text
    assert alice.post("/follow", data={"csrftoken": token, "kind": "category", "value": "CS.cl"}).status_code == 303
    query = 'ti:diffusion "video generation"'
    assert alice.post("/follow", data={"csrftoken": token, "kind": "search", "value": query}).status_code == 303
    search = alice.get("/search", params={"q": query}).text
    assert "Following this search" in search
    cat = alice.get("/search?q=cat:cs.CL").text
    assert "Following cs.CL" in cat and "Follow this search" in cat
    assert "Following cs.CL" in alice.get("/new?category=cs.CL").text
    following = alice.get("/following")
    assert following.headers["cache-control"] == "private, no-store"
    assert "Zesen Cheng" in following.text and "cs.CL" in following.text and "video generation" in following.text
    # Refused, with the reason, nothing kept.
    for form, reason in [
        ({"kind": "planet", "value": "mars"}, "kind must be one of"),
        ({"kind": "category", "value": "cs.XX"}, "is not an arXiv archive or category"),
        ({"kind": "search", "value": "ti:"}, ""),
        ({"kind": "author", "value": "   "}, "needed"),
        ({"kind": "search", "value": "x" * 301}, "at most"),
    ]:
        r = alice.post("/follow", data={"csrftoken": token, **form})
        assert r.status_code == 400 and reason in r.text, (form, r.text[:300])
    rows = read_once(fresh_site, lambda s: follow_store.of_member(s, user_store.by_name(s, "alice")["id"]))
    assert [(f["kind"], f["value"]) for f in rows] == [("author", "cheng z"), ("category", "cs.CL"), ("search", query)]
    assert alice.post("/unfollow", data={"csrftoken": token, "kind": "category", "value": "cs.CL", "next": "/following"}).status_code == 303
    assert "cs.CL" not in alice.get("/following").text.split("Categories", 1)[1].split("Searches", 1)[0]


def test_tokens_and_the_personal_api(alice, fresh_site):
    page = alice.get("/account/tokens")
    assert page.headers["cache-control"] == "private, no-store"
    token = token_of(alice, "/account/tokens")
    created = alice.post("/account/tokens", data={"csrftoken": token, "name": "my script"})
    assert created.status_code == 200 and created.headers["cache-control"] == "private, no-store"
    secret = re.search(r'class="secret-value">(dp_[^<]+)<', created.text).group(1)
    assert secret not in alice.get("/account/tokens").text  # shown once
    assert "my script" in alice.get("/account/tokens").text

    with client_for(fresh_site) as script:  # no cookie at all: the token alone
        bearer = {"authorization": f"Bearer {secret}"}
        me = script.get("/api/me", headers=bearer)
        assert me.status_code == 200 and me.headers["cache-control"] == "private, no-store"
        assert me.json()["name"] == "alice" and me.json()["counts"]["saved"] == 0
        assert script.post(f"/api/me/papers/{KEPT}/save", headers=bearer).json() == {"id": KEPT, "saved": True}
        assert script.post(f"/api/me/papers/{HIDDEN}/dismiss", headers=bearer).json() == {"id": HIDDEN, "dismissed": True}
        assert script.post(f"/api/me/papers/{KEPT}/frobnicate", headers=bearer).status_code == 400
        r = script.post("/api/me/follows", headers=bearer, json={"kind": "category", "value": "cs.lg"})
        assert r.json() == {"kind": "category", "value": "cs.LG", "label": "cs.LG", "following": True}
        bad = script.post("/api/me/follows", headers=bearer, json={"kind": "category", "value": "nope.XX"})
        assert bad.status_code == 400 and "not an arXiv" in bad.json()["error"]
        assert script.post("/api/me/follows", headers={**bearer, "content-type": "application/json"}, content=b"[1,2").status_code == 400
        follows = script.get("/api/me/follows", headers=bearer).json()
        assert [(f["kind"], f["value"]) for f in follows] == [("category", "cs.LG")]
        assert script.get("/api/me", headers=bearer).json()["counts"] == {
            "saved": 1, "collections": 1, "dismissed": 1, "follows": 1, "upvotes": 0}
        listed = alice.get("/account/tokens").text
        assert "never" not in listed.split("my script", 1)[1].split("</tr>", 1)[0]  # its last use is shown

        # Revoked: refused at once, with a one-line JSON error.
        token_id = read_once(fresh_site, lambda s: token_store.of_member(s, user_store.by_name(s, "alice")["id"], "api")[0]["id"])
        assert alice.post(f"/account/tokens/{token_id}/revoke", data={"csrftoken": token}).status_code == 303
        refused = script.get("/api/me", headers=bearer)
        assert refused.status_code == 401 and set(refused.json()) == {"error"} and "\n" not in refused.json()["error"]
        assert script.post(f"/api/me/papers/{OTHER}/save", headers=bearer).status_code == 401
        assert script.get("/api/me", headers={"authorization": "Bearer dp_not-a-token"}).status_code == 401
        assert "revoked" in alice.get("/account/tokens").text

        # The private feed key: shown once as its URL; it is no API token, and an API token is no feed key.
        made = alice.post("/account/tokens/feed", data={"csrftoken": token})
        url = re.search(r'class="secret-value">(http://testserver/feeds/me/(dpf_[^<]+)\.atom)<', made.text)
        assert url, made.text[:2000]
        feed_secret = url.group(2)
        assert script.get("/api/me", headers={"authorization": f"Bearer {feed_secret}"}).status_code == 401
        assert read_once(fresh_site, lambda s: token_store.member_for(s, feed_secret, "feed"))["username"] == "alice"
        assert read_once(fresh_site, lambda s: token_store.member_for(s, secret, "feed")) is None
        # A new address revokes the old one.
        alice.post("/account/tokens/feed", data={"csrftoken": token})
        assert read_once(fresh_site, lambda s: token_store.member_for(s, feed_secret, "feed")) is None

    # The session cookie works for reads, and for writes with the CSRF header.
    assert alice.get("/api/me").json()["name"] == "alice"
    r = alice.post(f"/api/me/papers/{OTHER}/save", headers={"x-csrftoken": token})
    assert r.json() == {"id": OTHER, "saved": True}
    # Token names are checked; someone else's token id is not found.
    assert alice.post("/account/tokens", data={"csrftoken": token, "name": " "}).status_code == 400
    assert alice.post("/account/tokens/999999/revoke", data={"csrftoken": token}).status_code == 404


def test_nothing_of_one_member_is_visible_to_another(alice, fresh_site):
    token = token_of(alice, DAY)
    alice.post(f"/papers/{KEPT}/save", data={"csrftoken": token})
    alice.post(f"/papers/{HIDDEN}/dismiss", data={"csrftoken": token})
    alice.post("/follow", data={"csrftoken": token, "kind": "search", "value": "quokka habitats"})
    alice.post("/account/tokens", data={"csrftoken": token, "name": "alice-secret-script"})
    make_user(fresh_site, "bob")
    with client_for(fresh_site) as bob:
        log_in(bob, "bob")
        day = bob.get(DAY).text
        assert ">Saved</button>" not in day and "Hidden · Undo" not in day and HIDDEN in cards_of(day)
        assert "quokka" not in bob.get("/following").text
        assert "alice-secret-script" not in bob.get("/account/tokens").text
        assert '"quokka' not in bob.get("/account/taste.json").text and KEPT not in bob.get("/account/taste.json").text
        assert bob.get("/api/me").json()["counts"] == {"saved": 0, "collections": 0, "dismissed": 0, "follows": 0, "upvotes": 0}
        assert bob.get("/api/me/follows").json() == []
        alice_tokens = read_once(fresh_site, lambda s: token_store.of_member(s, user_store.by_name(s, "alice")["id"]))
        bob_token = token_of(bob, "/account/tokens")
        assert bob.post(f"/account/tokens/{alice_tokens[0]['id']}/revoke", data={"csrftoken": bob_token}).status_code == 404
        assert "quokka" not in bob.get("/u/alice").text
    assert "alice-secret-script" in alice.get("/account/tokens").text  # still live
    assert "revoked" not in alice.get("/account/tokens").text


def test_personal_writes_are_rate_limited(db_url, tmp_path, listing_subset):
    from support import load_site_data, site_settings

    settings = site_settings(db_url, tmp_path, rate_limit_personal="3/hour")
    load_site_data(settings, listing_subset)
    make_user(settings)
    with client_for(settings) as client:
        log_in(client)
        token = token_of(client, DAY)
        codes = [client.post(f"/papers/{KEPT}/{a}", data={"csrftoken": token}).status_code for a in ("save", "unsave", "save", "unsave")]
        assert codes == [303, 303, 303, 429]
        limited = client.post("/follow", data={"kind": "category", "value": "cs.CL"}, headers={**JSON, "x-csrftoken": token})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
