"""The ingest pipeline: normalize records, merge with the store, write each batch in one transaction.

A batch is all-or-nothing, so a killed run leaves whole papers only, and running the same input
again completes the work (everything already written counts as unchanged).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from queue import Empty, Full

from ..errors import DailyPapersError, SourceError
from ..sources.files import InputFile
from ..store import authors as author_store
from ..store import daily as daily_store
from ..store import hf_users as hf_user_store
from ..store import kv
from ..store import listings as listing_store
from ..store import papers as paper_store
from ..store import repos as repo_store
from ..store import runs as run_store
from ..store.engine import Store
from ..types import IngestReport, PaperRow, VersionInfo
from . import repo_links
from .merge import complete_new, merge
from .prepare import Incoming, Item, Prepared, batches, fingerprints_of, prepare, unpack


@dataclass
class BatchResult:
    report: IngestReport = field(default_factory=IngestReport)
    changed_ids: list[int] = field(default_factory=list)  # papers new or changed, for the search index


def write_batch(store: Store, prepared: Prepared) -> BatchResult:
    """Store one prepared batch in a single transaction: the papers, their version history, their
    days on the feed and in arXiv's listings, the submitters' profiles and the input records applied."""
    result = BatchResult()
    report = result.report
    report.rejected = len(prepared.rejections)
    report.rejections = list(prepared.rejections)
    report.unchanged = prepared.skipped
    records = prepared.records
    if not records:
        return result
    with store.session() as session, session.begin():
        found = paper_store.existing(session, {rec.row.arxiv_id for rec in records})
        status, new_rows, changed = _classify(session, records, found)
        ids = _write_papers(session, records, found, new_rows, changed)
        new_versions = _write_versions(session, records, ids)
        added, new_days = _write_daily_entries(session, records, ids, found)
        listed, new_listings = _write_listings(session, records, ids, found)
        _write_submitters(session, records)
        _write_repos(session, records, ids, status)
        _remember_inputs(session, records, ids)
        for i in new_versions | new_days | new_listings:  # an unchanged record that brought a version or a day
            if status[i] == "unchanged":
                status[i] = "updated"
        if any(st != "unchanged" for st in status):
            kv.bump(session)  # pages cached by the web processes are now stale
        report.featured += added
        report.listed += listed
        for s in status:
            setattr(report, s, getattr(report, s) + 1)
        result.changed_ids = sorted(
            {ids[rec.row.arxiv_id] for rec, st in zip(records, status, strict=True) if st != "unchanged"}
        )
    return result


def _classify(
    session, records: list[Incoming], found: dict[str, paper_store.Stored]
) -> tuple[list[str], dict[str, PaperRow], dict[str, PaperRow]]:
    """Per record: new, updated or unchanged; and the final rows to insert and to update."""
    needs_merge = {
        found[aid].id for rec in records if (aid := rec.row.arxiv_id) in found and found[aid].content_hash != rec.new_hash
    }
    current = paper_store.ingest_rows(session, needs_merge)
    status: list[str] = []
    new_rows: dict[str, PaperRow] = {}
    changed: dict[str, PaperRow] = {}
    for rec in records:
        aid = rec.row.arxiv_id
        if aid in new_rows:  # seen earlier in this batch
            merged = merge(unpack(new_rows[aid]), unpack(rec.row))
            status.append("unchanged" if merged.content_hash == new_rows[aid].content_hash else "updated")
            new_rows[aid] = merged
        elif aid not in found:
            new_rows[aid] = complete_new(rec.row, rec.new_hash)
            status.append("new")
        elif aid not in current and found[aid].content_hash == rec.new_hash:
            status.append("unchanged")
        else:
            base = changed.get(aid) or current[aid]
            merged = merge(base, unpack(rec.row))
            if merged.content_hash == base.content_hash:
                status.append("unchanged")
            else:
                status.append("updated")
                changed[aid] = merged
    return status, new_rows, changed


def _write_papers(
    session, records: list[Incoming], found: dict, new_rows: dict[str, PaperRow], changed: dict[str, PaperRow]
) -> dict[str, int]:
    """Insert the new papers (each with the earliest day the batch features it on), rewrite the
    changed ones, set their categories. Returns arxiv_id -> paper id for every record's paper."""
    first_featured: dict[str, dt.date] = {}
    for rec in records:
        aid = rec.row.arxiv_id
        if rec.featured is not None and aid in new_rows:
            day = first_featured.get(aid)
            if day is None or rec.featured.day < day:
                first_featured[aid] = rec.featured.day
    ids = {aid: stored.id for aid, stored in found.items()}
    ids.update(paper_store.insert_many(session, list(new_rows.values()), first_featured))
    paper_store.update_many(session, {ids[aid]: row for aid, row in changed.items()})
    paper_store.replace_categories(session, {ids[aid]: row.categories for aid, row in new_rows.items()}, fresh=True)
    paper_store.replace_categories(session, {ids[aid]: row.categories for aid, row in changed.items()})
    author_store.replace(session, {ids[aid]: row.authors for aid, row in new_rows.items()}, fresh=True)
    author_store.replace(session, {ids[aid]: row.authors for aid, row in changed.items()})
    return ids


