"""The live recommender (issue 15), as pure functions: a member's model, fitted on the CPU in
milliseconds from their feedback, and the ranking of a day's papers with it, each with a few
words saying why. The store and the indexes are the caller's (search/recommend.py): here are
only features, fitting, scoring, explaining and the model's bytes.

Features. A paper is its stored sentence vector (all-MiniLM-L6-v2, 384 numbers; absent for papers
not embedded yet: zeros, and the sparse side carries it alone) next to sparse text features: the
word 1- and 2-grams of its title and abstract, hashed (stateless: no vocabulary fitted on the
corpus, so any process featurizes any paper alike), sublinear tf, unit length.

Fitting. Positives: upvotes and saved papers (weight 1), papers of followed authors (lower).
Negatives: "not interested" (strong), papers shown and passed over (weak) and a background sample
of listed papers. With at least MIN_LINEAR positives the model is linear: a class-balanced,
weighted ridge classifier (least squares on +1/-1, as sklearn's RidgeClassifier), solved in its
dual form, since a member has hundreds of examples and the features number 2**18 + 384: one
small linear system, a few milliseconds. Below that it is a neighbour score: each candidate's
best similarities to the positives, weighted. Either way a candidate very close to a dismissed
paper (a near-duplicate, another version) is pushed down.

The stored model keeps the linear weights of the KEEP_TERMS strongest features (index, weight),
the dense weights, and a pruned copy of the positives' and dismissed papers' features (for the
neighbour score, near-duplicates and the "like: <title>" explanation)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

N_FEATURES = 2**18
DIM = 384
MIN_LINEAR = 5  # positives needed for the linear model; fewer: the neighbour score
KEEP_TERMS = 8192  # the linear model's strongest sparse weights kept
KEEP_ROW_TERMS = 64  # a stored positive's (or dismissed paper's) strongest features
STORED_EXAMPLES = 200  # positives (and dismissed papers) kept in a model, heaviest and newest first
RIDGE = 1.0  # the ridge penalty
DENSE_SHARE = 0.5  # the dense vector's share of a similarity, where both papers have one

# Example weights, by kind of signal.
WEIGHTS = {
    "upvote": 1.0,
    "save": 1.0,
    "author": 0.4,  # a paper of a followed author
    "dismiss": 3.0,  # "not interested"
    "shown": 0.3,  # recommended and passed over
    "background": 1.0,
}

# Score units: the linear model's decision is about -1 (background) to +1 (positive).
NEAR_WEIGHT = 0.5  # the best similarity to a positive, added to the linear decision
NEIGHBOUR_SCALE = 2.0  # the neighbour score's similarities, in decision units
BOOST = {"author": 0.8, "search": 0.6, "category": 0.25}
DUPLICATE_FROM = 0.6  # similarity to a dismissed paper from which a candidate falls
DUPLICATE_PENALTY = 4.0  # the fall at similarity 1
# A candidate reads as "like: <title>" of its nearest positive when that similarity is at least
# LIKE_FLOOR and among the top quarter of the candidates' (word cosines without idf are small, and
# the dense side moves them up: a fixed line would fit one or the other).
LIKE_FLOOR = 0.1
RELEVANT_NEAR = 0.2  # the neighbour score's line for "worth recommending on its own"
WHY_TERMS = 3
TITLE_CHARS = 80  # a liked paper's title in a why, cut to this

TOKEN_PATTERN = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"

_vectorizer = None


def vectorizer():
    """The stateless hashing vectorizer (word 1- and 2-grams, English stop words dropped)."""
    global _vectorizer
    if _vectorizer is None:
        from sklearn.feature_extraction.text import HashingVectorizer

        _vectorizer = HashingVectorizer(
            n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm=None, stop_words="english",
            token_pattern=TOKEN_PATTERN, strip_accents="unicode", lowercase=True, dtype=np.float32,
        )
    return _vectorizer


def paper_text(title: str | None, abstract: str | None) -> str:
    return f"{title or ''}\n{abstract or ''}"


@dataclass
class Features:
    """Papers' features: sparse rows (CSR, unit length, N_FEATURES wide), dense rows (DIM, unit
    length or zeros) and which papers have a dense vector."""

    sparse: sparse.csr_matrix
    dense: np.ndarray
    has_dense: np.ndarray

    def __len__(self) -> int:
        return self.sparse.shape[0]

    def take(self, rows) -> "Features":
        rows = np.asarray(rows, dtype=np.int64)
        return Features(self.sparse[rows], self.dense[rows], self.has_dense[rows])


def empty_features() -> Features:
    return Features(sparse.csr_matrix((0, N_FEATURES), dtype=np.float32), np.zeros((0, DIM), np.float32), np.zeros(0, bool))


_controller = None
_local = threading.local()


def _scratch() -> np.ndarray:
    found = getattr(_local, "scratch", None)
    if found is None:
        found = _local.scratch = np.zeros(N_FEATURES, dtype=np.float32)
    return found


def one_thread():
    """BLAS on one thread for the small products here: on a busy machine its threads competing
    with the web server's cost more than they give (a 700-row solve took 20 times as long)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _unit_rows(m: sparse.csr_matrix) -> sparse.csr_matrix:
    m = sparse.csr_matrix(m, dtype=np.float32)
    lengths = np.diff(m.indptr)
    squares = np.zeros(m.shape[0], dtype=np.float32)
    filled = lengths > 0
    squares[filled] = np.add.reduceat(m.data * m.data, m.indptr[:-1][filled]) if m.nnz else 0
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    return sparse.csr_matrix((m.data / np.repeat(norms, lengths), m.indices, m.indptr), shape=m.shape, dtype=np.float32)


