"""The vector index: exact against brute force, IVF recall, following the store, surviving damage."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from support import need_data
from dailypapers.index import vectors as V
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store import embeddings as embedding_store
from dailypapers.store import papers as paper_store

DIM = 16


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, dim: int, clusters: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres, like topics of papers."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return unit(centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim)))


def brute_force(vectors, ids, query, k):
    scores = vectors @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return [int(ids[i]) for i in top]


def test_exact_index_equals_brute_force(tmp_path):
    vectors = clustered(3000, DIM, 20)
    ids = np.arange(100, 3100, dtype=np.int64)
    index = V.VectorIndex(tmp_path, "m", DIM)
    index.build(ids, vectors)
    snap = index.current()
    assert snap.offsets is None and len(snap) == 3000
    for q in clustered(20, DIM, 20, seed=1):
        found = snap.search(q, 10)
        assert [pid for pid, _ in found] == brute_force(vectors, ids, q, 10)
        assert [round(s, 5) for _, s in found] == [round(float(s), 5) for s in np.sort(vectors @ q)[::-1][:10]]
    found = snap.search(vectors[5], 3, exclude={105})
    assert 105 not in [pid for pid, _ in found] and len(found) == 3
    assert snap.score(vectors[7], [107, 99999]) == {107: pytest.approx(1.0, abs=1e-5)}


def test_ivf_recall_against_the_exact_scan(tmp_path):
    n = V.IVF_MIN + 5000
    vectors = clustered(n, 48, 200)
    ids = np.arange(n, dtype=np.int64)
    index = V.VectorIndex(tmp_path, "m", 48)
    index.build(ids, vectors)
    snap = index.current()
    assert snap.offsets is not None and snap.state["lists"] == V.list_count(n)
    assert int(snap.offsets[-1]) == n and sorted(snap.ids.tolist()) == ids.tolist()  # every vector in one list
    queries = clustered(100, 48, 200, seed=7)
    recall = np.mean([len({p for p, _ in snap.search(q, 10)} & set(brute_force(vectors, ids, q, 10))) / 10 for q in queries])
    assert recall >= 0.95, recall
    everything = np.mean(
        [len({p for p, _ in snap.search(q, 10, probes=snap.state["lists"])} & set(brute_force(vectors, ids, q, 10))) / 10 for q in queries]
    )
    assert everything == 1.0  # probing every list is the exact scan


def _store_with_papers(store, tmp_path, n=30) -> list[int]:
    path = need_data("arxiv-daily", "papers.jsonl.gz")
    lines = []
    with gzip.open(path, "rt") as f:
        for line in f:
            lines.append(line)
            if len(lines) == n:
                break
    small = tmp_path / "papers.jsonl"
    small.write_text("".join(lines))
    ingest_job(store).run([str(small)])
    with store.session() as session:
        return paper_store.all_ids(session)


def _put(store, vectors: dict[int, np.ndarray]):
    with store.session() as session, session.begin():
        embedding_store.upsert_many(session, "m", [(pid, "h", v) for pid, v in vectors.items()])


def test_follows_the_store_and_survives_damage(store, tmp_path):
    ids = _store_with_papers(store, tmp_path)
    rng = np.random.default_rng(3)
    vectors = {pid: unit(rng.normal(size=(1, DIM)))[0] for pid in ids}
    _put(store, {pid: vectors[pid] for pid in ids[:20]})
    index = V.VectorIndex(tmp_path / "vectors", "m", DIM)
    assert not index.usable and index.sync(store) == 20 and index.usable
    assert index.current().search(vectors[ids[3]], 1)[0][0] == ids[3]

    # New and changed vectors arrive by sync; the old vector of a changed paper is gone.
    changed = unit(rng.normal(size=(1, DIM)))[0]
    _put(store, {**{pid: vectors[pid] for pid in ids[20:]}, ids[0]: changed})
    assert index.sync(store) == 11
    assert index.sync(store) == 0  # nothing new: the margin re-read takes nothing twice
    snap = index.current()
    assert len(snap) == 30
    assert snap.search(changed, 1)[0] == (ids[0], pytest.approx(1.0, abs=1e-5))
    assert np.allclose(snap.vectors_of([ids[0]])[ids[0]], changed)
    assert [p for p, _ in snap.search(vectors[ids[0]], 30)].count(ids[0]) == 1  # the old vector is gone

    # Another process (a fresh index object) reads the same files.
    other = V.VectorIndex(tmp_path / "vectors", "m", DIM)
    assert len(other.current()) == 30

    # A deleted paper leaves the index at the next sync.
    from sqlalchemy import delete

    from dailypapers.store.schema import Paper

    with store.session() as session, session.begin():
        session.execute(delete(Paper.__table__).where(Paper.__table__.c.id == ids[5]))
    index.sync(store)
    assert ids[5] not in {p for p, _ in index.current().search(vectors[ids[5]], 30)}

    # Damage: a garbage state file, then a truncated vector file: both rebuilt from the store.
    index.state_path.write_text("{not json")
    broken = V.VectorIndex(tmp_path / "vectors", "m", DIM)
    assert not broken.usable and len(broken.current()) == 0
    assert broken.sync(store) == 29 and broken.usable
    main = tmp_path / "vectors" / json.loads(broken.state_path.read_text())["main"] / "vectors.npy"
    main.write_bytes(main.read_bytes()[:200])
    again = V.VectorIndex(tmp_path / "vectors", "m", DIM)
    assert not again.usable
    again.sync(store)
    assert len(again.current()) == 29
    shutil.rmtree(tmp_path / "vectors")
    gone = V.VectorIndex(tmp_path / "vectors", "m", DIM)
    assert gone.sync(store) == 29


def test_tail_is_compacted_into_the_lists(tmp_path):
    n = V.IVF_MIN
    vectors = clustered(n + 3000, 32, 100)
    index = V.VectorIndex(tmp_path, "m", 32)
    index.build(np.arange(n), vectors[:n])
    lists = index.current().state["lists"]
    snap = index.current()
    index._apply(snap, np.arange(n, n + 500), vectors[n : n + 500], np.zeros(0, dtype=np.int64), None)
    snap = index.current()
    assert snap.tail_ids.shape[0] == 500 and snap.search(vectors[n + 10], 1)[0][0] == n + 10
    index._apply(snap, np.arange(n + 500, n + 3000), vectors[n + 500 :], np.array([0, 1]), None)
    snap = index.current()
    assert snap.tail_ids.shape[0] == 0 and len(snap) == n + 3000 - 2  # folded in, deletions dropped
    assert snap.state["lists"] == lists  # the lists were reused, not trained again
    assert snap.search(vectors[n + 2000], 1)[0][0] == n + 2000
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(("main-", "delta-"))]
    assert leftovers == [snap.state["main"]]  # older generations removed
