"""Our recommender's core, as pure functions: paper features (TF-IDF of words and word pairs, plus
the arXiv categories), an encoder trained on them with co-authorship as the signal, and a reader's
taste, fitted from their library, scoring candidates with the encoder and a per-reader linear SVM
over TF-IDF (arxiv-sanity-lite's, trained against a sample of background papers; without one, the
library's TF-IDF centroid takes its place).

The encoder is a linear map from a paper's sparse features to a unit vector, trained so that two
papers sharing an author are closer than papers of different authors (a symmetric InfoNCE loss over
in-batch negatives, as SPECTER does with citations, but on co-authorship and linear, so it trains in
a few minutes on two CPU cores with numpy alone). It starts as a random projection (cosines of the TF-IDF
rows, roughly) and learns which words mark a group's work and which words travel together in one
group's papers. Only papers whose authors are known train it: in the benchmark, those listed before
the cut; the papers it ranks are encoded from their text and categories alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import recs_baselines

DIM = 256
NEIGHBOURS = 3  # a candidate's encoder score: its mean cosine with this many closest library papers
WORDS_WEIGHT = 0.5  # the TF-IDF centroid's share of the score, next to the encoder's (without an SVM)
SVM_WEIGHT = 0.5  # the reader's SVM's share of the score, next to the encoder's
CATEGORY_WEIGHT = 0.5  # a category's share of a paper's encoder input, next to its words


def unit_rows(rows: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (all-zero rows kept as they are), float32."""
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ rows, dtype=np.float32)


@dataclass
class PaperFeatures:
    """The encoder's input: a fitted vectorizer of words and word pairs, the category columns after
    its words, and every paper's row (CSR, unit length)."""

    vectorizer: object
    categories: dict[str, int]
    rows: sparse.csr_matrix

    def transform(self, texts: list[str], categories: list[list[str]]) -> sparse.csr_matrix:
        return _with_categories(self.vectorizer.transform(texts), categories, self.categories)


def fit_paper_features(texts: list[str], categories: list[list[str]], fit_mask: np.ndarray) -> PaperFeatures:
    """Fit TF-IDF (words and word pairs, sublinear tf, up to 100,000) and the category columns on
    the rows of `fit_mask`, then transform every row."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    small = int(np.sum(fit_mask)) < 200  # a tiny corpus (the tests): keep every word
    vectorizer = TfidfVectorizer(
        strip_accents="unicode", lowercase=True, stop_words="english", token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2), max_features=100_000, sublinear_tf=True, min_df=1 if small else 2, max_df=1.0 if small else 0.2,
    )
    vectorizer.fit([t for t, keep in zip(texts, fit_mask, strict=True) if keep])
    names = sorted({c for cats, keep in zip(categories, fit_mask, strict=True) if keep for c in cats})
    columns = {c: i for i, c in enumerate(names)}
    return PaperFeatures(vectorizer, columns, _with_categories(vectorizer.transform(texts), categories, columns))


def _with_categories(words: sparse.csr_matrix, categories: list[list[str]], columns: dict[str, int]) -> sparse.csr_matrix:
    indptr, indices = [0], []
    for cats in categories:
        indices.extend(sorted({columns[c] for c in cats if c in columns}))
        indptr.append(len(indices))
    ones = np.ones(len(indices), dtype=np.float32)
    cats = unit_rows(sparse.csr_matrix((ones, indices, indptr), shape=(words.shape[0], len(columns)))) * CATEGORY_WEIGHT
    words = unit_rows(words) * (1 - CATEGORY_WEIGHT**2) ** 0.5
    return unit_rows(sparse.hstack([words, cats], format="csr"))


@dataclass
class Encoder:
    """The trained linear map: features -> unit vectors of `weights.shape[1]` numbers."""

    weights: np.ndarray

    def encode(self, rows: sparse.csr_matrix, *, batch: int = 8192) -> np.ndarray:
        out = np.empty((rows.shape[0], self.weights.shape[1]), dtype=np.float32)
        for start in range(0, rows.shape[0], batch):
            out[start : start + batch] = _normalized(rows[start : start + batch] @ self.weights)[0]
        return out


def _normalized(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(h, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return h / norms, norms


def train_encoder(rows: sparse.csr_matrix, groups: list[np.ndarray], *, dim: int = DIM, epochs: int = 10, batch: int = 512,
                  temperature: float = 0.05, lr: float = 0.003, seed: int = 0, on_step=None) -> Encoder:
    """Train the encoder on `groups` (row indices of papers sharing an author, two or more each):
    every step draws `batch` groups and two papers of each, and pulls each pair together against
    the other pairs. Lazy Adam on the weight rows a batch touches."""
    rng = np.random.default_rng(seed)
    n_features = rows.shape[1]
    weights = (rng.standard_normal((n_features, dim)) / np.sqrt(dim)).astype(np.float32)
    groups = [g for g in groups if len(g) >= 2]
    if not groups:
        return Encoder(weights)
    m = np.zeros_like(weights)
    v = np.zeros_like(weights)
    steps_per_epoch = max(1, len(groups) // batch)
    total = epochs * steps_per_epoch
    step = 0
    b1, b2 = 0.9, 0.999
    for _ in range(epochs):
        order = rng.permutation(len(groups))
        for s in range(steps_per_epoch):
            chosen = order[s * batch : (s + 1) * batch]
            pairs = np.array([rng.choice(groups[g], 2, replace=False) for g in chosen])
            x = rows[np.concatenate([pairs[:, 0], pairs[:, 1]])]
            cols, inverse = np.unique(x.indices, return_inverse=True)
            xs = sparse.csr_matrix((x.data, inverse, x.indptr), shape=(x.shape[0], len(cols)))
            w = weights[cols]
            z, norms = _normalized(xs @ w)
            k = len(chosen)
            za, zb = z[:k], z[k:]
            logits = za @ zb.T / temperature
            grad_logits = (_softmax(logits, 1) + _softmax(logits, 0) - 2 * np.eye(k, dtype=np.float32)) / (2 * k)
            grad_z = np.concatenate([grad_logits @ zb, grad_logits.T @ za]) / temperature
            grad_h = (grad_z - z * np.sum(grad_z * z, axis=1, keepdims=True)) / norms
            grad_w = np.asarray(xs.T @ grad_h, dtype=np.float32)
            step += 1
            _adam_rows(weights, m, v, cols, w, grad_w, lr * np.sqrt(1 - b2**step) / (1 - b1**step))
            if on_step:
                on_step(step, total)
    return Encoder(weights)


def _adam_rows(weights: np.ndarray, m: np.ndarray, v: np.ndarray, cols: np.ndarray, w: np.ndarray, grad: np.ndarray,
               rate: float, b1: float = 0.9, b2: float = 0.999) -> None:
    """One lazy Adam step on the weight rows `cols` (`w` their current values, `grad` their gradient),
    in place: each moment row is read and written once (the update is memory-bound)."""
    mc = m[cols]
    mc *= b1
    mc += (1 - b1) * grad
    vc = v[cols]
    vc *= b2
    grad *= grad
    grad *= 1 - b2
    vc += grad
    m[cols] = mc
    v[cols] = vc
    np.sqrt(vc, out=vc)
    vc += 1e-8
    mc /= vc
    mc *= rate
    w -= mc
    weights[cols] = w


def _softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@dataclass
class Taste:
    """A reader's taste, from their library: the TF-IDF centroid, the encoded papers and, when
    fitted against background papers, a linear SVM's weights over the TF-IDF columns."""

    words: np.ndarray
    encoded: np.ndarray
    svm: np.ndarray | None = None  # the SVM's weight per TF-IDF column (its intercept shifts every score alike)