def _version_rows(row: PaperRow, versions: tuple[VersionInfo, ...], paper_id: int) -> list[dict]:
    out: dict[int, dict] = {}
    for v in versions:
        out[v.version] = {"paper_id": paper_id, "version": v.version, "submitted_at": v.submitted_at, "title": None, "abstract": None}
    if row.version is not None:
        entry = out.setdefault(
            row.version, {"paper_id": paper_id, "version": row.version, "submitted_at": None, "title": None, "abstract": None}
        )
        entry["title"] = row.title
        entry["abstract"] = row.abstract or None
    return list(out.values())


def _write_versions(session, records: list[Incoming], ids: dict[str, int]) -> set[int]:
    """Version history: add what is missing, even from an older or otherwise unchanged record.
    Returns the indexes of the records that added something."""
    versioned = [i for i, rec in enumerate(records) if rec.versions or rec.row.version is not None]
    if not versioned:
        return set()
    known = paper_store.known_versions(session, {ids[records[i].row.arxiv_id] for i in versioned})
    version_rows: dict[tuple[int, int], dict] = {}
    gained: set[int] = set()
    for i in versioned:
        rec = records[i]
        for entry in _version_rows(rec.row, rec.versions, ids[rec.row.arxiv_id]):
            key = (entry["paper_id"], entry["version"])
            has_date, has_title, has_abstract = known.get(key, (False, False, False))
            gains_date = entry["submitted_at"] is not None and not has_date
            gains_title = entry["title"] is not None and not has_title
            gains_abstract = entry["abstract"] is not None and not has_abstract
            if key in known and not gains_date and not gains_title and not gains_abstract:
                continue
            prev = version_rows.get(key)
            if prev:
                prev["submitted_at"] = prev["submitted_at"] or entry["submitted_at"]
                prev["title"] = prev["title"] or entry["title"]
                prev["abstract"] = prev["abstract"] or entry["abstract"]
            else:
                version_rows[key] = entry
            gained.add(i)
    paper_store.upsert_versions(session, list(version_rows.values()))
    return gained


def _new_on_days(session, records: list[Incoming], ids: dict[str, int], found: dict, kind: str, existing) -> tuple[list, set[int]]:
    """The records whose `kind` (featured or listed) puts a paper on a day it is not on yet, as
    (record index, its Featured or Listed, paper id), each (paper, day) once, in input order; and
    the ids of the papers among them stored before this batch. `existing` is the store's (paper id,
    day) pairs of that kind for given papers."""
    at = [i for i, rec in enumerate(records) if getattr(rec, kind) is not None]
    old_ids = {ids[aid] for i in at if (aid := records[i].row.arxiv_id) in found}
    have = existing(session, old_ids) if old_ids else set()
    new = []
    for i in at:
        event, pid = getattr(records[i], kind), ids[records[i].row.arxiv_id]
        if (pid, event.day) not in have:
            have.add((pid, event.day))
            new.append((i, event, pid))
    return new, old_ids


def _write_daily_entries(
    session, records: list[Incoming], ids: dict[str, int], found: dict
) -> tuple[int, set[int]]:
    """Daily entries: a paper featured on a day it was not featured before; a stored paper's first
    featured day lowered to it. Returns how many entries were added, and by which records."""
    new, old_ids = _new_on_days(session, records, ids, found, "featured", daily_store.existing)
    first_days: dict[int, dt.date] = {}
    for _, featured, pid in new:
        if pid in old_ids:
            first_days[pid] = min(featured.day, first_days.get(pid, featured.day))
    daily_store.add_many(session, [
        {
            "paper_id": pid,
            "day": featured.day,
            "submitted_at": featured.submitted_at or dt.datetime.combine(featured.day, dt.time()),
            "submitter_name": featured.submitter,
            "source": featured.source,
        }
        for _, featured, pid in new
    ])  # fmt: skip
    paper_store.set_first_featured(session, first_days)
    return len(new), {i for i, _, _ in new}


def _write_listings(session, records: list[Incoming], ids: dict[str, int], found: dict) -> tuple[int, set[int]]:
    """Listings: a paper in a day's arXiv listing it was not in before, after the papers the day
    already lists, in input order. Returns how many were added, and by which records."""
    new, old_ids = _new_on_days(session, records, ids, found, "listed", listing_store.existing)
    listing_store.add_many(session, [{"paper_id": pid, "day": listed.day, "source": listed.source} for _, listed, pid in new])
    listing_store.touch(session, {pid for _, _, pid in new} & old_ids)
    return len(new), {i for i, _, _ in new}


