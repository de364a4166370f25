"""The full-text index: tantivy (BM25) in a folder beside each node, kept in step with the store.

Why tantivy: on the 74,728-paper corpus it answered OR queries in 0.6 ms and title-length queries in
2.5 ms at p50 where SQLite FTS5 needed 76 ms and 263 ms, with equal BM25 quality; PostgreSQL's own
full text has no BM25. Every node (a laptop, or each web host of a PostgreSQL deployment) keeps its
own index and follows the store by `changed_at` (see `sync`), so the same code serves both.

The index is a cache of the store: it lives under data_dir/index/<store id>/ and is rebuilt from the
store when it is missing, of an older layout, or unreadable.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from ..store import kv
from ..store import papers as paper_store
from ..store.engine import Store

log = logging.getLogger(__name__)

LAYOUT = "fulltext-v1"
# Changes are re-read this far behind the newest one seen, because transactions in other processes
# may commit later than their timestamps say; papers already indexed at that timestamp are skipped.
SYNC_MARGIN = dt.timedelta(minutes=5)
READER_REFRESH_SECONDS = 1.0


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    # i64, not u64: the Python binding turns ints into i64 terms, so deleting by a u64 id never matches.
    sb.add_integer_field("paper_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("abstract", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("authors", stored=False, tokenizer_name="default")
    sb.add_text_field("categories", stored=False, tokenizer_name="raw", fast=True)
    sb.add_text_field("comment", stored=False, tokenizer_name="en_stem")
    sb.add_date_field("day", stored=False, indexed=True, fast=True)
    sb.add_integer_field("has_code", stored=False, indexed=True, fast=True)
    return sb.build()


def document(row: dict) -> tantivy.Document:
    day = row.get("first_featured") or (row["published_at"].date() if row.get("published_at") else None)
    doc = tantivy.Document(
        paper_id=row["id"],
        arxiv_id=row["arxiv_id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=" ; ".join(a["name"] for a in row.get("authors") or []),
        comment=row.get("comment") or "",
        has_code=1 if row.get("code_url") else 0,
    )
    for cat in row.get("categories") or []:
        doc.add_text("categories", cat)
    if day is not None:
        doc.add_date("day", dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC))
    return doc


@dataclass
class SyncState:
    """Where the index is relative to the store: the newest change indexed, and the papers indexed
    within the margin behind it (so re-reading the margin does not index them again)."""

    watermark: dt.datetime | None = None
    recent: dict[int, str] = field(default_factory=dict)  # paper id -> changed_at (iso) indexed

    @classmethod
    def load(cls, path: Path) -> "SyncState":
        try:
            data = json.loads(path.read_text())
            mark = data.get("watermark")
            return cls(dt.datetime.fromisoformat(mark) if mark else None, {int(k): v for k, v in data.get("recent", {}).items()})
        except (OSError, ValueError, TypeError, AttributeError):
            return cls()

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"watermark": self.watermark.isoformat() if self.watermark else None, "recent": self.recent}))
        tmp.replace(path)


class FullTextIndex:
    """One node's full-text index for one store. Safe to share between threads of a process; across
    processes on a node, writers take turns through a lock file."""

    _instances: dict[str, "FullTextIndex"] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = path
        self.schema = build_schema()
        self._write_lock = threading.Lock()
        self._last_reload = 0.0
        self.index = self._open()

    @classmethod
    def for_store(cls, store: Store) -> "FullTextIndex":
        path = Path(store.settings.data_dir) / "index" / kv.store_id(store) / LAYOUT
        key = str(path.resolve())
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(path)
            return cls._instances[key]

    @property
    def state_path(self) -> Path:
        return self.path / "sync-state.json"

    def _open(self) -> tantivy.Index:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            if tantivy.Index.exists(str(self.path)):
                index = tantivy.Index.open(str(self.path))
                index.searcher()  # reads the segments: fails here when they are damaged
                return index
        except Exception as exc:  # noqa: BLE001 - any damage means: rebuild from the store
            log.warning("full-text index at %s is unreadable (%s); rebuilding it from the store", self.path, exc)
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True, exist_ok=True)
        return tantivy.Index(self.schema, path=str(self.path), reuse=False)

    @contextmanager
    def _writer(self):
        """The node's single writer: a thread lock in-process, a file lock across processes."""
        with self._write_lock, open(self.path.parent / f"{LAYOUT}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            writer = None
            for attempt in range(50):
                try:
                    writer = self.index.writer(heap_size=64_000_000, num_threads=1)
                    break
                except ValueError:  # tantivy's own lock, held by a writer that is closing
                    time.sleep(0.1 * (attempt + 1))
            if writer is None:
                raise RuntimeError(f"could not open the index writer at {self.path}")
            try:
                yield writer
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
            finally:
                del writer
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """See other writers' commits; at most once a second unless forced."""
        now = time.monotonic()
        if force or now - self._last_reload >= READER_REFRESH_SECONDS:
            self.index.reload()
            self._last_reload = now

    def searcher(self) -> tantivy.Searcher:
        self.refresh()
        return self.index.searcher()

    def count(self) -> int:
        return self.searcher().num_docs

    def _write_rows(self, writer, rows: list[dict]) -> None:
        for row in rows:
            writer.delete_documents_by_term("paper_id", row["id"])
            writer.add_document(document(row))

    def sync(self, store: Store, *, batch: int = 5000) -> int:
        """Index every paper changed since the last sync; returns how many were (re)indexed."""
        with self._writer() as writer:
            state = SyncState.load(self.state_path)
            if state.watermark is None and self.index.searcher().num_docs:
                # Documents without a state file: start over rather than guess what they hold.
                writer.delete_all_documents()
            since = state.watermark - SYNC_MARGIN if state.watermark else None
            with store.session() as session:
                changes = paper_store.changed_since(session, since)
            todo = [pid for pid, at in changes if state.recent.get(pid) != at.isoformat()]
            for start in range(0, len(todo), batch):
                with store.session() as session:
                    rows = paper_store.rows_for_index(session, todo[start : start + batch])
                self._write_rows(writer, rows)
            if changes:
                newest = changes[-1][1]
                state.watermark = max(state.watermark or newest, newest)
                floor = state.watermark - SYNC_MARGIN
                state.recent = {pid: at.isoformat() for pid, at in changes if at >= floor}
        # Saved after the commit: a crash in between only means indexing those papers again.
        state.save(self.state_path)
        return len(todo)

    def rebuild(self, store: Store) -> int:
        """Drop everything and index the whole store again."""
        with self._writer() as writer:
            writer.delete_all_documents()
            SyncState().save(self.state_path)
        return self.sync(store)

    def close(self) -> None:
        """Nothing to release: writers are opened per sync. Kept for symmetry with callers."""
