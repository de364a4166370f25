"""Recommendation quality, offline: `dailypapers eval-recs` measures ours against random, the TF-IDF
centroid, arxiv-sanity-lite's SVM and zotero-arxiv-daily's weighting on a corpus of daily listings.

The protocol (issue 15, point 5): sample authors with 10 to 40 papers in the corpus; an author's
papers listed before the cut date are their library (at least 5), those listed from the cut on are the
papers they will want (at least 3). For each day from the cut on with one of the author's papers,
every method ranks all papers listed that day, seeing only titles, abstracts and categories: the
authors of the papers it ranks are hidden. Everything a method learns from the corpus (the TF-IDF
vocabulary and weights, our co-authorship encoder) is fitted on papers listed before the cut only,
once per run. Scores: MRR@10, Recall@10, nDCG@10 over the (author, day) pairs."""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DailyPapersError
from .ranking import recs, recs_baselines
from .ranking.hybrid import mrr_at, ndcg_at, recall_at

MIN_PAPERS, MAX_PAPERS = 10, 40
MIN_LIBRARY, MIN_WANTED = 5, 3
METRICS = ("MRR@10", "Recall@10", "nDCG@10")
BACKGROUND = 5000  # papers listed before the cut that our per-author SVM learns against
_SPACES = re.compile(r"\s+")


@dataclass
class Corpus:
    """Papers in listing order: what the methods may see (text, categories, date) and, apart, the
    authors, which only the protocol (and training on papers before the cut) reads."""

    ids: list[str]
    titles: list[str]
    abstracts: list[str]
    categories: list[list[str]]
    listed: list[str]  # YYYY-MM-DD
    authors: list[list[str]]

    def __len__(self) -> int:
        return len(self.ids)

    def texts(self) -> list[str]:
        return [_SPACES.sub(" ", f"{t} {a}").strip() for t, a in zip(self.titles, self.abstracts, strict=True)]


def load_corpus(path: Path) -> Corpus:
    """Read a jsonl (or .jsonl.gz) of `{id, title, abstract, authors, categories, listed}` objects."""
    path = Path(path)
    if not path.is_file():
        raise DailyPapersError(f"{path}: no such file (an arxiv-daily papers.jsonl.gz)")
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                item = json.loads(line)
                if not isinstance(item, dict) or not item.get("id") or not re.fullmatch(r"\d{4}-\d\d-\d\d", str(item.get("listed", ""))):
                    raise DailyPapersError(f"{path}, line {number}: a paper needs an id and a listed date (YYYY-MM-DD)")
                rows.append(item)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DailyPapersError(f"{path}: not a readable jsonl corpus ({e.__class__.__name__}: {e})") from None
    rows.sort(key=lambda r: (r["listed"], str(r["id"])))
    return Corpus(
        ids=[str(r["id"]) for r in rows],
        titles=[str(r.get("title") or "") for r in rows],
        abstracts=[str(r.get("abstract") or "") for r in rows],
        categories=[[str(c) for c in (r.get("categories") or [])] for r in rows],
        listed=[r["listed"] for r in rows],
        authors=[[str(a).strip() for a in (r.get("authors") or []) if str(a).strip()] for r in rows],
    )


@dataclass
class Task:
    """One sampled author: the library (row indices, oldest first) and, per day from the cut on,
    the day's listed rows and which of them are the author's."""

    author: str
    library: np.ndarray
    days: list[tuple[str, np.ndarray, set[int]]] = field(default_factory=list)


def sample_tasks(corpus: Corpus, cut: str, seed: int, users: int) -> list[Task]:
    """The protocol's authors: 10-40 papers, at least 5 before the cut and 3 from it on; `users` of
    them drawn with `seed` (fewer when fewer qualify)."""
    papers: dict[str, list[int]] = defaultdict(list)
    for row, names in enumerate(corpus.authors):
        for name in set(names):
            papers[name].append(row)
    by_day: dict[str, list[int]] = defaultdict(list)
    for row, day in enumerate(corpus.listed):
        by_day[day].append(row)
    eligible = []
    for name in sorted(papers):
        rows = papers[name]
        before = [r for r in rows if corpus.listed[r] < cut]
        after = [r for r in rows if corpus.listed[r] >= cut]
        if MIN_PAPERS <= len(rows) <= MAX_PAPERS and len(before) >= MIN_LIBRARY and len(after) >= MIN_WANTED:
            eligible.append((name, before, after))
    chosen = random.Random(seed).sample(eligible, min(users, len(eligible)))
    tasks = []
    for name, before, after in chosen:
        task = Task(name, np.array(before, dtype=np.int64))
        wanted: dict[str, set[int]] = defaultdict(set)
        for r in after:
            wanted[corpus.listed[r]].add(r)
        for day in sorted(wanted):
            task.days.append((day, np.array(by_day[day], dtype=np.int64), wanted[day]))
        tasks.append(task)
    return tasks


