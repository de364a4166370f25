"""The recommendation benchmark (issue 15, point 5): the protocol on a corpus made here (who qualifies,
libraries before the cut and wanted papers after it, authors hidden from the methods, nothing fitted
on papers after the cut), its metrics on a case checked by hand, our encoder learning co-authorship,
and `dailypapers eval-recs` on a sample of the real corpus."""

from __future__ import annotations

import gzip
import json
import math
import random
import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np
import pytest

from support import need_data
from dailypapers.ranking import recs, recs_baselines
from dailypapers.recs_evaluation import Corpus, day_metrics, evaluate_recs, fit_features, sample_tasks, training_groups

CUT = "2026-03-01"
BEFORE_DAYS = [f"2026-01-{d:02d}" for d in range(5, 12)]  # 7 days
AFTER_DAYS = [f"2026-03-{d:02d}" for d in range(2, 7)]  # 5 days
GENERIC = "model data learning results method approach performance propose show task".split()


def _paper(rng, pid, day, authors, vocabulary):
    words = rng.sample(vocabulary, 6) + rng.sample(GENERIC, 4)
    return {"id": pid, "title": " ".join(words[:4]), "abstract": " ".join(words), "authors": authors,
            "categories": ["cs.CL"], "listed": day}


def synthetic_corpus(seed: int = 0) -> Corpus:
    """Six authors with their own words (7 papers before the cut, 5 after, each with a co-author),
    filler papers every day, and three authors the protocol must leave out."""
    rng = random.Random(seed)
    rows = []
    for a in range(6):
        vocabulary = [f"topic{a}term{j}" for j in range(25)]
        for n, day in enumerate(BEFORE_DAYS + AFTER_DAYS):
            rows.append(_paper(rng, f"a{a}-{n}", day, [f"Author {a}", f"Helper {a}"], vocabulary))
    filler = [f"filler{j}" for j in range(200)]
    for day in BEFORE_DAYS + AFTER_DAYS:
        for n in range(10):
            rows.append(_paper(rng, f"f-{day}-{n}", day, [f"Filler {day} {n}"], filler))
    days = BEFORE_DAYS + AFTER_DAYS
    for n in range(41):  # too many papers
        rows.append(_paper(rng, f"p-{n}", days[n % len(days)], ["Prolific"], filler))
    for n in range(11):  # 4 before the cut: too small a library
        rows.append(_paper(rng, f"s-{n}", (BEFORE_DAYS[:4] + AFTER_DAYS * 2)[n], ["Small Library"], filler))
    for n in range(10):  # 2 after the cut: too little to want
        rows.append(_paper(rng, f"w-{n}", (BEFORE_DAYS + BEFORE_DAYS + AFTER_DAYS[:2])[-10:][n], ["Few Wanted"], filler))
    rows.sort(key=lambda r: (r["listed"], r["id"]))
    return Corpus([r["id"] for r in rows], [r["title"] for r in rows], [r["abstract"] for r in rows],
                  [r["categories"] for r in rows], [r["listed"] for r in rows], [r["authors"] for r in rows])


def test_the_protocol_samples_authors_and_splits_at_the_cut():
    corpus = synthetic_corpus()
    tasks = sample_tasks(corpus, CUT, seed=1, users=100)
    # Author n and Helper n both qualify (12 papers, 7 before, 5 after); the other three do not.
    assert sorted(t.author for t in tasks) == sorted([f"Author {a}" for a in range(6)] + [f"Helper {a}" for a in range(6)])
    for task in tasks:
        assert len(task.library) == 7 and all(corpus.listed[r] < CUT for r in task.library)
        assert [day for day, _, _ in task.days] == AFTER_DAYS
        for day, rows, relevant in task.days:
            assert set(rows) == {r for r in range(len(corpus)) if corpus.listed[r] == day}  # the whole day's listing
            assert relevant <= set(rows) and all(task.author in corpus.authors[r] for r in relevant)
    assert len(sample_tasks(corpus, CUT, seed=1, users=3)) == 3
    assert [t.author for t in sample_tasks(corpus, CUT, seed=2, users=3)] == [t.author for t in sample_tasks(corpus, CUT, seed=2, users=3)]


