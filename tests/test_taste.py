"""A member's taste as one file (issue 15): exported from one instance and imported into another
member of another instance gives the same library, tags, notes, read marks, follows, upvotes and
dismissals; importing twice changes nothing; papers the store lacks are queued for fetching into
their collection; a bad file, or a failure half-way, leaves nothing. Store, site and command line,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from support import client_for, db_for, drop_pg_database, env_for, load_site_data, read_once, site_settings
from dailypapers.errors import DailyPapersError
from dailypapers.store import feedback as feedback_store
from dailypapers.store import fetches
from dailypapers.store import follows as follow_store
from dailypapers.store import library
from dailypapers.store import papers as paper_store
from dailypapers.store import taste as taste_store
from dailypapers.store import users as user_store
from dailypapers.store import votes as vote_store
from dailypapers.store.engine import Store
from dailypapers.store.schema import Collection
from dailypapers.web.personal import check_follow
from webhelp import log_in, make_user, token_of

A, B, C = "2410.17243", "2410.16251", "2410.18533"
ABSENT = "2501.00001"  # a paper neither instance holds

MARKS = {
    "format": "dailypapers-taste",
    "version": 1,
    "collections": [
        {"name": "Saved", "default": True, "papers": [B, A]},
        {"name": "Reading group", "description": "Thursdays, room 2", "public": True, "position": 2, "papers": [C, A, ABSENT]},
        {"name": "Empty one", "position": 3, "papers": []},
    ],
    "tags": [{"paper": A, "tags": ["Memory", "to read", "memory"]}, {"paper": C, "tags": ["long context"]}],
    "notes": [{"paper": A, "note": "Check the *tiling* trick.\nSecond line."}],
    "read": [{"paper": A, "at": "2026-11-01T10:00:00Z"}, {"paper": B, "at": "2026-11-02T11:30:00Z"}],
    "follows": [
        {"kind": "author", "value": "cheng z", "label": "Zesen Cheng"},
        {"kind": "category", "value": "cs.cl", "label": "cs.CL"},
        {"kind": "search", "value": 'ti:diffusion "video generation"', "label": 'ti:diffusion "video generation"'},
    ],
    "upvotes": [C],
    "dismissed": [B],
}


def member_id(store: Store, name: str) -> int:
    with store.session() as session, session.begin():
        found = user_store.by_name(session, name)
        return found["id"] if found else user_store.create(session, name, "x")


def merge_into(store: Store, user_id: int, doc: dict) -> taste_store.Merged:
    taste = taste_store.parse(json.loads(json.dumps(doc)), check_follow)
    with store.session() as session, session.begin():
        return taste_store.merge(session, user_id, taste)


def exported(store: Store, user_id: int, name: str = "x") -> dict:
    with store.session() as session:
        doc = taste_store.export(session, user_id, name)
    return {k: v for k, v in doc.items() if k not in ("exported_at", "member")}


@pytest.fixture
def two_sites(request, db_url, tmp_path, listing_subset):
    """Two instances holding the same papers, on two databases of the parametrized kind."""
    first = site_settings(db_url, tmp_path / "one")
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    (tmp_path / "two").mkdir()
    url, pg = db_for(request, tmp_path / "two", kind)
    second = site_settings(url, tmp_path / "two")
    for settings in (first, second):
        load_site_data(settings, listing_subset)
    yield first, second
    if pg:
        drop_pg_database(*pg)


def test_export_then_import_on_another_instance_gives_the_same_taste(two_sites):
    here, there = (Store(s) for s in two_sites)
    try:
        alice = member_id(here, "alice")
        first = merge_into(here, alice, MARKS)
        assert first.queued == [ABSENT] and first.not_placed == []
        assert (first.collections, first.papers, first.tags, first.notes, first.read, first.follows, first.upvotes, first.dismissed) == (
            2, 4, 3, 1, 2, 3, 1, 1)
        doc = exported(here, alice)
        with here.session() as session:  # the store's own view of what the import made
            assert library.saved(session, alice, [paper_store.existing(session, [A])[A].id])
            assert follow_store.is_following(session, alice, "category", "cs.CL")
            assert user_store.signals(session, alice) > 0
        assert [c["name"] for c in doc["collections"]] == ["Saved", "Reading group", "Empty one"]
        reading = doc["collections"][1]
        assert reading == {"name": "Reading group", "description": "Thursdays, room 2", "public": True, "default": False,
                           "position": 2, "papers": [C, A]}  # the absent paper joins once fetched
        assert doc["collections"][0]["papers"] == [B, A]  # the file's order
        assert {(t["paper"], tuple(t["tags"])) for t in doc["tags"]} == {(A, ("memory", "to read")), (C, ("long context",))}
        assert doc["notes"] == [{"paper": A, "note": "Check the *tiling* trick.\nSecond line."}]
        assert doc["read"] == [{"paper": A, "at": "2026-11-01T10:00:00Z"}, {"paper": B, "at": "2026-11-02T11:30:00Z"}]
        assert [f["value"] for f in doc["follows"]] == ["cheng z", "cs.CL", 'ti:diffusion "video generation"']
        assert doc["upvotes"] == [C] and doc["dismissed"] == [B]

        bob = member_id(there, "bob")
        merged = merge_into(there, bob, {**doc, "member": "alice"})
        assert merged.queued == [] and merged.not_placed == []
        assert exported(there, bob) == doc
        again = merge_into(there, bob, doc)  # idempotent: nothing new the second time
        assert again.as_dict()["imported"] == dict.fromkeys(again.as_dict()["imported"], 0)
        assert exported(there, bob) == doc
        with there.session() as session:
            pids = paper_store.existing(session, [B, C])
            assert feedback_store.dismissed(session, bob, [pids[B].id]) == {pids[B].id}
            assert vote_store.voted(session, bob, [pids[C].id]) == {pids[C].id}
        # The paper the first instance lacked waits as a fetch request for its collection.
        with here.session() as session:
            request = fetches.latest(session, ABSENT, user_id=alice, reason="import")
            reading_id = session.execute(select(Collection.id).where(Collection.name == "Reading group")).scalar_one()
        assert request["state"] == "pending" and request["collection_id"] == reading_id
    finally:
        here.dispose()
        there.dispose()


def test_merge_keeps_what_the_member_has(two_sites):
    store = Store(two_sites[0])
    try:
        alice = member_id(store, "alice")
        merge_into(store, alice, {"format": "dailypapers-taste", "version": 1,
                                  "collections": [{"name": "reading group", "papers": [C]}],
                                  "notes": [{"paper": A, "note": "mine"}]})
        merged = merge_into(store, alice, MARKS)
        doc = exported(store, alice)
        # Matched by name in any case; its papers kept first; a note already written is not overwritten.
        assert [c["name"] for c in doc["collections"]] == ["Saved", "reading group", "Empty one"]
        assert doc["collections"][1]["papers"] == [C, A]
        assert doc["notes"] == [{"paper": A, "note": "mine"}] and merged.notes == 0
        assert {r["paper"] for r in doc["read"]} == {A, B}
    finally:
        store.dispose()


BAD = [
    ([1, 2], "not a taste file"),
    ({"format": "zotero"}, "not a taste file"),
    ({**MARKS, "version": 99}, "version 99"),
    ({**MARKS, "version": "1"}, "whole number"),
    ({**MARKS, "collections": [{"name": ""}]}, "collections[0]: a collection needs a name"),
    ({**MARKS, "collections": [{"name": "a"}, {"name": "A"}]}, "two collections named"),
    ({**MARKS, "collections": "Saved"}, "collections must be a list"),
    ({**MARKS, "tags": [{"paper": A, "tags": "x"}]}, "tags must be a list of strings"),
    ({**MARKS, "notes": [{"paper": A, "note": "x" * 20_001}]}, "longer than 20,000"),
    ({**MARKS, "read": [{"paper": A, "at": "yesterday"}]}, "not an ISO 8601 time"),
    ({**MARKS, "follows": [{"kind": "category", "value": "cs.XX"}]}, "follows[0]: 'cs.XX' is not an arXiv"),
    ({**MARKS, "follows": [{"kind": "planet", "value": "mars"}]}, "follows[0]: kind must be"),
    ({**MARKS, "upvotes": [A, 7]}, "upvotes[1]: an arXiv id must be a string"),
    ({**MARKS, "dismissed": [A, "not-an-id"]}, "dismissed[1]: 'not-an-id' is not an arXiv id"),
    ({**MARKS, "upvotes": [f"2410.{n:05d}" for n in range(20_001)]}, "more than 20,000 papers"),
]


@pytest.mark.parametrize("doc, reason", BAD, ids=[r for _d, r in BAD])
def test_bad_files_are_refused_with_one_line(doc, reason):
    with pytest.raises(taste_store.BadTaste) as caught:
        taste_store.parse(json.loads(json.dumps(doc)), check_follow)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_a_failure_half_way_leaves_nothing(two_sites, monkeypatch):
    store = Store(two_sites[0])
    try:
        alice = member_id(store, "alice")
        taste = taste_store.parse(json.loads(json.dumps(MARKS)), check_follow)

        def broken(*args, **kwargs):
            raise DailyPapersError("the disk is full")

        monkeypatch.setattr(taste_store.feedback_store, "dismiss", broken)  # the last step
        with pytest.raises(DailyPapersError), store.session() as session, session.begin():
            taste_store.merge(session, alice, taste)
        assert exported(store, alice) == {"format": "dailypapers-taste", "version": 1, "collections": [], "tags": [], "notes": [],
                                          "read": [], "follows": [], "upvotes": [], "dismissed": []}
        with store.session() as session:
            assert fetches.latest(session, ABSENT, user_id=alice) is None
            assert user_store.signals(session, alice) == 0
    finally:
        store.dispose()


def test_taste_through_the_site(fresh_site):
    make_user(fresh_site)
    make_user(fresh_site, "bob")
    with client_for(fresh_site) as alice, client_for(fresh_site) as bob:
        log_in(alice)
        token = token_of(alice, "/account/taste")
        r = alice.post("/account/taste", data={"csrftoken": token, "taste": json.dumps(MARKS)})
        assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
        assert "Imported: 2 new collections, 4 papers put into collections" in r.text and ABSENT in r.text
        download = alice.get("/account/taste.json")
        assert download.headers["cache-control"] == "private, no-store"
        assert 'attachment; filename="taste-alice-' in download.headers["content-disposition"]
        doc = download.json()
        assert doc["member"] == "alice" and [c["name"] for c in doc["collections"]] == ["Saved", "Reading group", "Empty one"]

        log_in(bob, "bob")
        bob_token = token_of(bob, "/account/taste")
        answer = bob.post("/account/taste", data={"csrftoken": bob_token, "taste": download.text}, headers={"accept": "application/json"})
        assert answer.status_code == 200 and answer.json()["imported"]["papers"] == 4 and answer.json()["queued"] == []
        mine = bob.get("/account/taste.json").json()
        assert {k: v for k, v in mine.items() if k not in ("member", "exported_at")} == {
            k: v for k, v in doc.items() if k not in ("member", "exported_at")}
        # Dismissed on import: hidden from bob's feed too.
        assert "1 paper you marked not interested is hidden here" in bob.get("/date/2024-10-25").text

        # A bad file: 400, one line, nothing of it kept.
        before = bob.get("/account/taste.json").json()
        broken = {**doc, "collections": doc["collections"] + [{"name": "New", "papers": ["2410.17243"]}], "dismissed": ["junk"]}
        r = bob.post("/account/taste", data={"csrftoken": bob_token, "taste": json.dumps(broken)}, headers={"accept": "application/json"})
        assert r.status_code == 400 and r.json() == {"error": "dismissed[0]: 'junk' is not an arXiv id"}
        r = bob.post("/account/taste", data={"csrftoken": bob_token, "taste": "{not json"})
        assert r.status_code == 400 and "not a JSON file" in r.text
        assert bob.get("/account/taste.json").json()["collections"] == before["collections"]
        # Too big for the form: refused before it is read.
        huge = bob.post("/account/taste", data={"csrftoken": bob_token, "taste": "x" * (fresh_site.max_body_kb * 1024 + 1)})
        assert huge.status_code == 413


def test_taste_on_the_command_line(two_sites, tmp_path):
    here, there = two_sites
    store = Store(here)
    try:
        merge_into(store, member_id(store, "alice"), MARKS)
    finally:
        store.dispose()
    other = Store(there)
    member_id(other, "bob")
    other.dispose()

    def dp(settings, *args, stdin=None):
        return subprocess.run([sys.executable, "-m", "dailypapers", *args], env=env_for(settings), capture_output=True,
                              text=True, timeout=300, input=stdin)

    file = tmp_path / "alice.json"
    done = dp(here, "users", "taste-export", "alice", str(file))
    assert done.returncode == 0 and "3 collections, 3 papers, 3 follows" in done.stdout, done.stderr
    assert dp(here, "users", "taste-export", "alice").stdout.startswith("{")
    done = dp(there, "users", "taste-import", "bob", str(file))
    assert done.returncode == 0 and "4 papers" in done.stdout, done.stdout + done.stderr
    assert "queued" not in done.stdout  # the second instance lacks the absent paper too, but the file lists only stored ones
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**MARKS, "read": [{"paper": A, "at": "soon"}]}))
    refused = dp(there, "users", "taste-import", "bob", str(bad))
    assert refused.returncode != 0 and refused.stderr.strip().count("\n") == 0 and "not an ISO 8601 time" in refused.stderr
    missing = dp(there, "users", "taste-import", "nobody", str(file))
    assert missing.returncode != 0 and "no user nobody" in missing.stderr
    assert read_once(there, lambda s: len(follow_store.of_member(s, user_store.by_name(s, "bob")["id"]))) == 3
