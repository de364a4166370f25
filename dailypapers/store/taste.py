"""A member's whole taste as one JSON document, and that document merged into a member's taste on
this or another instance (web/taste.py, `dailypapers users taste-export|taste-import`).

The document (FORMAT, VERSION 1), papers named by arXiv id so it travels between instances:

    {"format": "dailypapers-taste", "version": 1, "exported_at": "2026-11-30T08:00:00Z", "member": "alice",
     "collections": [{"name": "Saved", "description": "", "public": false, "default": true, "position": 0,
                      "papers": ["2410.17243", ...]}],            # in the member's order
     "tags": [{"paper": "2410.17243", "tags": ["rl", "to-read"]}],
     "notes": [{"paper": "2410.17243", "note": "..."}],
     "read": [{"paper": "2410.17243", "at": "2026-11-29T10:00:00Z"}],
     "follows": [{"kind": "author", "value": "vaswani a", "label": "Ashish Vaswani"}],
     "upvotes": ["2410.17243"], "dismissed": ["2411.00001"]}

`parse` checks a whole document before anything is written (one clear line for the first thing
wrong); `merge` writes it in the caller's transaction, so a file is imported whole or not at all.
Merging is idempotent: collections are matched by name (the default one to the member's "Saved"),
papers already there stay where they are, new ones go to the end in the file's order. Papers this
store lacks join their collection once fetched (a fetch request, reason "import"); what cannot be
placed (tags, notes, read marks, upvotes and dismissals of such papers) is reported, not kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..arxiv import split_arxiv_id
from ..errors import DailyPapersError, InvalidRecord
from . import feedback as feedback_store
from . import fetches
from . import follows as follow_store
from . import library
from . import votes as vote_store
from .dialect import chunks, insert_for
from .papers import existing
from .schema import Collection, CollectionPaper, Paper, PaperNote, PaperTag, Upvote, utcnow
from .users import bump_signals

FORMAT = "dailypapers-taste"
VERSION = 1
MAX_PAPERS = 20_000  # paper mentions in one document, all lists together
MAX_COLLECTIONS = 500
MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_NOTE = 20_000
MAX_TAG = 60
MAX_FOLLOWS = 2_000

collections = Collection.__table__
members = CollectionPaper.__table__
notes = PaperNote.__table__
tags = PaperTag.__table__
papers = Paper.__table__
upvotes = Upvote.__table__


class BadTaste(DailyPapersError):
    """A document that is not a taste file this version can read (the reason, in one line)."""


# --- export --------------------------------------------------------------------------------------


def _stamp(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def export(session: Session, user_id: int, member: str) -> dict:
    """The member's taste as the document described above (a few queries)."""
    ids: dict[int, str] = {}

    def arxiv(pid: int) -> str:
        return ids[pid]

    def need(paper_ids) -> None:
        missing = [p for p in set(paper_ids) if p not in ids]
        for part in chunks(missing):
            ids.update((pid, aid) for pid, aid in session.execute(select(papers.c.id, papers.c.arxiv_id).where(papers.c.id.in_(part))))

    cols = session.execute(
        select(collections).where(collections.c.user_id == user_id).order_by(collections.c.position, collections.c.id)
    ).mappings().all()
    in_cols = session.execute(
        select(members.c.collection_id, members.c.paper_id)
        .join(collections, collections.c.id == members.c.collection_id)
        .where(collections.c.user_id == user_id)
        .order_by(members.c.collection_id, members.c.position, members.c.added_at)
    ).tuples().all()
    tag_rows = session.execute(
        select(tags.c.paper_id, tags.c.tag).where(tags.c.user_id == user_id).order_by(tags.c.paper_id, tags.c.tag)
    ).tuples().all()
    note_rows = session.execute(
        select(notes.c.paper_id, notes.c.note, notes.c.read_at).where(notes.c.user_id == user_id).order_by(notes.c.paper_id)
    ).tuples().all()
    voted = session.execute(
        select(upvotes.c.paper_id).where(upvotes.c.user_id == user_id).order_by(upvotes.c.created_at, upvotes.c.paper_id)
    ).scalars().all()
    dismissed = [pid for pid, _count, _at in reversed(feedback_store.of_member(session, user_id, "dismiss"))]
    need([p for _c, p in in_cols] + [p for p, _t in tag_rows] + [p for p, _n, _r in note_rows] + list(voted) + dismissed)

    by_collection: dict[int, list[str]] = {}
    for cid, pid in in_cols:
        by_collection.setdefault(cid, []).append(arxiv(pid))
    by_paper_tags: dict[str, list[str]] = {}
    for pid, tag in tag_rows:
        by_paper_tags.setdefault(arxiv(pid), []).append(tag)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _stamp(utcnow()),
        "member": member,
        "collections": [
            {"name": c["name"], "description": c["description"] or "", "public": bool(c["is_public"]),
             "default": bool(c["is_default"]), "position": c["position"], "papers": by_collection.get(c["id"], [])}
            for c in cols
        ],
        "tags": [{"paper": paper, "tags": names} for paper, names in by_paper_tags.items()],
        "notes": [{"paper": arxiv(pid), "note": note} for pid, note, _read in note_rows if note],
        "read": [{"paper": arxiv(pid), "at": _stamp(read)} for pid, _note, read in note_rows if read],
        "follows": [{"kind": f["kind"], "value": f["value"], "label": f["label"]} for f in follow_store.of_member(session, user_id)],
        "upvotes": [arxiv(pid) for pid in voted],
        "dismissed": [arxiv(pid) for pid in dismissed],
    }