def test_nothing_after_the_cut_and_no_author_reaches_the_methods():
    corpus = synthetic_corpus()
    assert all(corpus.listed[r] < CUT for group in training_groups(corpus, CUT) for r in group)
    features = fit_features(corpus, CUT, seed=1)
    # The authors of papers from the cut on changed: every feature stays the same.
    hidden = Corpus(corpus.ids, corpus.titles, corpus.abstracts, corpus.categories, corpus.listed,
                    [names if day < CUT else ["Someone Else"] for names, day in zip(corpus.authors, corpus.listed, strict=True)])
    other = fit_features(hidden, CUT, seed=1)
    assert (features.sanity != other.sanity).nnz == 0 and np.array_equal(features.encoded, other.encoded)
    # Words first seen after the cut have no column: the vocabulary was fitted before it.
    late = Corpus(corpus.ids, list(corpus.titles), list(corpus.abstracts), corpus.categories, corpus.listed, corpus.authors)
    row = corpus.listed.index(AFTER_DAYS[0])
    late.titles[row], late.abstracts[row] = "neverbefore", "unseenword anotherunseenword"
    assert fit_features(late, CUT, seed=1).sanity[row].nnz == 0


def test_metrics_by_hand():
    rows = np.array([10, 11, 12, 13, 14])
    got = day_metrics(np.array([0.9, 0.5, 0.8, 0.1, 0.7]), rows, {12, 13})  # ranks: 10, 12, 14, 11, 13
    assert got["MRR@10"] == 0.5 and got["Recall@10"] == 1.0
    assert got["nDCG@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3)))
    # Ties keep the listing order; a paper ranked 11th counts for nothing.
    assert day_metrics(np.zeros(5), rows, {11})["MRR@10"] == 0.5
    far = day_metrics(-np.arange(12.0), np.arange(12), {10, 0})
    assert far["MRR@10"] == 1.0 and far["Recall@10"] == 0.5
    weights = recs_baselines.zotero_weights(3)
    raw = np.array([1.0, 1 / (1 + math.log10(2)), 1 / (1 + math.log10(3))])
    assert weights == pytest.approx(raw / raw.sum())


def test_every_method_beats_random_on_distinct_authors():
    results, tasks, _ = evaluate_recs(synthetic_corpus(), CUT, seed=1, users=100)
    got = {r.method: r for r in results}
    assert set(got) == {"random", "TF-IDF centroid", "arxiv-sanity-lite SVM", "zotero-arxiv-daily", "ours"}
    assert all(r.pairs == 5 * len(tasks) == 60 for r in results)
    assert got["random"].metrics["MRR@10"] < 0.6
    for method in ("TF-IDF centroid", "arxiv-sanity-lite SVM", "zotero-arxiv-daily", "ours"):
        assert got[method].metrics["MRR@10"] > 0.9, (method, got[method].metrics)


def test_the_encoder_learns_co_authorship():
    corpus = synthetic_corpus(3)
    before = np.array([day < CUT for day in corpus.listed])
    rows = recs.fit_paper_features(corpus.texts(), corpus.categories, before).rows
    # The six authors' libraries (each also their helper's), before the cut.
    groups = [np.array(g) for g in sorted({tuple(g) for g in training_groups(corpus, CUT) if len(g) == 7})]
    assert len(groups) == 6

    def margin(encoder):
        vectors = encoder.encode(rows)
        same = np.mean([vectors[g] @ vectors[g].T for g in groups])
        other = np.mean([vectors[g] @ vectors[h].T for g in groups for h in groups if g is not h])
        return same - other

    untrained = recs.train_encoder(rows, training_groups(corpus, CUT), epochs=0, seed=1)
    trained = recs.train_encoder(rows, training_groups(corpus, CUT), seed=1)
    assert margin(trained) > margin(untrained) + 0.1
    assert np.allclose(np.linalg.norm(trained.encode(rows), axis=1), 1.0, atol=1e-4)


def test_our_taste_learns_an_svm_against_background_papers():
    corpus = synthetic_corpus(4)
    before = np.array([day < CUT for day in corpus.listed])
    features = fit_features(corpus, CUT, seed=1)
    rows, encoded = features.sanity, features.encoded
    library = np.array([r for r in range(len(corpus)) if before[r] and "Author 0" in corpus.authors[r]])
    background = np.array([r for r in range(len(corpus)) if before[r] and r not in set(library)])
    plain = recs.fit_taste(rows[library], encoded[library])
    taste = recs.fit_taste(rows[library], encoded[library], rows[background])
    assert plain.svm is None and taste.svm is not None and taste.svm.shape == (rows.shape[1],)
    # The SVM weighs the library's own words up and the background's down.
    own = [column for word, column in _columns(corpus, before).items() if word.startswith("topic0")]
    other = [column for word, column in _columns(corpus, before).items() if word.startswith("topic1") or word.startswith("filler")]
    assert own and other and taste.svm[own].min() > 0 > taste.svm[other].max()
    day = np.array([r for r in range(len(corpus)) if corpus.listed[r] == AFTER_DAYS[0]])
    scores = recs.score(taste, rows[day], encoded[day])
    assert "Author 0" in corpus.authors[day[int(np.argmax(scores))]]
    assert not np.allclose(scores, recs.score(plain, rows[day], encoded[day]))  # the SVM, not the centroid, scored


def _columns(corpus, before):
    vectorizer = recs_baselines.arxiv_sanity_vectorizer().set_params(min_df=1, max_df=1.0)
    vectorizer.fit([t for t, b in zip(corpus.texts(), before, strict=True) if b])
    return {w: c for w, c in vectorizer.vocabulary_.items() if " " not in w}


def real_sample(path, out, authors: int = 12, per_day: int = 60):
    """Every paper of `authors` qualifying authors, and the first `per_day` papers of each day they
    have a paper on: a small corpus of real text with real listings."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        papers = [json.loads(line) for line in f]
    counts = Counter(a for p in papers for a in p["authors"])
    before = Counter(a for p in papers if p["listed"] < CUT for a in p["authors"])
    chosen = sorted(a for a, n in counts.items() if 10 <= n <= 40 and before[a] >= 5 and n - before[a] >= 3)[:authors]
    theirs = [p for p in papers if set(p["authors"]) & set(chosen)]
    days = {p["listed"] for p in theirs}
    by_day = defaultdict(list)
    for p in papers:
        if p["listed"] in days:
            by_day[p["listed"]].append(p)
    keep = {p["id"]: p for p in theirs}
    for day in days:
        keep.update((p["id"], p) for p in by_day[day][:per_day])
    with gzip.open(out, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(p) + "\n" for p in keep.values())
    return out


def test_eval_recs_command_on_real_papers(tmp_path, cli_env):
    sample = real_sample(need_data("arxiv-daily", "papers.jsonl.gz"), tmp_path / "sample.jsonl.gz")
    command = [sys.executable, "-m", "dailypapers", "eval-recs", str(sample), "--users", "5", "--no-progress"]
    result = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sample.jsonl.gz: ") and "cut 2026-03-01, seed 1, 5 authors" in lines[0]
    header = [c.strip() for c in lines[1].strip("|").split("|")]
    assert header == ["method", "MRR@10", "Recall@10", "nDCG@10", "(author, day) pairs", "s/author"]
    rows = {line.strip("|").split("|")[0].strip(): [c.strip() for c in line.strip("|").split("|")[1:]] for line in lines[3:]}
    assert list(rows) == ["random", "TF-IDF centroid", "arxiv-sanity-lite SVM", "zotero-arxiv-daily", "ours"]
    assert len({cells[3] for cells in rows.values()}) == 1 and int(rows["ours"][3].replace(",", "")) >= 5
    assert all(0.0 <= float(v) <= 1.0 for cells in rows.values() for v in cells[:3])
    assert float(rows["TF-IDF centroid"][0]) > float(rows["random"][0])
    for args, message in ((["--cut", "March"], "--cut: a date as YYYY-MM-DD"), (["--cut", "2020-01-01"], "no author qualifies")):
        bad = subprocess.run(command + args, env=cli_env, capture_output=True, text=True, timeout=300)
        assert bad.returncode == 1 and bad.stderr.strip().startswith("error: ") and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    missing = subprocess.run(command[:4] + [str(tmp_path / "nope.jsonl.gz")], env=cli_env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no such file" in missing.stderr