def featurize(texts: list[str], vectors: list[np.ndarray | None]) -> Features:
    """Features of papers from their text (paper_text) and their stored vectors (None: none)."""
    if not texts:
        return empty_features()
    counts = vectorizer().transform(texts).tocsr().astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)  # sublinear tf
    rows = _unit_rows(counts)
    dense = np.zeros((len(texts), DIM), dtype=np.float32)
    has = np.zeros(len(texts), dtype=bool)
    for i, v in enumerate(vectors):
        if v is not None and v.shape == (DIM,) and np.all(np.isfinite(v)):
            norm = float(np.linalg.norm(v))
            if norm > 0:
                dense[i] = v / norm
                has[i] = True
    return Features(rows, dense, has)


def stack(parts: list[Features]) -> Features:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_features()
    return Features(
        sparse.vstack([p.sparse for p in parts], format="csr"),
        np.concatenate([p.dense for p in parts]),
        np.concatenate([p.has_dense for p in parts]),
    )


def similarities(a: Features, b: Features, b_transposed: sparse.csr_matrix | None = None) -> np.ndarray:
    """Cosine-like similarity of every row of `a` with every row of `b`: the mean of the sparse
    and dense cosines where both papers have a vector, the sparse cosine alone otherwise.
    `b_transposed`: b.sparse.T as CSR, when the caller keeps it (a model's references)."""
    bt = b_transposed if b_transposed is not None else b.sparse.T.tocsr()
    words = (a.sparse @ bt).toarray().astype(np.float32, copy=False)
    if not (a.has_dense.any() and b.has_dense.any()):
        return words
    with one_thread():
        meaning = a.dense @ b.dense.T
    both = a.has_dense[:, None] & b.has_dense[None, :]
    return np.where(both, (1 - DENSE_SHARE) * words + DENSE_SHARE * meaning, words)


@dataclass
class Examples:
    """What a model is fitted from: features, +1/-1 labels, weights (by kind of signal), and the
    paper ids (positives' and dismissed papers' are kept in the model)."""

    features: Features
    labels: np.ndarray
    weights: np.ndarray
    paper_ids: np.ndarray
    dismissed: np.ndarray  # bool: a "not interested"


