"""The library (issue 15): collections, notes, tags and read marks in the store (both databases);
exports as BibTeX, RIS and CSL-JSON and imports of Zotero's exports of each (made here from papers
of the real corpus, tests/libraryhelp.py) and of plain id lists, round trips between members; papers
an import names that the store lacks, queued and put into the collection by the fetch-papers job
against recorded arXiv answers; public collections' pages, feeds and API; privacy (another
member's private collection, notes and tags never show); CSRF; the paper page's Cite box."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import bibtexparser
import pytest
from sqlalchemy import select

from dailypapers import citations
from dailypapers.store import library, notes, users
from dailypapers.store.engine import Store
from dailypapers.store.library import LibraryError
from dailypapers.store.schema import Paper
from libraryhelp import zotero_bibtex, zotero_csl, zotero_ris
from support import client_for, read_once, run_job
from webhelp import csrf_from, log_in, make_user, token_of

# --- the store -----------------------------------------------------------------------------------


def _paper(session, arxiv_id: str, title: str | None = None) -> int:
    row = dict(arxiv_id=arxiv_id, version=1, title=title or f"Paper {arxiv_id}", abstract="An abstract.",
               authors=[{"name": "Ada Lovelace"}], primary_category="cs.CL", categories=["cs.CL"], content_hash="x", source="test")
    return session.execute(Paper.__table__.insert().values(**row).returning(Paper.__table__.c.id)).scalar_one()


def test_collections_are_made_edited_ordered_and_deleted(store):
    with store.session() as session, session.begin():
        a, b = users.create(session, "ada", "x"), users.create(session, "bob", "x")
        ps = [_paper(session, f"2501.0000{i}") for i in range(1, 6)]
    with store.session() as session, session.begin():
        reading = library.create(session, a, "Reading group", "For *Friday*", is_public=True)
        theory = library.create(session, a, "Theory")
        with pytest.raises(LibraryError, match="already"):
            library.create(session, a, "reading  GROUP")
        with pytest.raises(LibraryError, match="name"):
            library.create(session, a, "   ")
        assert library.create(session, b, "Theory")  # names are per member
        names = [r.name for r in library.of_member(session, a)]
        assert names == ["Saved", "Reading group", "Theory"]
        assert library.add_many(session, reading, [ps[2], ps[0], ps[1], ps[0]], a) == 3
        assert library.add_many(session, reading, [ps[0], ps[1]], a) == 0  # idempotent: no signal either
        signals = users.signals(session, a)
        assert library.move_paper(session, reading, a, ps[1], "top") is True
        assert library.move_paper(session, reading, a, ps[1], "up") is False
        assert library.move_paper(session, reading, a, ps[2], "down") is True
        cards, total = library.papers_of(session, reading, limit=2)
        assert total == 3 and [c.arxiv_id for c in cards] == ["2501.00002", "2501.00001"]
        assert [c.arxiv_id for c in library.papers_of(session, reading, limit=2, offset=2)[0]] == ["2501.00003"]
        library.reorder_papers(session, reading, a, [ps[2], 999_999])
        assert library.paper_order(session, reading) == [ps[2], ps[1], ps[0]]
        assert library.move_collection(session, a, theory, -1) is True
        assert [r.name for r in library.of_member(session, a)] == ["Saved", "Theory", "Reading group"]
        assert library.edit(session, theory, a, name="Theory of mind", description="ToM", is_public=True) is True
        assert library.edit(session, theory, a, name="Theory of mind") is False
        saved = library.default_collection(session, a)
        with pytest.raises(LibraryError, match="keeps its name"):
            library.edit(session, saved, a, name="Mine")
        with pytest.raises(LibraryError, match="cannot be deleted"):
            library.delete_collection(session, saved, a)
        with pytest.raises(LibraryError, match="already"):
            library.edit(session, theory, a, name="Reading group")
        assert users.signals(session, a) == signals  # moves and edits are no signals
        assert library.delete_collection(session, reading, a) is True
        assert users.signals(session, a) == signals + 1  # it held papers
    with store.session() as session:
        rows = library.of_member(session, a)
        assert [(r.name, r.papers, r.is_public) for r in rows] == [("Saved", 0, False), ("Theory of mind", 0, True)]
        assert library.get(session, reading) is None
        # Privacy: another member sees a public collection, never a private one (as if missing).
        assert library.visible(session, theory, b) is not None and library.visible(session, theory, None) is not None
        assert library.visible(session, saved, b) is None and library.visible(session, saved, None) is None
        assert library.visible(session, saved, a) is not None
        assert library.owned(session, theory, b) is None


def test_notes_tags_and_read_marks(store):
    with store.session() as session, session.begin():
        a, b = users.create(session, "ada", "x"), users.create(session, "bob", "x")
        p1, p2 = _paper(session, "2501.00001"), _paper(session, "2501.00002")
    with store.session() as session, session.begin():
        assert notes.set_note(session, a, p1, "  Read **section 3**  ") is True
        assert notes.set_note(session, a, p1, "Read **section 3**") is False
        assert notes.add_tag(session, a, p1, "  Graph   Neural ") is True
        assert notes.add_tag(session, a, p1, "graph neural") is False
        assert notes.add_tag(session, a, p2, "GRAPH neural") is True
        assert notes.add_tag(session, a, p2, "to-read") is True
        with pytest.raises(LibraryError):
            notes.add_tag(session, a, p2, " , ")
        assert notes.mark_read(session, a, p2, at=dt.datetime(2026, 1, 2)) is True
        assert notes.mark_read(session, a, p2) is False
        assert notes.mark_read(session, a, p1, at=dt.datetime(2026, 1, 3)) is True
        assert users.signals(session, a) == 5  # three tags, two read marks; notes are no signals
    with store.session() as session:
        assert notes.of_paper(session, a, p1) == {"note": "Read **section 3**", "read_at": dt.datetime(2026, 1, 3), "tags": ["graph neural"]}
        assert notes.of_paper(session, b, p1) == {"note": None, "read_at": None, "tags": []}
        assert notes.tags_of_member(session, a) == [("graph neural", 2), ("to-read", 1)]
        assert notes.tags_of_member(session, b) == []
        assert [c.arxiv_id for c in notes.tagged(session, a, "Graph Neural")[0]] == ["2501.00002", "2501.00001"]
        assert notes.tagged(session, b, "graph neural") == ([], 0)
        read, total = notes.read_papers(session, a)
        assert total == 2 and [c.arxiv_id for c, _ in read] == ["2501.00001", "2501.00002"]
        assert notes.read_among(session, a, [p1, p2]) == {p1, p2} and notes.read_among(session, b, [p1, p2]) == set()
    with store.session() as session, session.begin():
        assert notes.set_note(session, a, p1, "") is True
        assert notes.mark_read(session, a, p1, False) is True
        assert notes.remove_tag(session, a, p1, "Graph Neural") is True
        assert notes.remove_tag(session, a, p1, "graph neural") is False
    with store.session() as session:
        assert notes.of_paper(session, a, p1) == {"note": None, "read_at": None, "tags": []}
        assert notes.noted_papers(session, a) == {}


# --- citations, without the store ---------------------------------------------------------------

LATEX_TITLE = r"$\mathcal{O}(n^{3/2})$ bounds & 50% faster \textit{k}-NN_search for {BERT}: Schr\"odinger's ~cat #1 {unbalanced"


def test_cite_bibtex_of_a_latex_heavy_title_parses_back():
    paper = citations.Cited("2410.17243", LATEX_TITLE, ("Ludwig van Beethoven", "Martin Luther King Jr.", "Ivana Išgum", "Plato"),
                            dt.date(2024, 10, 22), "cs.CL", "Costs 5% & more_of it.")
    text = citations.to_bibtex([paper, paper])
    parsed = bibtexparser.parse_string(text)
    assert not parsed.failed_blocks and len(parsed.entries) == 2
    first, second = parsed.entries
    assert first.key == "vanbeethoven2024bounds" and second.key == "vanbeethoven2024boundsa"
    assert first.entry_type == "misc"
    fields = {k: f.value for k, f in first.fields_dict.items()}
    assert fields["eprint"] == "2410.17243" and fields["archivePrefix"] == "arXiv" and fields["primaryClass"] == "cs.CL"
    assert fields["doi"] == "10.48550/arXiv.2410.17243" and fields["url"] == "https://arxiv.org/abs/2410.17243"
    assert fields["author"] == "van Beethoven, Ludwig and King, Jr., Martin Luther and Išgum, Ivana and Plato"
    assert fields["month"] == "oct" and fields["year"] == "2024"
    # Specials escaped outside math, math kept, the unbalanced brace escaped: the value is one group.
    assert r"\& 50\% faster" in fields["title"] and r"NN\_search" in fields["title"] and r"\#1" in fields["title"]
    assert fields["title"].startswith(r"$\mathcal{O}(n^{3/2})$") and r"\{unbalanced" in fields["title"]
    # Read back by the importer, the title folds to the original's key.
    entry = citations.read_bibtex(text)[0]
    assert entry.arxiv_id == "2410.17243"
    assert citations.title_key(entry.title) == citations.title_key(LATEX_TITLE)


def test_reading_ids_urls_and_bad_files():
    kind, entries = citations.read("hep-th/9901001\nhttps://arxiv.org/abs/2410.17243v2, arXiv:1706.03762\nhttp://arxiv.org/pdf/math.GT/0309136v1.pdf\nnonsense")
    assert kind == "ids"
    assert [e.arxiv_id for e in entries] == ["hep-th/9901001", "2410.17243", "1706.03762", "math.GT/0309136", None]
    assert entries[-1].problem == "not an arXiv id or arXiv URL"
    for bad, says in [
        ("@misc{x, title = {Unclosed}\n@article{y, title={B}}", "BibTeX"),
        ("[{\"title\": 1", "CSL-JSON"),
        ("just some words", "not BibTeX, RIS"),
        ("{\"a\": 1}", "CSL-JSON"),
    ]:
        with pytest.raises(citations.CitationError, match=says):
            citations.read(bad)


# --- through the site ----------------------------------------------------------------------------


def corpus_papers(settings, n: int = 10) -> list:
    """n papers of the corpus the site loaded, with their full records (as an export needs)."""
    from dailypapers.store import papers as paper_store

    def read(session):
        ids = session.execute(select(Paper.arxiv_id).order_by(Paper.id).limit(n * 7)).scalars()
        return [paper_store.get(session, i) for i in list(ids)[::7][:n]]

    return read_once(settings, read)


def collection_of(settings, user: str, name: str) -> list[str]:
    def read(session):
        uid = users.by_name(session, user)["id"]
        cid = library.by_name(session, uid, name)
        return [c.arxiv_id for c in library.papers_of(session, cid, limit=None)[0]] if cid else None

    return read_once(settings, read)


def signals_of(settings, user: str) -> int:
    return read_once(settings, lambda s: users.by_name(s, user)["signals"])


def import_text(client, text: str, *, new_name: str = "", collection: str = "", filename: str | None = "export.bib"):
    token = token_of(client, "/library/import")
    if filename:
        return client.post("/library/import", data={"csrftoken": token, "new_name": new_name, "collection": collection},
                           files={"file": (filename, text.encode(), "application/octet-stream")})
    return client.post("/library/import", data={"csrftoken": token, "new_name": new_name, "collection": collection, "text": text})


def cid_of(response) -> int:
    return int(re.search(r'href="/collections/(\d+)"', response.text).group(1))


def post(client, path: str, data: dict, page: str = "/library"):
    return client.post(path, data={"csrftoken": token_of(client, page), **data})


@pytest.fixture
def client(fresh_site):
    with client_for(fresh_site) as c:
        yield c


def test_zotero_exports_import_and_round_trip_between_members(fresh_site, client):
    """Zotero's BibTeX, RIS and CSL-JSON of ten corpus papers each import into a new collection in
    the file's order (arXiv ids read from the URL, DOI, note or number), with an entry matched by
    title alone and one that cannot be placed; importing again adds nothing. Each collection's own
    export (all three formats) imported by another member gives the same papers in the same order."""
    papers = corpus_papers(fresh_site)
    assert len(papers) == 10
    order = [p.arxiv_id for p in papers]
    extra_bib = (
        "\n@article{someone_published_2024,\n\ttitle = {" + papers[0].title.replace("&", "\\&") + "},\n\tjournal = {Some Journal},\n"
        "\tauthor = {Someone, A.},\n\tyear = {2024},\n}\n"
        "\n@book{knuth_art_1968,\n\ttitle = {The {Art} of {Computer} {Programming}},\n\tpublisher = {Addison-Wesley},\n"
        "\tauthor = {Knuth, Donald E.},\n\tyear = {1968},\n}\n"
    )
    make_user(fresh_site, "alice")
    make_user(fresh_site, "bob")
    log_in(client, "alice")
    files = {
        "Zotero BibTeX": (zotero_bibtex(papers[::-1], extra_bib), "My Library.bib"),
        "Zotero RIS": (zotero_ris(papers, "TY  - JOUR\nTI  - Nothing Like Any Paper Here Either\nAU  - Doe, Jane\nPY  - 2020\nER  - \n\n"),
                       "My Library.ris"),
        "Zotero CSL": (zotero_csl(papers, [{"id": "x", "type": "book", "title": "Nothing Like Any Paper Here"}]), "My Library.json"),
    }
    before = signals_of(fresh_site, "alice")
    for name, (text, filename) in files.items():
        r = import_text(client, text, new_name=name, filename=filename)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "private, no-store"
        expected = order[::-1] if "BibTeX" in name else order
        assert collection_of(fresh_site, "alice", name) == expected
        assert "could not be placed" in r.text
        assert "no arXiv id and no title match" in r.text
        again = import_text(client, text, new_name=name, filename=filename)
        assert again.status_code == 200 and "0 added" in again.text
        assert collection_of(fresh_site, "alice", name) == expected
    assert signals_of(fresh_site, "alice") == before + 3  # one per import that added papers
    # An entry without any id is matched by its exact title (folded: case, LaTeX, punctuation).
    r = import_text(client, extra_bib.replace(papers[0].title[:12], papers[0].title[:12].upper()), new_name="By title")
    assert r.status_code == 200 and collection_of(fresh_site, "alice", "By title") == [order[0]]
    cids = {name: read_once(fresh_site, lambda s, n=name: library.by_name(s, users.by_name(s, "alice")["id"], n)) for name in files}

    # Round trips: alice's exports, imported by bob, give the same papers in the same order.
    with client_for(fresh_site) as bob:
        log_in(bob, "bob")
        for kind in ("bib", "ris", "json"):
            exported = client.get(f"/collections/{cids['Zotero RIS']}/export.{kind}")
            assert exported.status_code == 200 and exported.headers["content-type"].startswith(citations.MEDIA_TYPES[kind].split(";")[0])
            assert "attachment" in exported.headers["content-disposition"]
            assert exported.headers["cache-control"] == "private, no-store"
            r = import_text(bob, exported.text, new_name=f"From alice {kind}", filename=f"x.{kind}")
            assert r.status_code == 200, r.text
            assert collection_of(fresh_site, "bob", f"From alice {kind}") == order
        # The exports carry what reference managers read: the arXiv fields, DOI, URL, "Last, First" names.
        bib = bibtexparser.parse_string(client.get(f"/collections/{cids['Zotero RIS']}/export.bib").text)
        assert not bib.failed_blocks and len(bib.entries) == 10
        e = bib.entries[0]
        assert e["eprint"] == order[0] and e["archivePrefix"] == "arXiv" and e["doi"] == f"10.48550/arXiv.{order[0]}"
        first = papers[0].authors[0]["name"]
        assert e["author"].split(" and ")[0] == ", ".join(x for x in citations.split_name(first) if x)
        csl = json.loads(client.get(f"/collections/{cids['Zotero RIS']}/export.json").text)
        assert csl[0]["type"] == "article" and csl[0]["number"] == f"arXiv:{order[0]}" and csl[0]["URL"].endswith(order[0])
        # Bob cannot read alice's private collection's export (404, as a missing one).
        assert bob.get(f"/collections/{cids['Zotero RIS']}/export.bib").status_code == 404
        # The whole library, as one file (each paper once).
        whole = client.get("/library/export.bib")
        assert whole.status_code == 200 and len(bibtexparser.parse_string(whole.text).entries) == 10


def test_bad_imports_change_nothing(fresh_site, client):
    make_user(fresh_site, "alice")
    log_in(client, "alice")
    papers = corpus_papers(fresh_site, 3)
    broken = zotero_bibtex(papers) + "\n@misc{broken,\n\ttitle = {Unclosed,\n"
    for text in (broken, "[{\"title\": \"x\"", "neither a paper nor an id"):
        r = import_text(client, text, new_name="Broken")
        assert r.status_code == 400 and "Nothing was imported" in r.text
        assert r.text.count('role="alert"') == 1
    assert collection_of(fresh_site, "alice", "Broken") is None  # not even the new collection
    r = import_text(client, "", filename=None)
    assert r.status_code == 400 and "choose a file or paste" in r.text
    # Not UTF-8.
    token = token_of(client, "/library/import")
    r = client.post("/library/import", data={"csrftoken": token}, files={"file": ("x.bib", "@misc{x, title={Ü}}".encode("utf-16"), "text/plain")})
    assert r.status_code == 400 and "UTF-8" in r.text
    # CSRF: the multipart form without the token, with a forged one, and the pasted form without.
    files = {"file": ("x.txt", papers[0].arxiv_id.encode(), "text/plain")}
    assert client.post("/library/import", data={"new_name": "Forged"}, files=files).status_code == 403
    assert client.post("/library/import", data={"csrftoken": "forged", "new_name": "Forged"}, files=files).status_code == 403
    assert client.post("/library/import", data={"text": papers[0].arxiv_id, "new_name": "Forged"}).status_code == 403
    assert collection_of(fresh_site, "alice", "Forged") is None
    # A pasted list works (and a visitor is sent to log in).
    r = import_text(client, "\n".join(p.arxiv_id for p in papers), new_name="Pasted", filename=None)
    assert r.status_code == 200 and collection_of(fresh_site, "alice", "Pasted") == [p.arxiv_id for p in papers]
    with client_for(fresh_site) as visitor:
        assert visitor.get("/library/import").status_code == 303


def test_imported_papers_the_store_lacks_are_fetched_into_the_collection(fresh_site, client):
    """Entries not in the store are queued (idempotently) and shown as waiting; the fetch-papers
    job, against recorded arXiv answers, stores them and puts them into the collection (a signal
    each). While arXiv cannot be reached they stay queued."""
    from test_fetch_requests import FakeArxiv

    make_user(fresh_site, "alice")
    log_in(client, "alice")
    here = corpus_papers(fresh_site, 2)
    text = "\n".join([here[0].arxiv_id, "https://arxiv.org/abs/1707.08567v1", "astro-ph/0601001", here[1].arxiv_id, "2912.99999"])
    r = import_text(client, text, new_name="Mixed", filename="ids.txt")
    assert r.status_code == 200
    assert "1707.08567" in r.text and "astro-ph/0601001" in r.text and "arXiv has issued no id 2912.99999" in r.text
    assert collection_of(fresh_site, "alice", "Mixed") == [here[0].arxiv_id, here[1].arxiv_id]
    again = import_text(client, text, new_name="Mixed", filename="ids.txt")
    assert "queued already" in again.text
    cid = cid_of(r)
    page = client.get(f"/collections/{cid}")
    assert "waiting to be fetched from arXiv" in page.text and "1707.08567" in page.text
    assert "Waiting for arXiv" in client.get("/library").text
    # arXiv away: the requests wait.
    offline = fresh_site.model_copy(update={"arxiv_api_url": "http://127.0.0.1:9/api/query", "http_timeout": 2.0})
    from dailypapers.errors import SourceError

    with pytest.raises(SourceError, match="2 waiting"):
        run_job(offline, "fetch-papers")
    assert collection_of(fresh_site, "alice", "Mixed") == [here[0].arxiv_id, here[1].arxiv_id]
    before = signals_of(fresh_site, "alice")
    from dailypapers.store import fetches

    def reset(session):  # the next try at once, not after the backoff
        from sqlalchemy import update

        from dailypapers.store.schema import FetchRequest

        session.execute(update(FetchRequest.__table__).values(next_attempt_at=dt.datetime(2000, 1, 1)))

    store = Store(fresh_site)
    with store.session() as session, session.begin():
        reset(session)
    store.dispose()
    with FakeArxiv() as arxiv:
        online = fresh_site.model_copy(update={"arxiv_api_url": f"{arxiv.upstream.url}/api/query"})
        summary = run_job(online, "fetch-papers")
    assert "2 imported into collections" in summary
    assert collection_of(fresh_site, "alice", "Mixed") == [here[0].arxiv_id, here[1].arxiv_id, "1707.08567", "astro-ph/0601001"]
    assert signals_of(fresh_site, "alice") == before + 2
    assert read_once(fresh_site, fetches.open_imports, cid) == []
    assert "waiting to be fetched" not in client.get(f"/collections/{cid}").text


def test_collection_pages_forms_and_privacy(fresh_site, client):
    """The owner makes, edits, reorders and deletes collections with forms (POST + CSRF); a public
    collection has a page, a feed and API answers for anyone, a private one answers 404 to everyone
    else, exactly like a missing one, and nothing of it (name, notes, tags) leaks into others' pages."""
    make_user(fresh_site, "alice")
    make_user(fresh_site, "bob")
    log_in(client, "alice")
    p1, p2, p3 = corpus_papers(fresh_site, 3)
    assert client.get("/library").status_code == 200
    r = post(client, "/collections", {"name": "Secret <script>alert(1)</script> plans", "description": "My *hidden* notes"})
    assert r.status_code == 303
    secret = int(r.headers["location"].rsplit("/", 1)[1])
    r = post(client, "/collections", {"name": "Shared reading", "description": "Papers for **Friday** <img src=x onerror=alert(1)>", "public": "1"})
    shared = int(r.headers["location"].rsplit("/", 1)[1])
    assert post(client, "/collections", {"name": "shared READING"}).status_code == 400
    for pid, cid in ((p1, shared), (p2, shared), (p3, shared), (p1, secret)):
        r = post(client, f"/papers/{pid.arxiv_id}/collections", {"collection": str(cid), "next": "/library"}, page=f"/papers/{pid.arxiv_id}")
        assert r.status_code == 303 and r.headers["location"] == "/library"
    # Add to a new collection from the paper page; JSON for scripts.
    r = client.post(f"/papers/{p2.arxiv_id}/collections", data={"new_name": "Fresh"},
                    headers={"accept": "application/json", "x-csrftoken": token_of(client, "/library")})
    assert r.status_code == 200 and r.json()["added"] is True and r.json()["name"] == "Fresh"
    post(client, f"/papers/{p1.arxiv_id}/note", {"note": "Private thought: **weak baseline**"}, page=f"/papers/{p1.arxiv_id}")
    post(client, f"/papers/{p1.arxiv_id}/tags", {"tag": "Secret-Tag, method"}, page=f"/papers/{p1.arxiv_id}")
    post(client, f"/papers/{p1.arxiv_id}/read", {"read": "1"}, page=f"/papers/{p1.arxiv_id}")
    own_page = client.get(f"/papers/{p1.arxiv_id}")
    assert "<strong>weak baseline</strong>" in own_page.text and "secret-tag" in own_page.text and "mark unread" in own_page.text
    assert own_page.headers["cache-control"].startswith("private")
    assert 'id="cite-bibtex"' in own_page.text
    # Reorder: p3 to the top; collections: "Fresh" up.
    post(client, f"/collections/{shared}/papers", {"action": "move", "arxiv_id": p3.arxiv_id, "to": "top"})
    assert collection_of(fresh_site, "alice", "Shared reading") == [p3.arxiv_id, p1.arxiv_id, p2.arxiv_id]
    post(client, f"/collections/{shared}/papers", {"action": "order", "order": f"{p2.arxiv_id}, {p1.arxiv_id}"})
    assert collection_of(fresh_site, "alice", "Shared reading") == [p2.arxiv_id, p1.arxiv_id, p3.arxiv_id]
    post(client, f"/collections/{shared}/papers", {"action": "remove", "arxiv_id": p1.arxiv_id})
    assert collection_of(fresh_site, "alice", "Shared reading") == [p2.arxiv_id, p3.arxiv_id]
    fresh = read_once(fresh_site, lambda s: library.by_name(s, users.by_name(s, "alice")["id"], "Fresh"))
    post(client, f"/collections/{fresh}/move", {"to": "up"})
    names = read_once(fresh_site, lambda s: [r.name for r in library.of_member(s, users.by_name(s, "alice")["id"])])
    assert names == ["Saved", "Secret <script>alert(1)</script> plans", "Fresh", "Shared reading"]
    # The owner's pages: escaped, personal.
    mine = client.get("/library")
    assert "<script>alert(1)</script>" not in mine.text and "Secret &lt;script&gt;" in mine.text
    assert mine.headers["cache-control"] == "private, no-store"
    page = client.get(f"/collections/{shared}")
    assert "<strong>Friday</strong>" in page.text and "<img src=x" not in page.text
    # The default collection cannot be deleted; another can.
    saved = read_once(fresh_site, lambda s: library.default_collection(s, users.by_name(s, "alice")["id"]))
    assert post(client, f"/collections/{saved}/delete", {}).status_code == 400
    assert post(client, f"/collections/{fresh}/delete", {}).status_code == 303
    assert client.get(f"/collections/{fresh}").status_code == 404
    # CSRF refused on every change.
    for path, data in [("/collections", {"name": "X"}), (f"/collections/{shared}/edit", {"name": "Y"}),
                       (f"/collections/{shared}/delete", {}), (f"/papers/{p2.arxiv_id}/note", {"note": "x"}),
                       (f"/papers/{p2.arxiv_id}/tags", {"tag": "x"}), (f"/papers/{p2.arxiv_id}/read", {"read": "1"}),
                       (f"/papers/{p2.arxiv_id}/collections", {"collection": str(shared)})]:
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrftoken": "forged"}).status_code == 403, path

    # Others: bob, and an anonymous visitor.
    missing = 999_999
    with client_for(fresh_site) as bob, client_for(fresh_site) as visitor:
        log_in(bob, "bob")
        for c in (bob, visitor):
            for path in (f"/collections/{secret}", f"/collections/{secret}.atom", f"/collections/{secret}/export.ris",
                         f"/api/collections/{secret}"):
                other = path.replace(f"/{secret}", f"/{missing}")
                hidden, absent = c.get(path), c.get(other)
                assert hidden.status_code == absent.status_code == 404, path

                def same(text, p):  # the answer, but for the address asked for (the log-in link's)
                    return text.replace(p, "PATH").replace(quote(p, safe=""), "PATH")

                assert same(hidden.text, path) == same(absent.text, other), path
                assert "Secret" not in hidden.text
            public = c.get(f"/collections/{shared}")
            assert public.status_code == 200 and p2.arxiv_id in public.text
            assert f'action="/collections/{shared}/papers"' not in public.text and "Edit" not in public.text
            feed = c.get(f"/collections/{shared}.atom")
            assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
            assert feed.text.count("<entry>") == 2 and "Shared reading" in feed.text
            api = c.get(f"/api/collections/{shared}")
            assert api.status_code == 200 and [x["id"] for x in api.json()["papers"]] == [p2.arxiv_id, p3.arxiv_id]
            assert api.json()["owner"] == "alice" and api.json()["feed"].endswith(f"/collections/{shared}.atom")
            paper_page = c.get(f"/papers/{p1.arxiv_id}")
            for leak in ("weak baseline", "secret-tag", "Secret", "mark unread"):
                assert leak not in paper_page.text, leak
            assert c.get("/api/me/library").status_code == (200 if c is bob else 401)
        bobs = bob.get("/api/me/library").json()
        assert bobs["user"] == "bob" and [x["name"] for x in bobs["collections"]] == ["Saved"] and bobs["notes"] == []
        # Bob cannot change alice's collections (404, as for a missing one).
        token = token_of(bob, "/library")
        for path, data in [(f"/collections/{shared}/edit", {"name": "Mine now"}), (f"/collections/{shared}/delete", {}),
                           (f"/collections/{shared}/papers", {"action": "remove", "arxiv_id": p2.arxiv_id}),
                           (f"/papers/{p2.arxiv_id}/collections", {"collection": str(shared)})]:
            assert bob.post(path, data={**data, "csrftoken": token}).status_code == 404, path
        assert bob.get("/library").status_code == 200 and "Shared reading" not in bob.get("/library").text
    assert collection_of(fresh_site, "alice", "Shared reading") == [p2.arxiv_id, p3.arxiv_id]
    # Alice's own API answer holds everything she keeps; made private, the collection disappears for others.
    mine = client.get("/api/me/library")
    assert mine.headers["cache-control"] == "private, no-store"
    body = mine.json()
    assert [c["name"] for c in body["collections"]][0] == "Saved"
    assert {"id": p1.arxiv_id, "note": "Private thought: **weak baseline**"} in body["notes"]
    assert {t["tag"] for t in body["tags"]} == {"secret-tag", "method"} and body["read"][0]["id"] == p1.arxiv_id
    post(client, f"/collections/{shared}/edit", {"name": "Shared reading", "description": "", "visibility": "1"})
    with client_for(fresh_site) as visitor:
        assert visitor.get(f"/collections/{shared}").status_code == 404
        assert visitor.get(f"/collections/{shared}.atom").status_code == 404


