"""The recommender service (issue 15): what the pages, the API, the private feed, the digest and
the updater call. The model itself is ranking/personal.py; here are its data: the member's
signals and follows from the store, the papers' features (cached per process: a paper is hashed
once), the stored models (decoded once per fit), and the follows' boosts.

    recommender_for(store).fit(user_id)            the updater's refit (never a page's)
    recommender_for(store).recommend(user_id, ids)  candidates ranked, each with a score and a why

Pages never refit: they read the member's stored model; a member without one yet gets the
neighbour score of their few positives computed on the fly (a similarity, not a fit), and a
visitor or a member with nothing to go on gets the community's model. Saved, dismissed and read
papers are never recommended, whatever the model says: they are read fresh on every call."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .. import taxonomy
from ..ranking import personal
from ..ranking.personal import Boosts, Examples, Features, Model
from ..store import embeddings as embedding_store
from ..store import recmodels
from ..store.engine import Store

log = logging.getLogger(__name__)

BACKGROUND = 300  # listed papers sampled as every model's background negatives
BACKGROUND_SECONDS = 600.0  # how long a process keeps its background sample
AUTHOR_PAPERS = 50  # papers of followed authors taken as (weaker) positives, the newest
CACHED_PAPERS = 10_000  # papers whose features a process keeps (about 5 KB each)
CACHED_MODELS = 200  # decoded models a process keeps (up to about 1 MB each with 200 positives)
CACHED_BLOCKS = 16  # candidate lists (days, digest windows) whose stacked features a process keeps
REREAD_SECONDS = 600.0  # kept features are read again after this long where a vector was missing (the index job adds them)
SEARCH_SECONDS = 300.0  # how long a followed search's matches among candidates are kept
ON_THE_FLY = 50  # positives of a member without a stored model that the page's neighbour score reads


@dataclass(frozen=True)
class Recommendation:
    paper_id: int
    score: float
    why: str
    relevant: bool = False  # worth recommending on its own (personal.relevant), not only better than the rest


@dataclass
class _Paper:
    chash: str
    indices: np.ndarray
    data: np.ndarray
    dense: np.ndarray | None
    categories: tuple[str, ...]
    title: str
    terms: tuple[tuple[str, ...], np.ndarray] | None = None
    text: str = ""
    loaded: float = 0.0  # monotonic time: a paper read before its vector was stored is read again later
    authors: frozenset[str] = frozenset()  # folded author keys (for followed authors)


@dataclass
class _Ranked:
    model: Model
    ids: list[int]
    order: np.ndarray
    scores: np.ndarray
    nearest: np.ndarray
    near: np.ndarray
    boosts: Boosts
    liked: list[int]
    like_from: float
    explain: int


class Recommender:
    """One per store and process (recommender_for): caches of features, models and searches."""

    def __init__(self, store: Store):
        self.store = store
        self._papers: OrderedDict[int, _Paper] = OrderedDict()
        self._models: OrderedDict[str, tuple[tuple, Model]] = OrderedDict()
        self._background: tuple[float, list[int]] | None = None
        self._bg_kernel: tuple[list[int], np.ndarray] | None = None
        self._searches: dict[tuple, tuple[float, set[int]]] = {}
        self._blocks: OrderedDict[int, tuple[list[int], Features, float]] = OrderedDict()
        self._lock = threading.RLock()

    # --- features ------------------------------------------------------------------------------

    def _load(self, session, paper_ids: list[int]) -> None:
        """Featurize the papers not cached yet (or changed since)."""
        from ..index.model import MODEL_KEY

        now = time.monotonic()
        with self._lock:
            missing = [p for p in dict.fromkeys(paper_ids) if p not in self._papers
                       or (self._papers[p].dense is None and now - self._papers[p].loaded > REREAD_SECONDS)]
        if not missing:
            return
        texts = recmodels.texts(session, missing)
        vectors = embedding_store.get_many(session, MODEL_KEY, list(texts))
        authors = recmodels.author_keys(session, list(texts))
        ids = list(texts)
        features = personal.featurize([personal.paper_text(texts[p][0], texts[p][1]) for p in ids], [vectors.get(p) for p in ids])
        rows = features.sparse
        with self._lock:
            for i, pid in enumerate(ids):
                lo, hi = rows.indptr[i], rows.indptr[i + 1]
                title, abstract, chash, cats = texts[pid]
                self._papers[pid] = _Paper(chash, rows.indices[lo:hi].copy(), rows.data[lo:hi].copy(),
                                           features.dense[i].copy() if features.has_dense[i] else None, tuple(cats), title,
                                           text=personal.paper_text(title, abstract), loaded=now,
                                           authors=frozenset(authors.get(pid, ())))
            while len(self._papers) > CACHED_PAPERS:
                self._papers.popitem(last=False)

    def features(self, session, paper_ids: list[int]) -> Features:
        """The papers' features, in order (papers not in the store: empty rows)."""
        from scipy import sparse

        self._load(session, paper_ids)
        with self._lock:
            found = [self._papers.get(p) for p in paper_ids]
            for p in paper_ids:
                if p in self._papers:
                    self._papers.move_to_end(p)
        indptr = np.zeros(len(found) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(f.indices) if f else 0 for f in found])
        indices = np.concatenate([f.indices for f in found if f] or [np.zeros(0, np.int32)])
        data = np.concatenate([f.data for f in found if f] or [np.zeros(0, np.float32)])
        rows = sparse.csr_matrix((data, indices, indptr), shape=(len(found), personal.N_FEATURES), dtype=np.float32)
        dense = np.zeros((len(found), personal.DIM), dtype=np.float32)
        has = np.zeros(len(found), dtype=bool)
        for i, f in enumerate(found):
            if f is not None and f.dense is not None:
                dense[i] = f.dense
                has[i] = True
        return Features(rows, dense, has)

    def _paper(self, pid: int) -> _Paper | None:
        with self._lock:
            return self._papers.get(pid)

    def _terms(self, pid: int) -> tuple[tuple[str, ...], np.ndarray]:
        paper = self._paper(pid)
        if paper is None:
            return (), np.zeros(0, np.int64)
        if paper.terms is None:
            paper.terms = personal.hashed_terms(paper.text)
        return paper.terms

    def background(self, session) -> list[int]:
        now = time.monotonic()
        if self._background is None or now - self._background[0] > BACKGROUND_SECONDS:
            self._background = (now, recmodels.background(session, BACKGROUND))
        return self._background[1]

    # --- fitting (the updater's) ---------------------------------------------------------------

    def examples(self, session, signals: recmodels.MemberSignals) -> tuple[Examples, np.ndarray]:
        """A member's examples: upvotes and saves, papers of followed authors (weaker), against
        their dismissals, papers shown and passed over, and the background sample."""
        weighted: dict[int, tuple[int, float, bool]] = {}  # paper -> (label, weight, dismissed)
        for pid in signals.saved:
            weighted[pid] = (1, personal.WEIGHTS["save"], False)
        for pid in signals.upvoted:
            if pid not in weighted:
                weighted[pid] = (1, personal.WEIGHTS["upvote"], False)
        if signals.authors:
            for pid in recmodels.papers_of_authors(session, [k for k, _ in signals.authors], AUTHOR_PAPERS):
                if pid not in weighted:
                    weighted[pid] = (1, personal.WEIGHTS["author"], False)
        for pid in signals.dismissed:
            weighted[pid] = (-1, personal.WEIGHTS["dismiss"], True)
        for pid, _count in signals.shown:
            if pid not in weighted:
                weighted[pid] = (-1, personal.WEIGHTS["shown"], False)
        return self._with_background(session, weighted)

    def _with_background(self, session, weighted: dict[int, tuple[int, float, bool]]) -> tuple[Examples, np.ndarray]:
        """The examples with the background sample last (those not among them already), and the
        background's kernel among itself (computed once per sample, then cut to the rows used)."""
        sample, block = self._background_kernel(session)
        used = [i for i, pid in enumerate(sample) if pid not in weighted]
        for i in used:
            weighted[sample[i]] = (-1, personal.WEIGHTS["background"], False)
        return self._examples(session, weighted), block[np.ix_(used, used)]

    def _background_kernel(self, session) -> tuple[list[int], np.ndarray]:
        sample = self.background(session)
        with self._lock:
            found = self._bg_kernel
        if found is None or found[0] != sample:
            found = (sample, personal.kernel(self.features(session, sample)))
            with self._lock:
                self._bg_kernel = found
        return found

    def _examples(self, session, weighted: dict[int, tuple[int, float, bool]]) -> Examples:
        ids = list(weighted)
        return Examples(
            self.features(session, ids),
            np.array([weighted[p][0] for p in ids], dtype=np.int8),
            np.array([weighted[p][1] for p in ids], dtype=np.float32),
            np.array(ids, dtype=np.int64),
            np.array([weighted[p][2] for p in ids], dtype=bool),
        )

    def fit(self, user_id: int) -> Model:
        """Refit a member's model from their signals now and store it (its own transaction)."""
        with self.store.session() as session:
            at = _signals_of(session, user_id)
            signals = recmodels.member_signals(session, user_id)
            examples, known = self.examples(session, signals)
            model = personal.fit(examples, known=known)
        self._store(recmodels.owner_of(user_id), user_id, model, at)
        return model

    def fit_community(self) -> Model:
        """Refit the community's model: every member's upvotes and saves (the most liked first)."""
        with self.store.session() as session:
            at = recmodels.community_signals(session)
            weighted: dict[int, tuple[int, float, bool]] = {}
            for pid, n in recmodels.community_positives(session):
                weighted[pid] = (1, float(1 + np.log(n)), False)
            examples, known = self._with_background(session, weighted)
            model = personal.fit(examples, known=known)
        self._store(recmodels.COMMUNITY, None, model, at)
        return model

    def _store(self, owner: str, user_id: int | None, model: Model, at: int) -> None:
        from ..store import kv

        blob = personal.to_bytes(model)
        with self.store.session() as session, session.begin():
            recmodels.put(session, owner, user_id=user_id, method=model.method, model=blob, positives=model.n_positives,
                          negatives=model.n_negatives, signals=at)
            if owner == recmodels.COMMUNITY:
                kv.bump(session)  # /new for visitors is ordered by it: the page cache must let go

    # --- reading (the pages') ------------------------------------------------------------------

    def stored(self, session, owner: str) -> Model | None:
        """An owner's stored model, decoded once per fit (one small query to know it is current)."""
        head = recmodels.head(session, owner)
        if head is None:
            return None
        with self._lock:
            cached = self._models.get(owner)
            if cached is not None and cached[0] == head:
                self._models.move_to_end(owner)
                return cached[1]
        row = recmodels.get(session, owner)
        if row is None:
            return None
        try:
            model = personal.from_bytes(row["model"])
        except personal.BadModel as exc:
            log.warning("stored recommender of %s unreadable (%s): waiting for its refit", owner, exc)
            return None
        with self._lock:
            self._models[owner] = ((row["signals"], row["trained_at"]), model)
            while len(self._models) > CACHED_MODELS:
                self._models.popitem(last=False)
        return model

    def model_for(self, session, user_id: int | None, *, community: bool = True) -> tuple[Model | None, str]:
        """(model, whose): the member's stored model; else the neighbour score of their positives
        (on the fly: no fit, no write); else the community's; else none."""
        if user_id is not None:
            model = self.stored(session, recmodels.owner_of(user_id))
            if model is not None and model.method != "empty":
                return model, "member"
            signals = recmodels.member_signals(session, user_id, limit=ON_THE_FLY) if model is None else None
            positives = list(dict.fromkeys((signals.saved + signals.upvoted) if signals else []))[:ON_THE_FLY]
            if positives or (signals and signals.dismissed):
                weighted = {p: (1, 1.0, False) for p in positives}
                for p in (signals.dismissed if signals else [])[:ON_THE_FLY]:
                    weighted[p] = (-1, personal.WEIGHTS["dismiss"], True)
                model = personal.fit(self._examples(session, weighted), neighbour=True)
                if model.method != "empty":
                    return model, "member"
        shared = self.stored(session, recmodels.COMMUNITY) if community else None
        if shared is not None and shared.method != "empty":
            return shared, "community"
        return None, "none"

    def boosts(self, session, signals: recmodels.MemberSignals | None, ids: list[int],
               span: tuple[dt.date, dt.date] | None) -> Boosts:
        """What of the member's follows each candidate matches (by row)."""
        out = Boosts()
        if signals is None or not (signals.authors or signals.categories or signals.searches):
            return out
        with self._lock:
            found = [self._papers.get(pid) for pid in ids]
        if signals.authors:
            labels = dict(signals.authors)
            for row, paper in enumerate(found):
                hit = next((labels[k] for k in sorted(paper.authors & labels.keys())), None) if paper else None
                if hit:
                    out.author[row] = hit
        if signals.categories:
            wanted = {}
            for code, label in signals.categories:
                for c in taxonomy.categories_in(code) or (code,):
                    wanted.setdefault(c, label)
            for row, paper in enumerate(found):
                hit = next((wanted[c] for c in (paper.categories if paper else ()) if c in wanted), None)
                if hit:
                    out.category[row] = hit
        if signals.searches and span is not None:
            rows = {pid: row for row, pid in enumerate(ids)}
            for query, label in signals.searches:
                for pid in self._search(query, span):
                    if pid in rows:
                        out.search.setdefault(rows[pid], label)
        return out

    def _search(self, query: str, span: tuple[dt.date, dt.date]) -> set[int]:
        """The papers of the span a followed search matches (words only: no semantic neighbours),
        kept SEARCH_SECONDS."""
        from . import BadQuery, SearchQuery, search

        key = (query, span)
        now = time.monotonic()
        hit = self._searches.get(key)
        if hit is not None and now - hit[0] < SEARCH_SECONDS:
            return hit[1]
        try:
            page = search(self.store, SearchQuery(text=query, since=span[0], until=span[1], mode="fulltext", limit=100, facets=False))
            found = {h.paper.id for h in page.hits}
        except BadQuery:
            found = set()
        if len(self._searches) > 1000:
            self._searches.clear()
        self._searches[key] = (now, found)
        return found

    def recommend(self, user_id: int | None, candidates: list[int], *, limit: int | None = None,
                  span: tuple[dt.date, dt.date] | None = None, explain: int = 50,
                  community: bool = True) -> tuple[list[Recommendation], str]:
        """The candidates ranked for the member (None: a visitor, the community's model), best
        first, never a saved, dismissed or read one; the first `explain` say why. Returns the
        recommendations and whose model ranked them: member, community (not when `community` is
        False), or none (no model: the candidates in their order)."""
        with self.store.session() as session:
            signals = recmodels.follows_of(session, user_id) if user_id is not None else None
            excluded = recmodels.excluded(session, user_id) if user_id is not None else set()
            ids, features = self._block(session, candidates)
            model, whose = self.model_for(session, user_id, community=community)
            boosts = self.boosts(session, signals, ids, span)
            ranked = self._rank(model, ids, features, excluded, boosts, limit, explain)
            if ranked is None:
                return [Recommendation(p, 0.0, "") for p in ids if p not in excluded][:limit], "none"
            titles = recmodels.titles(session, ranked.liked) if ranked.liked else {}
        return self._explained(ranked, titles), whose if whose != "none" else "member"  # follows alone ranked them

    def recommend_many(self, user_ids: list[int], candidates: list[int], *, limit: int | None = None,
                       span: tuple[dt.date, dt.date] | None = None, explain: int = 10) -> dict[int, list[Recommendation]]:
        """`recommend` for many members at once, by their stored models only (a digest's batch: a
        few queries for all of them); a member without a stored model gets none here."""
        out: dict[int, list[Recommendation]] = {}
        if not user_ids:
            return out
        with self.store.session() as session:
            follows = recmodels.follows_of_many(session, user_ids)
            excluded = recmodels.excluded_many(session, user_ids)
            stored = recmodels.get_many(session, [recmodels.owner_of(u) for u in user_ids])
            ids, features = self._block(session, candidates)
            ranked = {}
            for uid in user_ids:
                row = stored.get(recmodels.owner_of(uid))
                try:
                    model = personal.from_bytes(row["model"]) if row is not None else None
                except personal.BadModel:
                    model = None
                if model is None or model.method == "empty":
                    continue
                boosts = self.boosts(session, follows.get(uid), ids, span)
                ranked[uid] = self._rank(model, ids, features, excluded.get(uid, set()), boosts, limit, explain)
            liked = {p for r in ranked.values() for p in r.liked}
            titles = recmodels.titles(session, sorted(liked)) if liked else {}
        return {uid: self._explained(r, titles) for uid, r in ranked.items()}

    def _rank(self, model: Model | None, ids: list[int], features: Features, excluded: set[int], boosts: Boosts,
              limit: int | None, explain: int) -> "_Ranked | None":
        """Scores and order of the candidates not excluded; None without a model or a follow."""
        if model is None:
            if not (boosts.author or boosts.search or boosts.category):
                return None
            model = Model("empty")
        keep = np.array([p not in excluded for p in ids], dtype=bool)
        scores, nearest, near = personal.score(model, features, boosts)
        order = np.lexsort((np.arange(len(ids)), -scores))
        order = order[keep[order]][:limit]
        liked = [int(model.positive_ids[nearest[i]]) for i in order[:explain] if nearest[i] >= 0 and len(model.positive_ids)]
        like_from = personal.like_threshold(near[keep]) if keep.any() else personal.LIKE_FLOOR
        return _Ranked(model, ids, order, scores, nearest, near, boosts, liked, like_from, explain)

    def _explained(self, r: "_Ranked", titles: dict[int, str]) -> list[Recommendation]:
        out = []
        scores = np.round(r.scores[r.order].astype(np.float64), 4).tolist()
        near = r.near[r.order].tolist()
        boosted = r.boosts.author.keys() | r.boosts.search.keys() | r.boosts.category.keys()
        explained = [self._terms(r.ids[i]) for i in r.order[: r.explain].tolist()]
        weights: list = [None] * len(explained)
        if r.model.method == "linear" and explained:  # every explained paper's term weights in one lookup
            lengths = [len(t[1]) for t in explained]
            weights = np.split(r.model.weights_of(np.concatenate([t[1] for t in explained])), np.cumsum(lengths)[:-1])
        for rank, i in enumerate(r.order.tolist()):
            why = ""
            if rank < r.explain:
                why = personal.explain(r.model, i, terms=explained[rank], nearest=int(r.nearest[i]), near=near[rank],
                                       boosts=r.boosts, titles=titles, like_from=r.like_from, term_weights=weights[rank])
            out.append(Recommendation(r.ids[i], scores[rank], why, personal.relevant(r.model, scores[rank], near[rank], i in boosted)))
        return out

    def _block(self, session, candidates: list[int]) -> tuple[list[int], Features]:
        """The candidates (distinct, in order) and their features, kept for the next call with the
        same candidates (a day's page for every member, a digest's window for every subscriber)."""
        ids = list(dict.fromkeys(candidates))
        key = hash(tuple(ids))
        with self._lock:
            found = self._blocks.get(key)
            if found is not None and found[0] == ids and time.monotonic() - found[2] < REREAD_SECONDS:
                self._blocks.move_to_end(key)
                return found[0], found[1]
        block = (ids, self.features(session, ids), time.monotonic())
        with self._lock:
            self._blocks[key] = block
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        return block[0], block[1]


def _signals_of(session, user_id: int) -> int:
    from ..store import users

    return users.signals(session, user_id)


_recommenders: dict[int, Recommender] = {}
_recommenders_lock = threading.Lock()


def recommender_for(store: Store) -> Recommender:
    """This process's recommender for the store."""
    with _recommenders_lock:
        found = _recommenders.get(id(store))
        if found is None or found.store is not store:
            found = _recommenders[id(store)] = Recommender(store)
        return found