def fit_taste(library_rows: sparse.csr_matrix, library_encoded: np.ndarray,
              background_rows: sparse.csr_matrix | None = None) -> Taste:
    """The library's centroid and encoded papers; with `background_rows` (papers the reader could
    have saved and did not: none of the library's), also arxiv-sanity-lite's SVM, the library
    against them, whose decision function then takes the centroid's place in `score`."""
    words = np.asarray(library_rows.mean(axis=0)).ravel()
    words /= max(float(np.linalg.norm(words)), 1e-12)
    svm = None
    if background_rows is not None and background_rows.shape[0] and library_rows.shape[0]:
        svm = svm_weights(library_rows, background_rows)
    return Taste(words.astype(np.float32), np.asarray(library_encoded, dtype=np.float32), svm)


def svm_weights(positive_rows: sparse.csr_matrix, negative_rows: sparse.csr_matrix) -> np.ndarray:
    """arxiv-sanity-lite's per-reader model (LinearSVC, C=0.01, balanced classes) of the positives
    against the negatives: its weight per column (float32)."""
    rows = sparse.vstack([positive_rows, negative_rows], format="csr")
    model = recs_baselines.svm_model(rows, np.arange(positive_rows.shape[0]))
    return np.asarray(model.coef_, dtype=np.float32).ravel()


def standardized(scores: np.ndarray) -> np.ndarray:
    """Scores as z-scores over the candidates (all equal -> all 0)."""
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 1e-12 else np.zeros_like(scores)


def score(taste: Taste, rows: sparse.csr_matrix, encoded: np.ndarray) -> np.ndarray:
    """Each candidate's score: the mean cosine of its encoded vector with its NEIGHBOURS closest
    library papers, plus SVM_WEIGHT times the taste's SVM decision on its TF-IDF row (or, without an
    SVM, WORDS_WEIGHT times its TF-IDF cosine with the library's centroid), each standardized over
    the candidates (a day's listing)."""
    sims = encoded @ taste.encoded.T
    k = min(NEIGHBOURS, sims.shape[1])
    near = np.sort(sims, axis=1)[:, -k:].mean(axis=1) if k else np.zeros(len(encoded), dtype=np.float32)
    if taste.svm is not None:
        return standardized(near) + SVM_WEIGHT * standardized(np.asarray(rows @ taste.svm).ravel())
    words = np.asarray(rows @ taste.words).ravel()
    return standardized(near) + WORDS_WEIGHT * standardized(words)
