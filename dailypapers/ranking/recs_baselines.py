"""The recommenders `dailypapers eval-recs` compares ours with: random, the TF-IDF centroid of the
library, arxiv-sanity-lite's SVM and zotero-arxiv-daily's time-weighted similarity. Pure functions
over sparse TF-IDF rows (scipy CSR, L2-normalized): a library's rows in, one score per candidate out.

arxiv-sanity-lite (karpathy/arxiv-sanity-lite, compute.py and serve.py): TF-IDF of word 1- and
2-grams, 20,000 features, sublinear tf, max_df 0.1, min_df 5, English stop words; per request a
LinearSVC (C=0.01, balanced classes, tol 1e-6) with the reader's tagged papers as positives and
every other paper as negatives, ranking by its decision function. zotero-arxiv-daily
(TideDra/zotero-arxiv-daily, recommender.py): each candidate's cosine similarity to every library
paper, weighted by 1 / (1 + log10(rank + 1)) with the newest-added paper at rank 0, normalized."""

from __future__ import annotations

import numpy as np
from scipy import sparse

# arxiv-sanity-lite's vectorizer, as compute.py builds it (authors left out: the benchmark hides them).
ARXIV_SANITY_TFIDF = dict(
    strip_accents="unicode",
    lowercase=True,
    analyzer="word",
    stop_words="english",
    token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
    ngram_range=(1, 2),
    max_features=20000,
    norm="l2",
    use_idf=True,
    smooth_idf=True,
    sublinear_tf=True,
    max_df=0.1,
    min_df=5,
)


def arxiv_sanity_vectorizer():
    """An unfitted TfidfVectorizer with arxiv-sanity-lite's settings."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**ARXIV_SANITY_TFIDF)


def random_scores(count: int, rng: np.random.Generator) -> np.ndarray:
    """A random order: the floor every method must clear."""
    return rng.random(count)


def centroid(library: sparse.csr_matrix) -> np.ndarray:
    """The library's mean row, L2-normalized (a dense vector)."""
    mean = np.asarray(library.mean(axis=0)).ravel()
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean


def centroid_scores(library: sparse.csr_matrix, candidates: sparse.csr_matrix) -> np.ndarray:
    """Cosine of each candidate with the library's TF-IDF centroid."""
    return np.asarray(candidates @ centroid(library)).ravel()


def zotero_weights(count: int) -> np.ndarray:
    """zotero-arxiv-daily's time decay: 1 / (1 + log10(rank + 1)), rank 0 the newest-added, summing to 1."""
    weights = 1.0 / (1.0 + np.log10(np.arange(count) + 1.0))
    return weights / weights.sum()


def zotero_scores(library_newest_first, candidates) -> np.ndarray:
    """Each candidate's similarity to every library paper (rows newest-added first), time-weighted.
    Works on sparse TF-IDF rows or dense unit vectors alike."""
    sims = candidates @ library_newest_first.T
    sims = sims.toarray() if sparse.issparse(sims) else np.asarray(sims)
    return sims @ zotero_weights(library_newest_first.shape[0])


def svm_model(rows: sparse.csr_matrix, positive: np.ndarray, *, c: float = 0.01, tol: float = 1e-6):
    """arxiv-sanity-lite's per-reader SVM: `positive` (row indices) against every other row."""
    from sklearn.svm import LinearSVC

    labels = np.zeros(rows.shape[0], dtype=np.int8)
    labels[positive] = 1
    model = LinearSVC(class_weight="balanced", max_iter=10000, tol=tol, C=c)
    model.fit(rows, labels)
    return model


def svm_scores(model, candidates: sparse.csr_matrix) -> np.ndarray:
    """The SVM's decision function on each candidate."""
    return np.asarray(model.decision_function(candidates)).ravel()
