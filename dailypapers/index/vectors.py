"""The vector index: nearest papers by cosine, persisted beside the full-text index, following the store.

Why an inverted-file index (IVF) with exact scoring inside the probed lists, in numpy: an exact
float32 scan of 75k x 384 took 16 to 24 ms here and 170 to 390 ms at 1M vectors, too slow for the
latency targets; HNSW answered in 1 to 4 ms but its recall@10 was 0.89 to 0.98 depending on `ef`, took
15 minutes and 1.7 GB to build at 1M and is hard to update. Spherical k-means lists with exact dot
products inside the probed lists build in seconds (a minute at 1M), take new vectors without a rebuild
(they go to an exactly scanned tail until the next compaction), and their recall is measured in
bench/search.py (BENCHMARKS.md): the probe count is chosen for recall@10 of about 0.99. Below
`IVF_MIN` vectors the index is a plain exact scan.

It is a cache of the store's `embeddings` table: under data_dir/index/<store id>/vectors-v1-<model>/,
rebuilt from the table when missing or unreadable, and brought up to date by `sync` (by the
embeddings' `created_at`, re-reading a margin behind the newest seen as the full-text index does).
The same index serves SQLite and PostgreSQL deployments, so both behave alike (no pgvector needed).

Layout: a generation folder holds the main arrays (ids, vectors sorted by list, list offsets,
centroids); small files beside it hold the tail and the rows of the main part superseded since.
`state.json` names them and is replaced last, atomically, so readers (other processes included,
which reload when it changes) always see a whole index.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..store import embeddings as embedding_store
from ..store import kv
from ..store.engine import Store
from ..store.schema import utcnow
from .ivf import Snapshot, assign_lists, default_probes, kmeans, list_count  # noqa: F401 - default_probes: for callers
from .ivf import empty as _empty

log = logging.getLogger(__name__)

LAYOUT = "vectors-v1"
IVF_MIN = 20000  # below this many vectors an exact scan is fast enough (under about 5 ms)
SYNC_MARGIN = dt.timedelta(minutes=5)
READER_REFRESH_SECONDS = 1.0
COMPACT_FRACTION = 0.1  # fold the tail into the lists once it is this large relative to them


class VectorIndex:
    """One node's vector index for one store and model. Thread-safe readers; writers (sync, rebuild)
    take a file lock, so processes on a node take turns."""

    _instances: dict[str, "VectorIndex"] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path, model: str, dim: int):
        self.path = Path(path)
        self.model = model
        self.dim = dim
        self._write_lock = threading.Lock()
        self._last_check = 0.0
        self._stamp: tuple | None = None
        self._checked_at: dt.datetime | None = None  # when this process last read the store (see sync)
        self.snapshot = _empty(dim)
        self.usable = self._load()

    @classmethod
    def for_store(cls, store: Store, model: str, dim: int) -> "VectorIndex":
        """The process's index for this store and model (opened once)."""
        path = Path(store.settings.data_dir) / "index" / kv.store_id(store) / f"{LAYOUT}-{model}"
        key = str(path.resolve())
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(path, model, dim)
            return cls._instances[key]

    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    # --- reading ---------------------------------------------------------------------------------

    def _load(self) -> bool:
        """Read the index named by state.json; False (and an empty index) when there is none or it
        is damaged, which makes the next sync rebuild it."""
        try:
            stat = self.state_path.stat()
        except OSError:
            self.snapshot, self._stamp = _empty(self.dim), None
            return False
        try:
            state = json.loads(self.state_path.read_text())
            if state.get("layout") != LAYOUT or state.get("model") != self.model or state.get("dim") != self.dim:
                raise ValueError("another layout or model")
            main = self.path / state["main"]
            # Mapped, so processes on a node share the pages; viewed as plain arrays, because slicing
            # a np.memmap builds a subclass object per slice (a third of the time of a search).
            ids = np.asarray(np.load(main / "ids.npy", mmap_mode="r"))
            vectors = np.asarray(np.load(main / "vectors.npy", mmap_mode="r"))
            offsets = np.load(main / "offsets.npy") if state.get("lists") else None
            centroids = np.load(main / "centroids.npy") if state.get("lists") else None
            n = int(state["count"])
            if ids.shape != (n,) or vectors.shape != (n, self.dim):
                raise ValueError(f"arrays of {ids.shape} and {vectors.shape} where the state says {n}")
            if offsets is not None and (offsets.shape != (state["lists"] + 1,) or int(offsets[-1]) != n):
                raise ValueError("list offsets do not match")
            delta = state.get("delta")
            if delta:
                with np.load(self.path / delta) as d:
                    dead, tail_ids, tail_vectors = d["dead"], d["tail_ids"], d["tail_vectors"]
                if dead.shape != (n,) or tail_vectors.shape != (tail_ids.shape[0], self.dim):
                    raise ValueError("the tail does not match")
            else:
                dead = np.zeros(n, dtype=bool)
                tail_ids, tail_vectors = np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            self.snapshot = Snapshot(np.asarray(ids), vectors, offsets, centroids, dead, tail_ids, tail_vectors, state)
            self._stamp = (stat.st_mtime_ns, stat.st_size)
            return True
        except Exception as exc:  # noqa: BLE001 - any damage means: rebuild from the store
            log.warning("vector index at %s is unreadable (%s); it will be rebuilt from the store", self.path, exc)
            self.snapshot, self._stamp = _empty(self.dim), None
            return False

    def refresh(self, force: bool = False) -> None:
        """See another process's sync: reload when state.json changed; at most once a second."""
        now = time.monotonic()
        if not force and now - self._last_check < READER_REFRESH_SECONDS:
            return
        self._last_check = now
        try:
            stat = self.state_path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self.usable = self._load()

    def current(self) -> Snapshot:
        """The snapshot to answer a query with."""
        self.refresh()
        return self.snapshot

    def __len__(self) -> int:
        return len(self.current())

    # --- writing ---------------------------------------------------------------------------------

    @contextmanager
    def _locked(self):
        self.path.mkdir(parents=True, exist_ok=True)
        with self._write_lock, open(self.path / "write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.refresh(force=True)
            yield

    def sync(self, store: Store, *, on_skip: Callable[[int], None] | None = None) -> int:
        """Take in every vector stored since the last sync (everything when the index is missing or
        damaged); returns how many vectors were added or replaced. `on_skip` gets the paper id of
        each vector skipped as unusable."""
        with self._locked():
            if not self.usable:
                return self._rebuild_locked(store, on_skip)
            snap = self.snapshot
            mark = snap.state.get("watermark")
            started = utcnow()
            since = dt.datetime.fromisoformat(mark) if mark else None
            if since is not None and self._checked_at is not None and self._checked_at > since:
                # Every vector committed before this process's last look was seen then: read only
                # a margin behind that, so a quiet store costs an empty query, not a re-read.
                since = self._checked_at
            since = since - SYNC_MARGIN if since is not None else None
            new_ids, new_vecs, newest, stored = self._read_since(store, since, on_skip)
            known = snap.vectors_of(new_ids.tolist())
            # Vectors re-read within the margin are skipped when unchanged.
            changed = np.array(
                [not (int(i) in known and np.array_equal(known[int(i)], v)) for i, v in zip(new_ids, new_vecs, strict=True)],
                dtype=bool,
            )
            new_ids, new_vecs = new_ids[changed], new_vecs[changed]
            added = len(set(new_ids.tolist()) - set(known))
            deleted = np.zeros(0, dtype=np.int64)
            if len(snap) + added > stored:  # papers deleted from the store (their vectors went with them)
                with store.session() as session:
                    present = embedding_store.paper_ids(session, self.model)
                deleted = np.array([i for i in snap.lookup()[0].tolist() if i not in present], dtype=np.int64)
            watermark = _later(mark, newest)
            if new_ids.shape[0] or deleted.shape[0]:
                self._apply(snap, new_ids, new_vecs, deleted, watermark)
            elif watermark is not None and watermark.isoformat() != mark:
                self._write_delta(snap, snap.dead, snap.tail_ids, snap.tail_vectors, watermark)
            self._checked_at = started
            return int(new_ids.shape[0])

    def rebuild(self, store: Store) -> int:
        """Drop the index and build it again from every stored vector; returns how many."""
        with self._locked():
            return self._rebuild_locked(store)

    def _rebuild_locked(self, store: Store, on_skip: Callable[[int], None] | None = None) -> int:
        ids, vectors, newest, _ = self._read_since(store, None, on_skip)
        self.build(ids, vectors, watermark=newest)
        return int(ids.shape[0])

    def _read_since(self, store: Store, since: dt.datetime | None, on_skip: Callable[[int], None] | None = None):
        """(ids, vectors, newest created_at, vectors stored in all) of the vectors stored after `since`.
        A vector that is unusable (another size, not finite) is skipped with one log line."""
        ids_parts, vec_parts, newest = [], [], None
        with store.session() as session:
            for ids, vectors, last, unusable in embedding_store.changed_since(session, self.model, since, dim=self.dim):
                ids_parts.append(ids)
                vec_parts.append(vectors)
                newest = last
                for paper_id in unusable:
                    log.warning("vector index: skipped the vector of paper id %d: not %d finite numbers", paper_id, self.dim)
                    if on_skip is not None:
                        on_skip(paper_id)
            stored = embedding_store.count(session, self.model)
        ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, dtype=np.int64)
        vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, self.dim), dtype=np.float32)
        return ids, vectors, newest, stored

    def build(self, ids: np.ndarray, vectors: np.ndarray, *, watermark: dt.datetime | None = None,
              centroids: np.ndarray | None = None, probes: int | None = None) -> None:
        """Write a fresh main part from these vectors (lists when there are at least IVF_MIN);
        `centroids` reuses trained lists instead of training new ones."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        lists = 0
        offsets = None
        if ids.shape[0] >= IVF_MIN:
            if centroids is None:
                centroids = kmeans(vectors, list_count(ids.shape[0]))
            lists = centroids.shape[0]
            assign = assign_lists(vectors, centroids)
            order = np.argsort(assign, kind="stable")
            ids, vectors = ids[order], vectors[order]
            offsets = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=lists))]).astype(np.int64)
        else:
            centroids = None
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"main-{uuid.uuid4().hex[:12]}"
        tmp = self.path / f"{name}.tmp"
        tmp.mkdir()
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "vectors.npy", vectors)
        if lists:
            np.save(tmp / "offsets.npy", offsets)
            np.save(tmp / "centroids.npy", centroids)
        _fsync_dir(tmp)
        tmp.rename(self.path / name)
        state = {
            "layout": LAYOUT,
            "model": self.model,
            "dim": self.dim,
            "main": name,
            "count": int(ids.shape[0]),
            "lists": lists,
            "trained_on": int(ids.shape[0]) if lists else 0,
            "probes": probes,  # None: default_probes at query time
            "delta": None,
            "watermark": watermark.isoformat() if watermark else None,
        }
        self._write_state(state)

    def _apply(self, snap: Snapshot, new_ids: np.ndarray, new_vecs: np.ndarray, deleted: np.ndarray,
               watermark: dt.datetime | None) -> None:
        """Put new and changed vectors in the tail, mark what they replace (and deleted papers) dead;
        compact when the tail or the dead rows grow large."""
        dead = snap.dead.copy()
        gone = np.concatenate([new_ids, deleted])
        where, rows = snap.rows_of(gone)
        n_main = snap.ids.shape[0]
        main_rows = rows[rows < n_main]
        dead[main_rows] = True
        tail_drop = set(gone.tolist())
        keep = np.array([int(i) not in tail_drop for i in snap.tail_ids], dtype=bool) if snap.tail_ids.shape[0] else np.zeros(0, dtype=bool)
        # Several versions of one paper in this batch: the last one wins.
        _, last = np.unique(new_ids[::-1], return_index=True)
        pick = np.sort(new_ids.shape[0] - 1 - last)
        tail_ids = np.concatenate([snap.tail_ids[keep], new_ids[pick]])
        tail_vectors = np.concatenate([snap.tail_vectors[keep], new_vecs[pick]])
        if tail_ids.shape[0] > max(1000, COMPACT_FRACTION * n_main) or dead.sum() > COMPACT_FRACTION * max(n_main, 1):
            all_ids = np.concatenate([snap.ids[~dead], tail_ids])
            all_vecs = np.concatenate([np.asarray(snap.vectors)[~dead], tail_vectors])
            trained = snap.state.get("trained_on") or 0
            # Lists trained on half the vectors or more still fit; beyond that, train again.
            reuse = snap.centroids if snap.centroids is not None and all_ids.shape[0] <= 2 * trained else None
            self.build(all_ids, all_vecs, watermark=watermark, centroids=reuse)
            log.info("vector index compacted: %d vectors (%d were in the tail)", all_ids.shape[0], tail_ids.shape[0])
            return
        self._write_delta(snap, dead, tail_ids, tail_vectors, watermark)

    def _write_delta(self, snap: Snapshot, dead, tail_ids, tail_vectors, watermark) -> None:
        name = f"delta-{uuid.uuid4().hex[:12]}.npz"
        tmp = self.path / f"{name}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, dead=dead, tail_ids=tail_ids, tail_vectors=tail_vectors)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(self.path / name)
        state = dict(snap.state, delta=name, watermark=watermark.isoformat() if watermark else snap.state.get("watermark"))
        self._write_state(state)

    def _write_state(self, state: dict) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.state_path)
        self.usable = self._load()
        self._remove_unused(state)

    def _remove_unused(self, state: dict) -> None:
        """Delete generations no longer named (readers that still map them keep their pages)."""
        for entry in self.path.iterdir():
            if entry.name.startswith(("main-", "delta-")) and entry.name not in (state.get("main"), state.get("delta")):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def _later(mark: str | None, newest: dt.datetime | None) -> dt.datetime | None:
    seen = dt.datetime.fromisoformat(mark) if mark else None
    if seen is None or newest is None:
        return newest or seen
    return max(seen, newest)


def _fsync_dir(path: Path) -> None:
    for entry in path.iterdir():
        with open(entry, "rb") as f:
            os.fsync(f.fileno())