def _write_submitters(session, records: list[Incoming]) -> None:
    """The profiles of upstream (HF) submitters, refreshed even when the entry exists."""
    profiles: dict[str, dict] = {}
    for rec in records:
        f = rec.featured
        if f is not None and f.submitter and (f.submitter_fullname or f.submitter_avatar_url):
            profiles[f.submitter] = {
                "name": f.submitter,
                "fullname": f.submitter_fullname,
                "avatar_url": f.submitter_avatar_url,
            }
    hf_user_store.upsert_many(session, list(profiles.values()))


def _write_repos(session, records: list[Incoming], ids: dict[str, int], status: list[str]) -> None:
    """The code repositories the new and changed papers link to (repo_links.py), with HF's stars."""
    rows = []
    for rec, st in zip(records, status, strict=True):
        row = rec.row
        if st != "unchanged" and (row.code_url or "://" in (row.abstract or "") or "://" in (row.comment or "")):
            rows += repo_links.rows_for(ids[row.arxiv_id], row.abstract, row.comment, row.code_url, row.source, row.hf_meta)
    repo_store.add_many(session, rows)


def _remember_inputs(session, records: list[Incoming], ids: dict[str, int]) -> None:
    """The input records applied, by fingerprint: a later run skips them unparsed."""
    paper_store.remember_fingerprints(
        session,
        [{"fingerprint": rec.fingerprint, "paper_id": ids[rec.row.arxiv_id]} for rec in records if rec.fingerprint],
    )


def ingest(
    store: Store,
    items: Iterable[Item],
    *,
    batch_size: int | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> IngestReport:
    """Ingest source items in this process; returns the counts and the rejections with their positions."""
    report = IngestReport()
    for result in _serial(store, items, batch_size or store.settings.ingest_batch_size):
        report.add(result.report)
        if on_batch:
            on_batch(result)
    return report


def _produce(store_settings, input_file: InputFile, size: int, queue, parent: int) -> None:
    """Child process: read, parse and prepare batches; the parent writes them."""
    from ..store.engine import Store as ChildStore

    store = ChildStore(store_settings, migrate=False, pool_size=1)

    def put(value) -> None:
        while True:
            try:
                queue.put(value, timeout=1)
                return
            except Full:
                if os.getppid() != parent:  # the writer died (killed): stop quietly
                    os._exit(0)

    try:
        with input_file.open() as stream:
            for batch in batches(input_file.parse(stream), size):
                fingerprints = fingerprints_of(batch)
                with store.session() as session:
                    applied = paper_store.known_fingerprints(session, fingerprints) if fingerprints else set()
                prepared = prepare(batch, applied)
                prepared.position = stream.position()
                put(prepared)
        put(None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as one line
        put(str(exc) if isinstance(exc, DailyPapersError) else f"{input_file.path}: {type(exc).__name__}: {exc}")
    finally:
        store.dispose()


def ingest_file(
    store: Store,
    input_file: InputFile,
    *,
    batch_size: int | None = None,
    on_batch: Callable[[BatchResult, int], None] | None = None,
    parallel: bool = True,
) -> IngestReport:
    """Ingest one file. With `parallel`, a second process reads and prepares while this one writes:
    on two cores that nearly halves the time of a large import. `on_batch` gets the bytes read."""
    size = batch_size or store.settings.ingest_batch_size
    report = IngestReport()
    if not parallel:
        with input_file.open() as stream:
            for result in _serial(store, input_file.parse(stream), size):
                report.add(result.report)
                if on_batch:
                    on_batch(result, stream.position())
        return report
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=3)
    child = ctx.Process(target=_produce, args=(store.settings, input_file, size, queue, os.getpid()), daemon=True)
    store.engine.dispose(close=False)  # the child must not share our connections
    child.start()
    try:
        while True:
            try:
                prepared = queue.get(timeout=5)
            except Empty:
                if not child.is_alive():
                    raise SourceError(f"{input_file.path}: the reader process died") from None
                continue
            if prepared is None:
                break
            if isinstance(prepared, str):  # the reader's one-line error
                raise SourceError(prepared)
            result = write_batch(store, prepared)
            report.add(result.report)
            if on_batch:
                on_batch(result, prepared.position)
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
    return report


def _serial(store: Store, items: Iterable[Item], size: int) -> Iterator[BatchResult]:
    for batch in batches(items, size):
        fingerprints = fingerprints_of(batch)
        with store.session() as session:
            applied = paper_store.known_fingerprints(session, fingerprints) if fingerprints else set()
        yield write_batch(store, prepare(batch, applied))


def logged(store: Store, source: str, run: Callable[[], IngestReport]) -> IngestReport:
    """Run an ingest and record it (with its counts) in the store's run log."""
    with store.session() as session, session.begin():
        run_id = run_store.start(session, source)
    try:
        report = run()
    except BaseException:
        with store.session() as session, session.begin():
            run_store.finish(session, run_id, None, "failed")
        raise
    with store.session() as session, session.begin():
        run_store.finish(session, run_id, report, "done")
    return report