def test_library_changes_are_rate_limited(fresh_site):
    make_user(fresh_site, "alice")
    limited = fresh_site.model_copy(update={"rate_limit_library": "3/minute"})
    with client_for(limited) as c:
        log_in(c, "alice")
        (p,) = corpus_papers(fresh_site, 1)
        token = token_of(c, "/library")
        codes = [c.post(f"/papers/{p.arxiv_id}/tags", data={"csrftoken": token, "tag": f"t{i}"}).status_code for i in range(4)]
        assert codes == [303, 303, 303, 429]
        r = c.post("/library/import", data={"csrftoken": token, "text": p.arxiv_id})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_personal_api_by_token(fresh_site, client):
    from dailypapers.store import tokens

    make_user(fresh_site, "alice")
    log_in(client, "alice")
    (p1,) = corpus_papers(fresh_site, 1)
    post(client, f"/papers/{p1.arxiv_id}/collections", {"collection": "saved"}, page=f"/papers/{p1.arxiv_id}")
    store = Store(fresh_site)
    with store.session() as session, session.begin():
        uid = users.by_name(session, "alice")["id"]
        _, secret = tokens.create(session, uid, "api", "script")
    store.dispose()
    with client_for(fresh_site) as script:
        r = script.get("/api/me/library", headers={"authorization": f"Bearer {secret}"})
        assert r.status_code == 200 and r.json()["collections"][0]["papers"] == [p1.arxiv_id]
        assert r.headers["cache-control"] == "private, no-store"
        assert script.get("/api/me/library", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_cite_box_and_downloads(fresh_site, client):
    (p,) = corpus_papers(fresh_site, 1)
    page = client.get(f"/papers/{p.arxiv_id}")
    assert page.status_code == 200
    block = re.search(r'<pre class="bibtex" id="cite-bibtex">(.*?)</pre>', page.text, re.S).group(1)
    import html

    parsed = bibtexparser.parse_string(html.unescape(block))
    assert not parsed.failed_blocks and parsed.entries[0]["eprint"] == p.arxiv_id
    assert "<details" in page.text and 'class="button small copy-button" data-copy="cite-bibtex" hidden' in page.text
    for kind in ("bib", "ris", "json"):
        r = client.get(f"/papers/{p.arxiv_id}/cite.{kind}")
        assert r.status_code == 200 and p.arxiv_id in r.text
    assert client.get(f"/papers/{p.arxiv_id}/cite.doc").status_code == 404
    assert client.get("/library").status_code == 303  # a visitor is sent to log in
