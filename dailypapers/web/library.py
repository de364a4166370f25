"""A member's library (issue 15): collections ("Saved" and their own; ordered, described, public or
private), private notes, tags and read marks, exports (BibTeX, RIS, CSL-JSON), imports, and the
public side of a public collection (its page, Atom feed and exports).

Everything here is personal unless a collection is public: another member's private collection
answers 404 exactly as a missing one, and personal answers are `Cache-Control: private, no-store`
(never through the shared page cache). Every change is a POST with the CSRF token (an import's
file upload checks its token in the handler: security.check_form_csrf), rate limited per member
(DAILYPAPERS_RATE_LIMIT_LIBRARY), and answers 303 back to `next` without JavaScript, or JSON for
scripts (Accept: application/json)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import __version__, citations
from ..arxiv import could_exist, split_arxiv_id
from ..errors import InvalidRecord, NotFoundError
from ..store import fetches
from ..store import library as lib
from ..store import notes as note_store
from ..store import papers as paper_store
from ..store.library import LibraryError
from . import feedxml
from .auth import current_user, login_redirect, safe_next
from .limits import IMPORT_MAX_BYTES
from .markdown import render_comment
from .paging import page_number
from .security import check_form_csrf
from .site import site_of
from .views import render, wants_json

PAGE_SIZE = 50
FEED_SIZE = 100
IMPORT_COST = 10  # an import counts this many library changes against the rate limit
PERSONAL = "private, no-store"


# --- helpers ------------------------------------------------------------------------------------


def _personal(response: Response) -> Response:
    response.headers["Cache-Control"] = PERSONAL
    return response


def _count_change(request: Request, user: dict, cost: int = 1) -> None:
    site = site_of(request)
    site.limiter.hit(site.settings.rate_limit_library, f"library:{user['id']}", what="library changes", cost=cost)


def _collection_id(request: Request) -> int:
    raw = request.path_params["collection_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError("there is no such collection")
    return int(raw)


def _paper_id(site, raw: str) -> tuple[str, int]:
    arxiv_id = _bare(raw)
    if arxiv_id is None:
        raise NotFoundError(f"{raw[:100]!r} is not an arXiv id")
    with site.store.session() as session:
        found = paper_store.existing(session, [arxiv_id])
    if arxiv_id not in found:
        raise NotFoundError(f"no paper {arxiv_id} here")
    return arxiv_id, found[arxiv_id][0]


def _checked(form, name: str) -> bool:
    return str(form.get(name) or "").lower() in ("1", "on", "true", "yes", "public")


def _text(form, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _done(request: Request, form, default: str, payload: dict) -> Response:
    if wants_json(request):
        return _personal(JSONResponse(payload))
    return RedirectResponse(safe_next(form.get("next") if form else None, default), status_code=303)


def change(handler):
    """A library change's POST handler, called as handler(request, user, form) for a signed-in
    member and counted against their rate limit; a visitor gets the log-in page (401 JSON for
    scripts)."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            if wants_json(request):
                return JSONResponse({"error": "log in to keep a library"}, status_code=401)
            return login_redirect(request)
        form = await request.form()
        _count_change(request, user)
        return await handler(request, user, form)

    return checked


def shown(session, collection_id: int, viewer: dict | None) -> lib.CollectionRow:
    """The collection if the viewer may see it, else NotFoundError: the same for another member's
    private collection as for a missing one."""
    row = lib.visible(session, collection_id, viewer["id"] if viewer else None)
    if row is None:
        raise NotFoundError("there is no such collection")
    return row


def _write(site, fn):
    """Run fn(session) in one transaction (in a worker thread)."""

    def work():
        with site.store.session() as session, session.begin():
            return fn(session)

    return run_in_threadpool(work)


# --- the library's pages ------------------------------------------------------------------------