def day_metrics(scores: np.ndarray, rows: np.ndarray, relevant: set[int]) -> dict[str, float]:
    """MRR@10, Recall@10 and nDCG@10 of one day's ranking (highest score first; ties by listing order)."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranked = [str(int(rows[i])) for i in order[:10]]
    judged = {str(r): 1 for r in relevant}
    return {"MRR@10": mrr_at(ranked, judged), "Recall@10": recall_at(ranked, judged, 10), "nDCG@10": ndcg_at(ranked, judged)}


@dataclass
class RecsResult:
    """One method over the run: mean metrics, pairs scored, and the seconds it took (fit and rank)."""

    method: str
    metrics: dict[str, float]
    pairs: int
    seconds: float


@dataclass
class Features:
    """What the methods see, fitted before the cut: every paper's TF-IDF row (arxiv-sanity-lite's
    vectorizer, unit length) and our co-authorship encoder's vector (of its own, larger TF-IDF
    vocabulary and the categories)."""

    sanity: object
    encoded: np.ndarray
    seconds: float


def training_groups(corpus: Corpus, cut: str) -> list[np.ndarray]:
    """Papers listed before the cut, grouped by author (authors with two or more): the only place
    authors reach a method, as the co-authorship signal the encoder trains on."""
    groups: dict[str, list[int]] = defaultdict(list)
    for row, names in enumerate(corpus.authors):
        if corpus.listed[row] < cut:
            for name in set(names):
                groups[name].append(row)
    return [np.array(rows, dtype=np.int64) for _, rows in sorted(groups.items()) if len(rows) >= 2]


def fit_features(corpus: Corpus, cut: str, *, seed: int, on_step=None) -> Features:
    """Fit every corpus-level model on the papers before the cut, then transform all papers."""
    started = time.perf_counter()
    before = np.array([day < cut for day in corpus.listed])
    if before.sum() < 2:
        raise DailyPapersError(f"--cut {cut}: fewer than two papers are listed before it")
    texts = corpus.texts()
    fit_texts = [t for t, b in zip(texts, before, strict=True) if b]
    vectorizer = recs_baselines.arxiv_sanity_vectorizer()
    if len(fit_texts) < 200:  # a tiny corpus (the tests): keep every word
        vectorizer.set_params(min_df=1, max_df=1.0)
    vectorizer.fit(fit_texts)
    sanity = recs.unit_rows(vectorizer.transform(texts).tocsr())
    ours = recs.fit_paper_features(texts, corpus.categories, before).rows
    encoder = recs.train_encoder(ours, training_groups(corpus, cut), seed=seed, on_step=on_step)
    return Features(sanity, encoder.encode(ours), time.perf_counter() - started)


METHODS = ("random", "TF-IDF centroid", "arxiv-sanity-lite SVM", "zotero-arxiv-daily", "ours")


def evaluate_recs(corpus: Corpus, cut: str, *, seed: int = 1, users: int = 300,
                  methods: tuple[str, ...] = METHODS, on_task=None, on_step=None) -> tuple[list[RecsResult], list[Task], Features]:
    """Run the protocol: sample the authors, fit the corpus models before the cut, and score every
    method on every (author, day) pair."""
    tasks = sample_tasks(corpus, cut, seed, users)
    if not tasks:
        raise DailyPapersError(f"no author qualifies at cut {cut} (10-40 papers, >= 5 before the cut, >= 3 from it on)")
    features = fit_features(corpus, cut, seed=seed, on_step=on_step)
    before_rows = np.flatnonzero(np.array([day < cut for day in corpus.listed]))
    totals = {m: defaultdict(float) for m in methods}
    seconds = dict.fromkeys(methods, 0.0)
    pairs = 0
    for number, task in enumerate(tasks, 1):
        for method in methods:
            started = time.perf_counter()
            rank = _ranker(method, task, features, before_rows, seed)
            for day, rows, relevant in task.days:
                for name, value in day_metrics(rank(day, rows), rows, relevant).items():
                    totals[method][name] += value
            seconds[method] += time.perf_counter() - started
        pairs += len(task.days)
        if on_task:
            on_task(number, len(tasks))
    results = [RecsResult(m, {k: totals[m][k] / pairs for k in METRICS}, pairs, seconds[m]) for m in methods]
    return results, tasks, features


def _ranker(method: str, task: Task, features: Features, before_rows: np.ndarray, seed: int):
    """A function (day, rows) -> scores for one author's library, fitted once."""
    library = task.library
    sanity = features.sanity
    if method == "random":
        def rank(day, rows):
            return recs_baselines.random_scores(len(rows), np.random.default_rng([seed, len(library), int(day.replace("-", ""))]))
        return rank
    if method == "TF-IDF centroid":
        center = recs_baselines.centroid(sanity[library])
        return lambda day, rows: np.asarray(sanity[rows] @ center).ravel()
    if method == "arxiv-sanity-lite SVM":
        # Every paper the reader could have seen by the cut is a row: the library positive, the rest negative.
        model = recs_baselines.svm_model(sanity[before_rows], np.searchsorted(before_rows, library))
        return lambda day, rows: recs_baselines.svm_scores(model, sanity[rows])
    if method == "zotero-arxiv-daily":
        newest_first = sanity[library[::-1]]
        return lambda day, rows: recs_baselines.zotero_scores(newest_first, sanity[rows])
    if method == "ours":
        # Our SVM's negatives: a sample of the papers listed before the cut, outside the library.
        others = np.setdiff1d(before_rows, library)
        rng = np.random.default_rng([seed, int(library[0]), len(library)])
        background = np.sort(rng.choice(others, min(BACKGROUND, len(others)), replace=False))
        taste = recs.fit_taste(sanity[library], features.encoded[library], sanity[background])
        return lambda day, rows: recs.score(taste, sanity[rows], features.encoded[rows])
    raise DailyPapersError(f"unknown method {method!r}")
