"""Similar papers computed ahead of time by the index job and read by the paper page."""

from __future__ import annotations

import numpy as np
import pytest

from support import client_for, load_site_data, site_settings
from dailypapers import neighbours
from dailypapers.index.model import DIM, MODEL_KEY
from dailypapers.store import embeddings as embedding_store
from dailypapers.store import similar as similar_store
from dailypapers.store.engine import Store
from dailypapers.store.schema import Paper


@pytest.fixture
def site(db_url, tmp_path, listing_subset):
    settings = site_settings(db_url, tmp_path)
    load_site_data(settings, listing_subset)
    return settings


def plant_vectors(store, n=300, seed=3):
    """Random unit vectors, with paper 2k+1 a close copy of paper 2k (their true nearest pair)."""
    rng = np.random.default_rng(seed)
    with store.session() as session:
        rows = session.query(Paper.id, Paper.content_hash).order_by(Paper.id).limit(n).all()
    base = rng.normal(size=(n, DIM)).astype(np.float32)
    for k in range(0, n - 1, 2):
        base[k + 1] = base[k] + 0.05 * rng.normal(size=DIM)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    with store.session() as session, session.begin():
        embedding_store.upsert_many(session, MODEL_KEY, [(pid, chash, base[i]) for i, (pid, chash) in enumerate(rows)])
    return [pid for pid, _ in rows]


def test_refresh_stores_true_neighbours_and_pages_read_them(site):
    store = Store(site)
    ids = plant_vectors(store)
    assert neighbours.refresh(store) == len(ids)
    with store.session() as session:
        for k in range(0, 40, 2):
            first = similar_store.neighbours(session, ids[k])
            assert first and first[0][0] == ids[k + 1] and first[0][1] > 0.95
            assert ids[k] not in [i for i, _ in first]
        assert similar_store.stale(session, MODEL_KEY) == []
    assert neighbours.refresh(store) == 0  # nothing stale
    with store.session() as session:
        arxiv_a, arxiv_b = (session.get(Paper, ids[0]).arxiv_id, session.get(Paper, ids[1]).arxiv_id)
    with client_for(site) as client:
        page = client.get(f"/papers/{arxiv_a}").text
    similar = page.split('class="similar"', 1)[1]
    assert f'href="/papers/{arxiv_b}"' in similar.split("</li>", 1)[0]  # the planted twin comes first
    store.dispose()


def test_a_changed_vector_makes_its_neighbours_stale(site):
    store = Store(site)
    ids = plant_vectors(store, n=50)
    neighbours.refresh(store)
    with store.session() as session, session.begin():
        embedding_store.upsert_many(session, MODEL_KEY, [(ids[0], "changed", np.ones(DIM, dtype=np.float32) / np.sqrt(DIM))])
    with store.session() as session:
        assert similar_store.stale(session, MODEL_KEY) == [ids[0]]
    assert neighbours.refresh(store, everything=True) == 50
    store.dispose()


def test_page_and_api_show_the_same_stored_neighbours(site):
    """The API's similar papers come from the same stored lists as the paper page, not from a
    separate live search that could disagree with it."""
    store = Store(site)
    ids = plant_vectors(store, n=60)
    neighbours.refresh(store)
    # A stored list unlike the live nearest papers: whatever is stored is what both must show.
    planted = [(ids[k], 0.9 - k / 100) for k in (30, 20, 10, 40)]
    with store.session() as session, session.begin():
        similar_store.put_many(session, MODEL_KEY, [(ids[0], planted)])
    with store.session() as session:
        arxiv = {pid: session.get(Paper, pid).arxiv_id for pid in ids}
    with client_for(site) as client:
        api = client.get(f"/api/papers/{arxiv[ids[0]]}/similar", params={"limit": 3}).json()
        page = client.get(f"/papers/{arxiv[ids[0]]}").text.split('class="similar"', 1)[1].split("</ul>", 1)[0]
    assert [item["id"] for item in api] == [arxiv[pid] for pid, _ in planted[:3]]
    positions = [page.index(f'href="/papers/{arxiv[pid]}"') for pid, _ in planted]
    assert positions == sorted(positions)
    store.dispose()