async def library_page(request: Request) -> Response:
    """GET /library: the member's collections ("Saved" first), tags, and recently read papers."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)

    def load():
        with site.store.session() as session, session.begin():
            lib.default_collection(session, user["id"])
            rows = lib.of_member(session, user["id"])
            tags = note_store.tags_of_member(session, user["id"])
            read, read_total = note_store.read_papers(session, user["id"], limit=10)
            queued = fetches.imports_of_member(session, user["id"], limit=50)
        return rows, tags, read, read_total, queued

    rows, tags, read, read_total, queued = await run_in_threadpool(load)
    names = {r.id: r.name for r in rows}
    return _personal(
        render(request, "library.html", collections=rows, tags=tags, read=read, read_total=read_total,
               queued=[dict(q, collection=names.get(q["collection_id"])) for q in queued], formats=citations.FORMATS)
    )


async def collection_page(request: Request) -> Response:
    """GET /collections/{id}: a collection's papers in its order, paged. Its owner sees the forms
    to edit, reorder and delete; anyone sees a public one; another member's private one is a 404."""
    cid = _collection_id(request)
    user = current_user(request)
    site = site_of(request)
    page = page_number(request)

    def load():
        with site.store.session() as session:
            row = shown(session, cid, user)
            cards, total = lib.papers_of(session, cid, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            own = user is not None and row.user_id == user["id"]
            tags = read = None
            if own:
                by_paper = note_store.tags_by_paper(session, user["id"])
                tags = {c.id: by_paper.get(c.id, []) for c in cards}
                read = note_store.read_among(session, user["id"], [c.id for c in cards])
            pending = fetches.open_imports(session, cid) if own else []
        return row, cards, total, own, tags, read, pending

    row, cards, total, own, tags, read, pending = await run_in_threadpool(load)
    response = render(
        request, "collection.html", c=row, papers=cards, total=total, own=own, tags=tags or {}, read=read or set(),
        pending=pending, page=page, pages=max(1, -(-total // PAGE_SIZE)), first=(page - 1) * PAGE_SIZE,
        formats=citations.FORMATS, description_html=render_comment(row.description) if row.description else "",
    )
    if own or not row.is_public or user is not None:
        return _personal(response)
    response.headers["Cache-Control"] = "no-cache"
    return response


async def tag_page(request: Request) -> Response:
    """GET /library/tags/{tag}: the member's papers carrying a tag."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    tag = request.path_params["tag"][:200]
    page = page_number(request)

    def load():
        with site.store.session() as session:
            return note_store.tagged(session, user["id"], tag, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)

    cards, total = await run_in_threadpool(load)
    if not total:
        raise NotFoundError(f"you have no papers tagged {tag!r}")
    return _personal(render(request, "library_list.html", heading=f"Tagged “{tag}”", papers=cards, total=total,
                            page=page, pages=max(1, -(-total // PAGE_SIZE)), read_at={}))


async def read_page(request: Request) -> Response:
    """GET /library/read: the papers the member marked read, last read first."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    page = page_number(request)

    def load():
        with site.store.session() as session:
            return note_store.read_papers(session, user["id"], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)

    rows, total = await run_in_threadpool(load)
    return _personal(render(request, "library_list.html", heading="Read", papers=[c for c, _ in rows], total=total,
                            page=page, pages=max(1, -(-total // PAGE_SIZE)), read_at={c.id: at for c, at in rows}))


# --- collections: make, edit, delete, reorder -----------------------------------------------------


@change
async def create_collection(request: Request, user: dict, form) -> Response:
    """POST /collections: name, description, public; 303 to the new collection (or `next`)."""
    site = site_of(request)
    name, description, public = _text(form, "name", 1000), _text(form, "description", 10_000), _checked(form, "public")
    cid = await _write(site, lambda s: lib.create(s, user["id"], name, description, is_public=public))
    return _done(request, form, f"/collections/{cid}", {"id": cid, "created": True})


@change
async def edit_collection(request: Request, user: dict, form) -> Response:
    """POST /collections/{id}/edit: rename, describe, make public or private."""
    cid = _collection_id(request)
    site = site_of(request)
    name = _text(form, "name", 1000) if "name" in form else None
    description = _text(form, "description", 10_000) if "description" in form else None
    public = _checked(form, "public") if "visibility" in form or "public" in form else None
    changed = await _write(site, lambda s: lib.edit(s, cid, user["id"], name=name, description=description, is_public=public))
    return _done(request, form, f"/collections/{cid}", {"id": cid, "changed": changed})


@change
async def delete_collection(request: Request, user: dict, form) -> Response:
    """POST /collections/{id}/delete: the collection and its list go (not "Saved")."""
    cid = _collection_id(request)
    await _write(site_of(request), lambda s: lib.delete_collection(s, cid, user["id"]))
    next_path = safe_next(form.get("next"), "/library")
    if next_path.startswith(f"/collections/{cid}"):
        next_path = "/library"
    if wants_json(request):
        return _personal(JSONResponse({"id": cid, "deleted": True}))
    return RedirectResponse(next_path, status_code=303)


@change
async def move_collection(request: Request, user: dict, form) -> Response:
    """POST /collections/{id}/move: to=up|down in the member's order of collections; or order=
    a comma-separated list of collection ids (a script's drag and drop)."""
    cid = _collection_id(request)
    order = _text(form, "order", 20_000)
    if order:
        ids = [int(x) for x in re.findall(r"\d{1,12}", order)]
        await _write(site_of(request), lambda s: lib.reorder_collections(s, user["id"], ids))
        moved = True
    else:
        step = {"up": -1, "down": 1}.get(_text(form, "to", 10))
        if step is None:
            raise LibraryError("move a collection up or down")

        def apply(session):
            lib.owned_or_missing(session, cid, user["id"])
            return lib.move_collection(session, user["id"], cid, step)

        moved = await _write(site_of(request), apply)
    return _done(request, form, "/library", {"id": cid, "moved": moved})


@change
async def collection_papers(request: Request, user: dict, form) -> Response:
    """POST /collections/{id}/papers: action=move (arxiv_id, to=up|down|top|bottom), remove
    (arxiv_id), or order (a comma- or space-separated list of arXiv ids: the new order)."""
    cid = _collection_id(request)
    site = site_of(request)
    action = _text(form, "action", 20)
    if action == "order":
        wanted = [i for i in (_bare(r) for r in re.split(r"[\s,]+", _text(form, "order", 100_000))) if i]

        def apply(session):
            found = lib.ids_by_arxiv(session, wanted)
            lib.reorder_papers(session, cid, user["id"], [found[i] for i in wanted if i in found])
            return True

        done = await _write(site, apply)
        return _done(request, form, f"/collections/{cid}", {"id": cid, "reordered": done})
    arxiv_id, pid = _paper_id(site, _text(form, "arxiv_id", 100))
    if action == "remove":
        def apply(session):
            lib.owned_or_missing(session, cid, user["id"])
            return lib.remove(session, cid, pid, user["id"])

        removed = await _write(site, apply)
        return _done(request, form, f"/collections/{cid}", {"id": cid, "paper": arxiv_id, "removed": removed})
    if action == "move":
        to = _text(form, "to", 10)
        moved = await _write(site, lambda s: lib.move_paper(s, cid, user["id"], pid, to))
        return _done(request, form, f"/collections/{cid}", {"id": cid, "paper": arxiv_id, "moved": moved})
    raise LibraryError("action is move, remove or order")


def _bare(raw: str) -> str | None:
    """The arXiv id without version, or None for anything else."""
    try:
        return split_arxiv_id(raw)[0]
    except InvalidRecord:
        return None


# --- a paper's own marks: collections, note, tags, read --------------------------------------------


@change
async def paper_collections(request: Request, user: dict, form) -> Response:
    """POST /papers/{id}/collections: add the paper to a collection (collection=ID, or new_name=
    a new one's name), or take it out (action=remove, collection=ID). JSON: {"id", "collection",
    "name", "added"|"removed"}."""
    site = site_of(request)
    arxiv_id, pid = _paper_id(site, request.path_params["arxiv_id"])
    action = _text(form, "action", 10) or "add"
    raw = _text(form, "collection", 20)
    new_name = _text(form, "new_name", 1000).strip()

    def apply(session):
        if new_name and action == "add":
            cid = lib.by_name(session, user["id"], new_name) or lib.create(session, user["id"], new_name)
        elif raw == "saved" or not raw:
            cid = lib.default_collection(session, user["id"])
        elif raw.isdigit():
            cid = int(raw)
        else:
            raise LibraryError("choose a collection or name a new one")
        row = lib.owned_or_missing(session, cid, user["id"])
        if action == "remove":
            return row, lib.remove(session, cid, pid, user["id"])
        if action != "add":
            raise LibraryError("action is add or remove")
        return row, lib.add(session, cid, pid, user["id"])

    row, changed = await _write(site, apply)
    key = "removed" if action == "remove" else "added"
    return _done(request, form, f"/papers/{arxiv_id}#library", {"id": arxiv_id, "collection": row.id, "name": row.name, key: changed})


@change
async def paper_note(request: Request, user: dict, form) -> Response:
    """POST /papers/{id}/note: note= (Markdown; empty clears it). Private to the member."""
    site = site_of(request)
    arxiv_id, pid = _paper_id(site, request.path_params["arxiv_id"])
    text = form.get("note") if isinstance(form.get("note"), str) else ""
    if len(text) > note_store.MAX_NOTE:
        raise LibraryError(f"a note has at most {note_store.MAX_NOTE:,} characters")
    changed = await _write(site, lambda s: note_store.set_note(s, user["id"], pid, text))
    return _done(request, form, f"/papers/{arxiv_id}#library", {"id": arxiv_id, "changed": changed, "note_html": render_comment(text.strip())})


@change
async def paper_tags(request: Request, user: dict, form) -> Response:
    """POST /papers/{id}/tags: tag= (several, comma-separated) with action=add (the default) or
    remove. Tags are folded to lower case."""
    site = site_of(request)
    arxiv_id, pid = _paper_id(site, request.path_params["arxiv_id"])
    action = _text(form, "action", 10) or "add"
    given = [t for t in _text(form, "tag", 2000).split(",") if t.strip()]
    if not given:
        raise LibraryError("name a tag")

    def apply(session):
        if action == "remove":
            return sum(note_store.remove_tag(session, user["id"], pid, t) for t in given)
        if action != "add":
            raise LibraryError("action is add or remove")
        return sum(note_store.add_tag(session, user["id"], pid, t) for t in given)

    changed = await _write(site, apply)

    def tags():
        with site.store.session() as session:
            return note_store.of_paper(session, user["id"], pid)["tags"]

    return _done(request, form, f"/papers/{arxiv_id}#library", {"id": arxiv_id, "changed": changed, "tags": await run_in_threadpool(tags)})


@change
async def paper_read(request: Request, user: dict, form) -> Response:
    """POST /papers/{id}/read: read=1 marks the paper read, read=0 unread."""
    site = site_of(request)
    arxiv_id, pid = _paper_id(site, request.path_params["arxiv_id"])
    read = _text(form, "read", 5) not in ("0", "false", "no", "")
    await _write(site, lambda s: note_store.mark_read(s, user["id"], pid, read))
    return _done(request, form, f"/papers/{arxiv_id}#library", {"id": arxiv_id, "read": read})


@dataclass
class PaperMarks:
    """What the paper page shows its reader of their own library: every collection (to choose
    from), those holding the paper, the note (as written and rendered), tags, when read."""

    collections: list = field(default_factory=list)
    holding: set = field(default_factory=set)
    note: str | None = None
    note_html: str = ""
    tags: list = field(default_factory=list)
    read_at: dt.datetime | None = None


def paper_marks(site, user: dict | None, paper_id: int) -> PaperMarks | None:
    """The signed-in reader's marks on a paper, for its page (None for a visitor)."""
    if user is None:
        return None
    with site.store.session() as session:
        rows = lib.of_member(session, user["id"])
        holding = lib.collections_with(session, user["id"], paper_id)
        mine = note_store.of_paper(session, user["id"], paper_id)
    return PaperMarks(rows, holding, mine["note"], render_comment(mine["note"]) if mine["note"] else "", mine["tags"], mine["read_at"])


def cite_bibtex(paper) -> str:
    """The paper's BibTeX, as its page's Cite button shows it."""
    return _cite(citations.cited(paper))


@functools.lru_cache(maxsize=4096)  # a millisecond each, for every render of a paper page
def _cite(cited: citations.Cited) -> str:
    return citations.to_bibtex([cited], abstracts=False).strip() + "\n"


async def cite(request: Request) -> Response:
    """GET /papers/{id}/cite.{bib,ris,json}: one paper's citation, to download."""
    raw = request.path_params["arxiv_id"]
    kind = request.path_params["fmt"]
    if kind not in citations.FORMATS:
        raise NotFoundError("citations are .bib, .ris or .json")
    site = site_of(request)
    arxiv_id, _ = _paper_id(site, raw)
    with site.store.session() as session:
        paper = paper_store.get(session, arxiv_id)
    body = citations.export(kind, [citations.cited(paper)])
    return _download(body, kind, arxiv_id.replace("/", "_"), public=True)


# --- exports ---------------------------------------------------------------------------------------


def _filename(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", citations._ascii(name)).strip("-.")[:80]
    return slug or "library"


def _download(body: str, kind: str, name: str, *, public: bool) -> Response:
    filename = f"{_filename(name)}.{kind}"
    headers = {
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-cache" if public else PERSONAL,
    }
    return Response(body.encode(), media_type=citations.MEDIA_TYPES[kind], headers=headers)


def _export_kind(request: Request) -> str:
    kind = request.path_params["fmt"]
    if kind not in citations.FORMATS:
        raise NotFoundError("exports are .bib, .ris or .json")
    return kind


async def export_collection(request: Request) -> Response:
    """GET /collections/{id}/export.{bib,ris,json}: the whole collection, in its order (its owner,
    or anyone for a public one)."""
    cid = _collection_id(request)
    kind = _export_kind(request)
    user = current_user(request)
    site = site_of(request)

    def load():
        with site.store.session() as session:
            row = shown(session, cid, user)
            return row, lib.full_papers(session, lib.paper_order(session, cid))

    row, papers = await run_in_threadpool(load)
    body = citations.export(kind, [citations.cited(p) for p in papers])
    return _download(body, kind, row.name, public=row.is_public and (user is None or user["id"] != row.user_id))


async def export_library(request: Request) -> Response:
    """GET /library/export.{bib,ris,json}: every paper in the member's collections, once."""
    kind = _export_kind(request)
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)

    def load():
        with site.store.session() as session:
            return lib.full_papers(session, lib.library_order(session, user["id"]))

    papers = await run_in_threadpool(load)
    return _download(citations.export(kind, [citations.cited(p) for p in papers]), kind, f"{user['username']}-library", public=False)


# --- the Atom feed of a public collection ----------------------------------------------------------


async def collection_feed(request: Request) -> Response:
    """GET /collections/{id}.atom: a public collection's papers, most recently added first. A
    private collection has no feed (404, for its owner too: feed readers hold no session)."""
    cid = _collection_id(request)
    site = site_of(request)

    def load():
        with site.store.session() as session:
            row = shown(session, cid, None)
            return row, lib.added_recently(session, cid, FEED_SIZE)

    row, added = await run_in_threadpool(load)
    base = site.base_url
    utc = lambda value: value.replace(tzinfo=dt.UTC) if value else None  # noqa: E731
    feed = feedxml.Feed(
        id=f"{base}/collections/{cid}",
        title=f"{site.settings.site_name}: {row.name}",
        subtitle=row.description or f"Papers {row.owner} collected.",
        self_url=f"{base}/collections/{cid}.atom",
        home_url=f"{base}/collections/{cid}",
        author=row.owner or site.settings.site_name,
        generator=("dailypapers", __version__),
        entries=[
            feedxml.Entry(
                url=f"{base}/papers/{p.arxiv_id}", title=p.title, summary=p.abstract, updated=utc(at),
                published=utc(p.published_at) or utc(at), authors=[a["name"] for a in (p.authors or [])[:20]],
                related=f"https://arxiv.org/abs/{p.arxiv_id}", categories=[(c, None) for c in p.categories or []],
            )
            for p, at in added
        ],
        empty_updated=utc(row.updated_at),
    )
    # Revalidated on every read: a collection made private leaves shared caches at once.
    return Response(feedxml.atom(feed), media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": "no-cache"})


# --- imports ---------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: the papers placed (in the file's order), those queued to be fetched
    from arXiv, and the entries it could not place, each with the reason."""

    kind: str
    collection_id: int
    collection: str
    matched: list = field(default_factory=list)  # (entry, arxiv_id, title, added: bool)
    queued: list = field(default_factory=list)  # (entry, arxiv_id, newly queued: bool)
    unplaced: list = field(default_factory=list)  # (entry, reason)

    @property
    def added(self) -> int:
        return sum(1 for *_, added in self.matched if added)


async def import_form(request: Request) -> Response:
    """GET /library/import: upload a file or paste a list, into a collection or a new one."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    wanted = request.query_params.get("collection", "")

    def load():
        with site.store.session() as session, session.begin():
            lib.default_collection(session, user["id"])
            return lib.of_member(session, user["id"])

    rows = await run_in_threadpool(load)
    return _personal(render(request, "library_import.html", collections=rows, chosen=wanted, error=None, report=None,
                            max_kb=IMPORT_MAX_BYTES // 1024))


async def _import_text(form) -> str:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and (upload.filename or upload.size):
        data = await upload.read(IMPORT_MAX_BYTES + 1)
        if len(data) > IMPORT_MAX_BYTES:
            raise LibraryError(f"the file is larger than {IMPORT_MAX_BYTES // 1024:,} KB")
        if data:
            try:
                return data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise LibraryError("the file is not UTF-8 text (export it from your reference manager as UTF-8)") from None
    text = form.get("text")
    text = text if isinstance(text, str) else ""
    if not text.strip():
        raise LibraryError("choose a file or paste a list to import")
    return text


async def import_post(request: Request) -> Response:
    """POST /library/import (multipart with a file, or a form with pasted text): read the entries,
    put those the store has into the collection in the file's order, queue the others to be
    fetched from arXiv (they join the collection when they arrive), and report. One transaction:
    a file that cannot be read changes nothing. Importing the same file again adds nothing."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    try:
        form = await request.form(max_files=1, max_fields=20, max_part_size=IMPORT_MAX_BYTES)
    except HTTPException as exc:  # a malformed multipart body
        raise LibraryError(f"the upload could not be read: {exc.detail}") from None
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        check_form_csrf(request, form)
    _count_change(request, user, IMPORT_COST)
    chosen = _text(form, "collection", 20)
    new_name = _text(form, "new_name", 1000).strip()
    try:
        text = await _import_text(form)
        kind, entries = citations.read(text)
        report = await run_in_threadpool(place_entries, site, user, entries, kind, chosen, new_name)
    except (citations.CitationError, LibraryError) as exc:
        def load():
            with site.store.session() as session:
                return lib.of_member(session, user["id"])

        rows = await run_in_threadpool(load)
        return _personal(render(request, "library_import.html", status=400, collections=rows, chosen=chosen, error=str(exc),
                                report=None, max_kb=IMPORT_MAX_BYTES // 1024))
    if wants_json(request):
        return _personal(JSONResponse({
            "format": report.kind, "collection": report.collection_id,
            "matched": [{"id": a, "added": added} for _, a, _, added in report.matched],
            "queued": [a for _, a, _ in report.queued],
            "unplaced": [{"entry": e.number, "label": e.label, "reason": why} for e, why in report.unplaced],
        }))
    return _personal(render(request, "library_import.html", collections=[], chosen="", error=None, report=report,
                            max_kb=IMPORT_MAX_BYTES // 1024))


def place_entries(site, user: dict, entries: list[citations.Entry], kind: str, chosen: str, new_name: str) -> ImportReport:
    """The import itself, in one transaction: match by arXiv id (the DOI and URL forms included),
    then by exact folded title for entries without one; queue the ids the store lacks."""
    today = site.today()
    with site.store.session() as session, session.begin():
        if new_name:
            cid = lib.by_name(session, user["id"], new_name) or lib.create(session, user["id"], new_name)
        elif chosen.isdigit():
            cid = int(chosen)
        else:
            cid = lib.default_collection(session, user["id"])
        row = lib.owned(session, cid, user["id"])
        if row is None:
            raise LibraryError("choose one of your collections, or name a new one")
        by_id = lib.ids_by_arxiv(session, [e.arxiv_id for e in entries if e.arxiv_id])
        untitled = {citations.title_key(e.title): e.title for e in entries if not e.arxiv_id and e.title}
        untitled.pop("", None)
        by_title = lib.ids_by_title(session, untitled, citations.title_key) if untitled else {}
        arxiv_of: dict[int, str] = {}
        held = set(lib.paper_order(session, cid))
        report = ImportReport(kind, cid, row.name)
        placed: list[int] = []
        seen: set[int] = set()
        for e in entries:
            if e.problem:
                report.unplaced.append((e, e.problem))
                continue
            pid = by_id.get(e.arxiv_id) if e.arxiv_id else by_title.get(citations.title_key(e.title or ""))
            if pid is not None:
                if pid in seen:
                    continue  # the same paper twice in the file
                seen.add(pid)
                placed.append(pid)
                report.matched.append([e, e.arxiv_id, e.title, pid not in held])
                continue
            if not e.arxiv_id:
                report.unplaced.append((e, "no arXiv id and no title match"))
                continue
            if not could_exist(e.arxiv_id, today):
                report.unplaced.append((e, f"arXiv has issued no id {e.arxiv_id}"))
                continue
            if any(q[1] == e.arxiv_id for q in report.queued):
                continue
            opened = fetches.open_request(session, e.arxiv_id, reason="import", user_id=user["id"], collection_id=cid)
            report.queued.append((e, e.arxiv_id, opened))
        lib.add_many(session, cid, placed, user["id"])
        if placed:
            cards = paper_store.get_many(session, placed)
            arxiv_of = {pid: c.arxiv_id for pid, c in cards.items()}
            titles = {pid: c.title for pid, c in cards.items()}
            for m, pid in zip(report.matched, placed, strict=True):
                m[1], m[2] = arxiv_of.get(pid, m[1]), titles.get(pid, m[2])
        report.matched = [tuple(m) for m in report.matched]
    return report