@dataclass
class Model:
    """A fitted recommender. `method`: linear, neighbour, or empty (nothing to go on)."""

    method: str
    bias: float = 0.0
    term_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    term_weight: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    dense_weight: np.ndarray = field(default_factory=lambda: np.zeros(DIM, np.float32))
    positive_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    positive_weight: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    positives: Features = field(default_factory=empty_features)
    dismissed_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    dismissed: Features = field(default_factory=empty_features)
    n_positives: int = 0
    n_negatives: int = 0
    _references: tuple | None = field(default=None, repr=False)

    def references(self) -> tuple[Features, sparse.csr_matrix]:
        """The positives and then the dismissed papers, stacked, and their transposed sparse rows
        (made once per model: every ranking compares candidates with them)."""
        if self._references is None:
            both = stack([self.positives, self.dismissed])
            self._references = (both, both.sparse.T.tocsr())
        return self._references

    def weights_of(self, features: np.ndarray) -> np.ndarray:
        """The linear weights of these feature indices (0 where the model keeps none): scattered
        into a scratch vector of N_FEATURES that each thread keeps and wipes after, so no model
        holds a dense vector of every feature."""
        if not len(self.term_index):
            return np.zeros(len(features), dtype=np.float32)
        scratch = _scratch()
        scratch[self.term_index] = self.term_weight
        try:
            return scratch[features]
        finally:
            scratch[self.term_index] = 0.0

    def sparse_scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        """Each row's dot product with the linear model's sparse weights."""
        contributions = rows.data * self.weights_of(rows.indices)
        out = np.zeros(rows.shape[0], dtype=np.float32)
        lengths = np.diff(rows.indptr)
        filled = lengths > 0
        if rows.nnz:
            out[filled] = np.add.reduceat(contributions, rows.indptr[:-1][filled])
        return out


def _pruned(f: Features, keep: int = KEEP_ROW_TERMS) -> Features:
    """Each sparse row cut to its `keep` largest entries, unit length again (stored compactly)."""
    m = f.sparse.tocsr()
    lengths = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), lengths)
    order = np.lexsort((-m.data, rows))  # by row, largest first within a row
    rank = np.arange(len(order)) - np.repeat(m.indptr[:-1], lengths)
    chosen = order[rank < keep]
    counts = np.minimum(lengths, keep)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    pruned = sparse.csr_matrix((m.data[chosen], m.indices[chosen], indptr), shape=m.shape, dtype=np.float32)
    pruned.sort_indices()
    return Features(_unit_rows(pruned), f.dense.copy(), f.has_dense.copy())


def _kept(examples: Examples, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, Features]:
    """Ids, weights and pruned features of the examples in `mask`, heaviest first (the caller gives
    them newest first within a weight), at most STORED_EXAMPLES."""
    rows = np.flatnonzero(mask)
    rows = rows[np.argsort(-examples.weights[rows], kind="stable")][:STORED_EXAMPLES]
    return examples.paper_ids[rows].astype(np.int64), examples.weights[rows].astype(np.float32), _pruned(examples.features.take(rows))


def fit(examples: Examples, *, neighbour: bool = False, known: np.ndarray | None = None) -> Model:
    """The member's model: linear with at least MIN_LINEAR positives, else (or when asked: the
    cheap model of a page that finds no stored one) the neighbour score."""
    positive = examples.labels > 0
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    pos_ids, pos_w, pos_f = _kept(examples, positive)
    dis_ids, _w, dis_f = _kept(examples, examples.dismissed & ~positive)
    common = dict(positive_ids=pos_ids, positive_weight=pos_w, positives=pos_f, dismissed_ids=dis_ids, dismissed=dis_f,
                  n_positives=n_pos, n_negatives=n_neg)
    if n_pos == 0:
        return Model("empty", **common)
    if neighbour or n_pos < MIN_LINEAR or n_neg == 0:
        return Model("neighbour", **common)
    bias, sparse_w, dense_w = _ridge(examples, known)
    nonzero = np.flatnonzero(sparse_w)
    if len(nonzero) > KEEP_TERMS:
        nonzero = nonzero[np.argpartition(-np.abs(sparse_w[nonzero]), KEEP_TERMS)[:KEEP_TERMS]]
    nonzero = np.sort(nonzero)
    return Model("linear", bias=bias, term_index=nonzero.astype(np.int32), term_weight=sparse_w[nonzero].astype(np.float32),
                 dense_weight=dense_w.astype(np.float32), **common)