# --- parse ---------------------------------------------------------------------------------------


@dataclass
class Taste:
    """A checked document: arXiv ids without versions, tags folded, texts within their bounds."""

    collections: list[dict] = field(default_factory=list)  # name, description, public, default, position, papers
    tags: list[tuple[str, str]] = field(default_factory=list)  # (arxiv id, tag)
    notes: list[tuple[str, str]] = field(default_factory=list)
    read: list[tuple[str, dt.datetime]] = field(default_factory=list)
    follows: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, label)
    upvotes: list[str] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)


def _arxiv_id(value, where: str) -> str:
    if not isinstance(value, str):
        raise BadTaste(f"{where}: an arXiv id must be a string, not {type(value).__name__}")
    try:
        return split_arxiv_id(value.strip()[:60])[0]
    except InvalidRecord:
        raise BadTaste(f"{where}: {value[:60]!r} is not an arXiv id") from None


def _text(entry: dict, key: str, where: str, limit: int, *, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise BadTaste(f"{where}: {key} must be a string")
    if len(value) > limit:
        raise BadTaste(f"{where}: {key} is longer than {limit:,} characters")
    return value


def _list(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise BadTaste(f"{key} must be a list")
    return value


def _entries(doc: dict, key: str, limit: int | None = None):
    """(where, entry) of each object in the list `doc[key]` (at most `limit` of them)."""
    items = _list(doc, key)
    if limit is not None and len(items) > limit:
        raise BadTaste(f"more than {limit:,} {key}")
    for i, value in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(value, dict):
            raise BadTaste(f"{where} must be an object")
        yield where, value


def _time(value, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise BadTaste(f"{where}: a time must be a string (ISO 8601)")
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadTaste(f"{where}: {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def fold_tag(value: str) -> str:
    """A tag as stored: lower case, inner spaces single, at most MAX_TAG characters."""
    return " ".join(value.lower().split())[:MAX_TAG]


def parse(doc, check_follow: Callable[[str, str, str], tuple[str, str]] | None = None) -> Taste:
    """The document checked whole (BadTaste on the first thing wrong). `check_follow(kind, value,
    label)` returns the follow as kept (value, label) or raises DailyPapersError: the delivery
    layer knows the search syntax and the taxonomy the follows must satisfy."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadTaste(f'not a taste file: it must be a JSON object with "format": "{FORMAT}"')
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadTaste("the file's version must be a whole number")
    if version > VERSION:
        raise BadTaste(f"the file is of version {version}; this site reads version {VERSION} and older")
    taste = Taste()
    mentions = 0
    names: set[str] = set()
    for where, entry in _entries(doc, "collections", MAX_COLLECTIONS):
        name = " ".join(_text(entry, "name", where, MAX_NAME).split())
        if not name:
            raise BadTaste(f"{where}: a collection needs a name")
        if name.lower() in names:
            raise BadTaste(f"{where}: two collections named {name!r}")
        names.add(name.lower())
        position = entry.get("position")  # None: after the member's collections
        if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
            raise BadTaste(f"{where}: position must be a whole number")
        listed = _list(entry, "papers")
        mentions += len(listed)
        if mentions > MAX_PAPERS:
            raise BadTaste(f"more than {MAX_PAPERS:,} papers in one file")
        taste.collections.append({
            "name": name,
            "description": _text(entry, "description", where, MAX_DESCRIPTION, default=""),
            "public": entry.get("public") is True,
            "default": entry.get("default") is True,
            "position": position,
            "papers": list(dict.fromkeys(_arxiv_id(p, f"{where}.papers[{j}]") for j, p in enumerate(listed))),
        })
    if sum(c["default"] for c in taste.collections) > 1:
        raise BadTaste("more than one collection is marked default")
    for where, entry in _entries(doc, "tags"):
        paper = _arxiv_id(entry.get("paper"), where)
        names_ = entry.get("tags")
        if not isinstance(names_, list) or not all(isinstance(t, str) for t in names_):
            raise BadTaste(f"{where}: tags must be a list of strings")
        mentions += len(names_)
        taste.tags.extend((paper, t) for t in dict.fromkeys(fold_tag(t) for t in names_) if t)
    for where, entry in _entries(doc, "notes"):
        taste.notes.append((_arxiv_id(entry.get("paper"), where), _text(entry, "note", where, MAX_NOTE)))
    for where, entry in _entries(doc, "read"):
        taste.read.append((_arxiv_id(entry.get("paper"), where), _time(entry.get("at"), where)))
    for where, entry in _entries(doc, "follows", MAX_FOLLOWS):
        kind = entry.get("kind")
        if kind not in follow_store.KINDS:
            raise BadTaste(f"{where}: kind must be one of {', '.join(follow_store.KINDS)}")
        value = _text(entry, "value", where, 400)
        label = _text(entry, "label", where, 400, default=value)
        if check_follow is not None:
            try:
                value, label = check_follow(kind, value, label)
            except DailyPapersError as exc:
                raise BadTaste(f"{where}: {exc}") from None
        taste.follows.append((kind, value, label))
    taste.upvotes = list(dict.fromkeys(_arxiv_id(p, f"upvotes[{i}]") for i, p in enumerate(_list(doc, "upvotes"))))
    taste.dismissed = list(dict.fromkeys(_arxiv_id(p, f"dismissed[{i}]") for i, p in enumerate(_list(doc, "dismissed"))))
    mentions += len(taste.notes) + len(taste.read) + len(taste.upvotes) + len(taste.dismissed)
    if mentions > MAX_PAPERS:
        raise BadTaste(f"more than {MAX_PAPERS:,} papers in one file")
    return taste


# --- merge ---------------------------------------------------------------------------------------


@dataclass
class Merged:
    """What an import did: counts of what it added (what was there already is not counted), the
    papers queued for fetching into a collection, and the arXiv ids it could not place."""

    collections: int = 0  # collections made
    papers: int = 0  # papers put into collections
    tags: int = 0
    notes: int = 0
    read: int = 0
    follows: int = 0
    upvotes: int = 0
    dismissed: int = 0
    queued: list[str] = field(default_factory=list)
    not_placed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "imported": {k: getattr(self, k) for k in ("collections", "papers", "tags", "notes", "read", "follows", "upvotes", "dismissed")},
            "queued": self.queued,
            "notPlaced": self.not_placed,
        }


def _collection_for(session: Session, user_id: int, spec: dict, merged: Merged) -> int:
    if spec["default"]:
        return library.default_collection(session, user_id)
    found = session.execute(
        select(collections.c.id).where(collections.c.user_id == user_id, func.lower(collections.c.name) == spec["name"].lower())
    ).scalar()
    if found is not None:
        return found
    position = spec["position"]
    if position is None:
        last = session.execute(select(func.max(collections.c.position)).where(collections.c.user_id == user_id)).scalar()
        position = (last or 0) + 1
    now = utcnow()
    merged.collections += 1
    return session.execute(
        collections.insert()
        .values(user_id=user_id, name=spec["name"], description=spec["description"], is_public=spec["public"],
                is_default=False, position=position, created_at=now, updated_at=now)
        .returning(collections.c.id)
    ).scalar_one()


def merge(session: Session, user_id: int, taste: Taste) -> Merged:
    """Merge a parsed document into the member's taste, in the caller's transaction."""
    merged = Merged()
    wanted = {p for c in taste.collections for p in c["papers"]}
    wanted |= {p for p, _ in taste.tags} | {p for p, _ in taste.notes} | {p for p, _ in taste.read}
    wanted |= set(taste.upvotes) | set(taste.dismissed)
    stored = {arxiv_id: found.id for arxiv_id, found in existing(session, sorted(wanted)).items()}
    not_placed: dict[str, None] = {}
    queued: dict[str, None] = {}

    for spec in taste.collections:
        collection_id = _collection_for(session, user_id, spec, merged)
        for arxiv_id in spec["papers"]:
            pid = stored.get(arxiv_id)
            if pid is not None:
                merged.papers += library.add(session, collection_id, pid, user_id)
            elif arxiv_id in queued:
                not_placed[arxiv_id] = None  # one open fetch per paper and member: it joins its first collection
            else:
                fetches.open_request(session, arxiv_id, reason="import", user_id=user_id, collection_id=collection_id)
                queued[arxiv_id] = None

    def place(arxiv_id: str) -> int | None:
        """The paper's id here; None (and reported) when the store lacks it: its marks cannot be kept."""
        pid = stored.get(arxiv_id)
        if pid is None:
            not_placed[arxiv_id] = None
        return pid

    tag_rows = [{"user_id": user_id, "tag": tag, "paper_id": pid, "created_at": utcnow()}
                for arxiv_id, tag in taste.tags if (pid := place(arxiv_id)) is not None]
    for part in chunks(tag_rows):
        stmt = insert_for(session, tags).on_conflict_do_nothing(index_elements=["user_id", "tag", "paper_id"]).returning(tags.c.tag)
        merged.tags += len(session.execute(stmt, part).all())

    note_of = {arxiv_id: note for arxiv_id, note in taste.notes if note.strip()}
    read_of = dict(taste.read)
    for arxiv_id in dict.fromkeys([*note_of, *read_of]):
        pid = place(arxiv_id)
        if pid is None:
            continue
        row = session.execute(select(notes.c.note, notes.c.read_at).where(notes.c.user_id == user_id, notes.c.paper_id == pid)).first()
        note, read_at = note_of.get(arxiv_id), read_of.get(arxiv_id)
        if row is None:
            session.execute(notes.insert().values(user_id=user_id, paper_id=pid, note=note, read_at=read_at, updated_at=utcnow()))
            merged.notes += note is not None
            merged.read += read_at is not None
            continue
        changes = {}
        if note is not None and not row.note:  # a note already written here is kept as it is
            changes["note"] = note
            merged.notes += 1
        if read_at is not None and row.read_at is None:
            changes["read_at"] = read_at
            merged.read += 1
        if changes:
            session.execute(update(notes).where(notes.c.user_id == user_id, notes.c.paper_id == pid).values(**changes, updated_at=utcnow()))

    for kind, value, label in taste.follows:
        merged.follows += follow_store.follow(session, user_id, kind, value, label)

    voted_ids = [pid for arxiv_id in taste.upvotes if (pid := place(arxiv_id)) is not None]
    already = vote_store.voted(session, user_id, voted_ids)
    for pid in voted_ids:
        if pid not in already:
            vote_store.add(session, user_id, pid)
            merged.upvotes += 1
    for arxiv_id in taste.dismissed:
        pid = place(arxiv_id)
        if pid is not None:
            merged.dismissed += feedback_store.dismiss(session, user_id, pid)
    if merged.tags or merged.notes or merged.read:
        bump_signals(session, user_id)
    merged.queued = list(queued)
    merged.not_placed = list(not_placed)
    return merged


def counts(session: Session, user_id: int) -> dict[str, int]:
    """How much of each the member has (GET /api/me): papers kept in collections, collections,
    dismissed papers, follows and upvotes."""
    from .schema import Feedback, Follow

    def n(query) -> int:
        return session.execute(query).scalar_one()

    kept = select(func.count(func.distinct(members.c.paper_id))).join(collections, collections.c.id == members.c.collection_id)
    return {
        "saved": n(kept.where(collections.c.user_id == user_id)),
        "collections": n(select(func.count()).select_from(collections).where(collections.c.user_id == user_id)),
        "dismissed": n(select(func.count()).select_from(Feedback).where(Feedback.user_id == user_id, Feedback.kind == "dismiss")),
        "follows": n(select(func.count()).select_from(Follow).where(Follow.user_id == user_id)),
        "upvotes": n(select(func.count()).select_from(upvotes).where(upvotes.c.user_id == user_id)),
    }