def kernel(f: Features, rows: slice | None = None) -> np.ndarray:
    """The examples' kernel (sparse and dense dot products, plus 1 for the intercept): of `rows`
    with every example, or of all with all."""
    top = f if rows is None else Features(f.sparse[rows], f.dense[rows], f.has_dense[rows])
    with one_thread():
        k = (top.sparse @ f.sparse.T.tocsr()).toarray().astype(np.float64)
        k += (top.dense @ f.dense.T).astype(np.float64)
    return k + 1.0


def _ridge(examples: Examples, known: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted, class-balanced ridge regression on +1/-1 in its dual form: with K the examples'
    kernel and S their weights, alpha = (RIDGE I + S K)^-1 S y, and the weights are X^T alpha.
    `known`: the kernel of the last examples among themselves (the background sample, the same
    for every member: the caller keeps it), so only the member's own rows are multiplied out."""
    f, y = examples.features, examples.labels.astype(np.float64)
    weights = examples.weights.astype(np.float64).copy()
    for label in (1, -1):  # each class weighs as much in all, whatever its size
        mask = y == label
        weights[mask] *= len(y) / (2.0 * weights[mask].sum())
    n = len(y)
    if known is not None and 0 < len(known) < n:
        m = n - len(known)
        full = np.empty((n, n), dtype=np.float64)
        full[:m] = kernel(f, slice(0, m))
        full[m:, :m] = full[:m, m:].T
        full[m:, m:] = known
    else:
        full = kernel(f)
    # Symmetric: alpha = S^1/2 (RIDGE I + S^1/2 K S^1/2)^-1 S^1/2 y, by Cholesky.
    from scipy.linalg import cho_factor, cho_solve

    root = np.sqrt(weights)
    with one_thread():
        system = root[:, None] * full * root[None, :]
        system[np.diag_indices(n)] += RIDGE
        alpha = root * cho_solve(cho_factor(system, check_finite=False, overwrite_a=True), root * y, check_finite=False)
        sparse_w = np.asarray(f.sparse.T @ alpha.astype(np.float32)).ravel()
        dense_w = f.dense.T @ alpha.astype(np.float32)
    return float(alpha.sum()), sparse_w, dense_w


@dataclass
class Ranked:
    """A candidate's score and the few words of why (empty when nothing says it well)."""

    index: int  # the candidate's row
    score: float
    why: str


@dataclass
class Boosts:
    """What the member follows that a candidate matches, by candidate row: the label to show."""

    author: dict[int, str] = field(default_factory=dict)
    search: dict[int, str] = field(default_factory=dict)
    category: dict[int, str] = field(default_factory=dict)


def score(model: Model, candidates: Features, boosts: Boosts | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, nearest positive's row in the model or -1, its similarity) of every candidate."""
    n = len(candidates)
    scores = np.zeros(n, dtype=np.float32)
    nearest = np.full(n, -1, dtype=np.int64)
    near = np.zeros(n, dtype=np.float32)
    if n == 0:
        return scores, nearest, near
    n_pos = len(model.positives)
    if n_pos or len(model.dismissed):
        refs, refs_t = model.references()
        both = similarities(candidates, refs, refs_t)
    if n_pos:
        sims = both[:, :n_pos]
        nearest = np.argmax(sims, axis=1)
        near = sims[np.arange(n), nearest]
        if model.method == "neighbour":
            k = min(3, sims.shape[1])
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            w = model.positive_weight[top]
            scores = NEIGHBOUR_SCALE * (np.take_along_axis(sims, top, axis=1) * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-6)
    if model.method == "linear":
        with one_thread():
            dense = candidates.dense @ model.dense_weight
        linear = model.sparse_scores(candidates.sparse) + dense + model.bias
        scores = linear + NEAR_WEIGHT * near
    if len(model.dismissed):
        closest = both[:, n_pos:].max(axis=1)
        scores = scores - DUPLICATE_PENALTY * np.clip((closest - DUPLICATE_FROM) / (1 - DUPLICATE_FROM), 0, None)
    if boosts is not None:
        for kind in ("author", "search", "category"):
            for row in getattr(boosts, kind):
                scores[row] += BOOST[kind]
    return scores.astype(np.float32), nearest, near.astype(np.float32)


_analyzers: list = []


def _analyzer():
    if not _analyzers:
        _analyzers.append(vectorizer().build_analyzer())
    return _analyzers[0]


def hashed_terms(text: str) -> tuple[tuple[str, ...], np.ndarray]:
    """A text's distinct words and word pairs and their feature indices (the hashing is not
    reversible: to name a feature, hash the text's own terms and look them up)."""
    from sklearn.utils import murmurhash3_32

    terms = tuple(dict.fromkeys(_analyzer()(text)))  # a tuple of strings: not tracked by the garbage collector
    index = np.empty(len(terms), dtype=np.int64)
    for i, term in enumerate(terms):
        h = murmurhash3_32(term, seed=0)
        index[i] = (2147483647 - (N_FEATURES - 1)) % N_FEATURES if h == -2147483648 else abs(h) % N_FEATURES
    return terms, index


def top_terms(model: Model, terms: tuple[tuple[str, ...], np.ndarray], n: int = WHY_TERMS,
              weights: np.ndarray | None = None) -> list[str]:
    """The model's largest positive weights among a paper's own terms (hashed_terms); `weights`:
    those terms' weights, when the caller looked them up for many papers at once."""
    words, index = terms
    if model.method != "linear" or not len(model.term_index) or not len(words):
        return []
    weights = model.weights_of(index) if weights is None else weights
    out: list[str] = []
    for i in np.argsort(-weights, kind="stable"):
        if weights[i] <= 0:
            break
        term = words[i]
        if any(term in kept or kept in term for kept in out):  # "neural" next to "neural networks": one
            continue
        out.append(term)
        if len(out) == n:
            break
    return out


def like_threshold(near: np.ndarray) -> float:
    """The similarity from which a candidate reads as "like: <title>" (see LIKE_FLOOR)."""
    return max(LIKE_FLOOR, float(np.percentile(near, 75))) if len(near) else LIKE_FLOOR


def explain(model: Model, row: int, *, terms: tuple[tuple[str, ...], np.ndarray], nearest: int, near: float,
            boosts: Boosts | None, titles: dict[int, str], like_from: float = LIKE_FLOOR,
            term_weights: np.ndarray | None = None) -> str:
    """A few words of why a candidate is recommended: the followed author or search it matches, the
    saved or upvoted paper it is closest to, the followed category, or its top terms."""
    if boosts is not None and row in boosts.author:
        return f"by {boosts.author[row]}"
    if boosts is not None and row in boosts.search:
        return f"matches your search {boosts.search[row]}"
    liked = titles.get(int(model.positive_ids[nearest])) if nearest >= 0 and len(model.positive_ids) else None
    if liked:
        liked = " ".join(liked.split())
        liked = liked if len(liked) <= TITLE_CHARS else liked[: TITLE_CHARS - 1].rstrip() + "…"
    if liked and near >= like_from:
        return f"like: {liked}"
    if boosts is not None and row in boosts.category:
        return f"in {boosts.category[row]}"
    top = top_terms(model, terms, weights=term_weights)
    if top:
        return "terms: " + ", ".join(top)
    if liked:
        return f"like: {liked}"
    return ""


def relevant(model: Model, score: float, near: float, boosted: bool) -> bool:
    """Whether a candidate is worth recommending on its own (a digest's "papers like yours" shows
    only these): it matches a follow, or the linear model scores it above the line between
    positives and the rest, or (neighbour score) it is as close to a positive as RELEVANT_NEAR."""
    if boosted:
        return True
    if model.method == "linear":
        return score > 0
    return model.method == "neighbour" and near >= RELEVANT_NEAR


def rank(model: Model, candidates: Features, boosts: Boosts | None = None, *, exclude: np.ndarray | None = None) -> list[Ranked]:
    """Every candidate not excluded (a bool mask: saved, dismissed, read), best first, without the
    why (see explain: the caller explains only those it shows)."""
    scores, _nearest, _near = score(model, candidates, boosts)
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [Ranked(int(i), float(scores[i]), "") for i in order if exclude is None or not exclude[i]]


# --- bytes ---------------------------------------------------------------------------------------

FORMAT = 1


def _feature_arrays(prefix: str, f: Features) -> dict[str, np.ndarray]:
    m = f.sparse.tocsr()
    rows_with = np.flatnonzero(f.has_dense)
    return {
        f"{prefix}_indptr": m.indptr.astype(np.int32), f"{prefix}_indices": m.indices.astype(np.int32),
        f"{prefix}_data": m.data.astype(np.float16), f"{prefix}_dense_rows": rows_with.astype(np.int32),
        f"{prefix}_dense": f.dense[rows_with].astype(np.float16),
    }


def _features_from(prefix: str, a) -> Features:
    indptr = a[f"{prefix}_indptr"]
    n = len(indptr) - 1
    rows = sparse.csr_matrix((a[f"{prefix}_data"].astype(np.float32), a[f"{prefix}_indices"], indptr), shape=(n, N_FEATURES))
    dense = np.zeros((n, DIM), dtype=np.float32)
    has = np.zeros(n, dtype=bool)
    with_rows = a[f"{prefix}_dense_rows"]
    dense[with_rows] = a[f"{prefix}_dense"].astype(np.float32)
    has[with_rows] = True
    return Features(rows, dense, has)


MAGIC = b"DPREC1\n"


def to_bytes(model: Model) -> bytes:
    """The model's numpy arrays, raw, after a JSON header naming each (dtype, shape, offset): read
    back without copying or unzipping (a few to a few hundred KB)."""
    meta = {"format": FORMAT, "method": model.method, "bias": model.bias, "n_positives": model.n_positives,
            "n_negatives": model.n_negatives, "n_features": N_FEATURES, "dim": DIM}
    arrays = {
        "term_index": model.term_index.astype(np.int32), "term_weight": model.term_weight.astype(np.float32),
        "dense_weight": model.dense_weight.astype(np.float32), "positive_ids": model.positive_ids.astype(np.int64),
        "positive_weight": model.positive_weight.astype(np.float32), "dismissed_ids": model.dismissed_ids.astype(np.int64),
        **_feature_arrays("pos", model.positives), **_feature_arrays("dis", model.dismissed),
    }
    offset, layout, parts = 0, {}, []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        layout[name] = [array.dtype.str, list(array.shape), offset]
        parts.append(array.tobytes())
        offset += array.nbytes
    header = json.dumps({"meta": meta, "arrays": layout}).encode()
    return MAGIC + len(header).to_bytes(4, "little") + header + b"".join(parts)


class BadModel(ValueError):
    """Stored bytes that are no model of this format (refitted by the updater)."""


def from_bytes(blob: bytes) -> Model:
    try:
        if not blob.startswith(MAGIC):
            raise BadModel("not a model of this format")
        size = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 4], "little")
        start = len(MAGIC) + 4 + size
        header = json.loads(blob[len(MAGIC) + 4 : start].decode())
        meta = header["meta"]
        if meta.get("format") != FORMAT or meta.get("n_features") != N_FEATURES or meta.get("dim") != DIM:
            raise BadModel(f"a model of another format: {meta}")
        a = {}
        for name, (dtype, shape, offset) in header["arrays"].items():
            count = int(np.prod(shape)) if shape else 1
            a[name] = np.frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=start + offset).reshape(shape)
        return Model(
            meta["method"], bias=float(meta["bias"]), term_index=a["term_index"], term_weight=a["term_weight"],
            dense_weight=a["dense_weight"], positive_ids=a["positive_ids"], positive_weight=a["positive_weight"],
            positives=_features_from("pos", a), dismissed_ids=a["dismissed_ids"], dismissed=_features_from("dis", a),
            n_positives=int(meta["n_positives"]), n_negatives=int(meta["n_negatives"]),
        )
    except BadModel:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated or foreign bytes
        raise BadModel(f"unreadable model: {exc}") from None
