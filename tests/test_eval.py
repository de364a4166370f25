"""Evaluation: the metrics, the BEIR reader, and hybrid search at least as good as either part on a
labeled set (title-to-abstract over 500 real papers), through `dailypapers eval` too."""

from __future__ import annotations

import gzip
import json
import math
import re
import subprocess
import sys

import pytest

from support import MODELS, ROOT, arxiv_sample
from dailypapers.evaluation import evaluate_beir, load_beir, split_of
from dailypapers.config import Settings
from dailypapers.errors import DailyPapersError
from dailypapers.ranking import hybrid

CACHE = ROOT / "test-artifacts" / "eval-cache"


def test_metrics_by_hand():
    relevant = {"a": 1, "b": 2}
    ranked = ["x", "b", "y", "a"]
    assert hybrid.mrr_at(ranked, relevant) == 0.5
    assert hybrid.mrr_at(["x"] * 10 + ["a"], relevant) == 0.0  # beyond 10
    assert hybrid.recall_at(ranked, relevant, 2) == 0.5 and hybrid.recall_at(ranked, relevant, 10) == 1.0
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert hybrid.ndcg_at(ranked, relevant) == pytest.approx(dcg / idcg)
    assert hybrid.ndcg_at(["b", "a"], relevant) == pytest.approx(1.0)
    scores = hybrid.evaluate({"q1": ["a"], "q2": []}, {"q1": {"a": 1}, "q2": {"z": 1}})
    assert scores["MRR@10"] == 0.5 and scores["Recall@100"] == 0.5


def test_fusion_is_each_part_at_the_ends():
    bm25 = {1: 9.0, 2: 5.0, 3: 1.0}
    dense = {1: 0.2, 2: 0.9, 4: 0.5}
    assert [i for i, _ in hybrid.fuse(bm25, dense | {3: 0.1}, 0.0)][:3] == [1, 2, 3]
    assert [i for i, _ in hybrid.fuse(bm25 | {4: 0.0}, dense | {3: 0.1}, 1.0)] == [2, 4, 1, 3]
    # A paper without a vector yet ranks by its words.
    fused = dict(hybrid.fuse({1: 9.0, 5: 9.0}, {1: 0.2, 2: 0.9}, 0.5))
    assert fused[5] == 1.0 and fused[5] > fused[1]
    assert hybrid.normalize({1: 3.0}) == {1: 1.0} and hybrid.fuse({}, {}, 0.5) == []


def write_beir(folder, docs, queries, qrels):
    (folder / "qrels").mkdir(parents=True)
    with gzip.open(folder / "corpus.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels))
    return folder


@pytest.fixture(scope="module")
def title_to_abstract(tmp_path_factory):
    """500 real arXiv papers: each title is a query whose one relevant document is its abstract."""
    papers = arxiv_sample(500)
    space = re.compile(r"\s+")
    docs = [{"_id": p["id"], "title": "", "text": space.sub(" ", p["abstract"]).strip()} for p in papers]
    queries = [{"_id": p["id"], "text": space.sub(" ", p["title"]).strip()} for p in papers]
    qrels = [(p["id"], p["id"], 1) for p in papers]
    return write_beir(tmp_path_factory.mktemp("beir") / "title-abstract", docs, queries, qrels)


def test_load_beir(tmp_path, title_to_abstract):
    data = load_beir(title_to_abstract)
    assert len(data.doc_ids) == 500 and len(data.queries) == 500 and data.qrels[data.doc_ids[0]] == {data.doc_ids[0]: 1}
    folder = write_beir(tmp_path / "x", [{"_id": "d1", "title": "T", "text": "x"}], [{"_id": "q1", "text": "a"}, {"_id": "q2", "text": "b"}],
                        [("q1", "d1", 1), ("q2", "d1", 0)])
    small = load_beir(folder)
    assert list(small.queries) == ["q1"]  # a query without relevant documents is not scored
    with pytest.raises(DailyPapersError, match="not a BEIR folder"):
        load_beir(tmp_path)
    assert {split_of(str(i)) for i in range(20)} == {"tune", "test"} and split_of("7") == split_of("7")


def test_hybrid_is_at_least_as_good_as_either_part(title_to_abstract, tmp_path):
    settings = Settings(data_dir=tmp_path, models_dir=MODELS)
    results = {r.method: r for r in evaluate_beir(load_beir(title_to_abstract), settings, cache_dir=CACHE)}
    assert set(results) == {"fulltext", "semantic", "hybrid"}
    for r in results.values():
        assert r.queries == 500 and all(0.0 <= v <= 1.0 for v in r.metrics.values())
    full, dense, mixed = results["fulltext"].metrics, results["semantic"].metrics, results["hybrid"].metrics
    assert full["MRR@10"] > 0.7 and dense["MRR@10"] > 0.6  # both parts work on their own
    for metric in ("MRR@10", "nDCG@10", "Recall@10"):
        assert mixed[metric] >= max(full[metric], dense[metric]), (metric, full, dense, mixed)


def test_eval_command_prints_the_table(title_to_abstract, cli_env, tmp_path):
    env = dict(cli_env, DAILYPAPERS_MODELS_DIR=str(MODELS))
    result = subprocess.run(
        [sys.executable, "-m", "dailypapers", "eval", str(title_to_abstract), "--cache-dir", str(CACHE), "--weights", "0,1", "--sample", "100"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("title-abstract: 500 documents, 100 queries")
    header = [c.strip() for c in lines[1].strip("|").split("|")]
    assert header == ["method", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "ms/query"]
    rows = {line.strip("|").split("|")[0].strip(): [float(c) for c in line.strip("|").split("|")[1:]] for line in lines[3:]}
    assert set(rows) == {"fulltext", "semantic", "hybrid w=0", "hybrid w=1"}
    assert rows["hybrid w=0"][:4] == rows["fulltext"][:4]  # weight 0 is BM25 exactly
    assert rows["hybrid w=1"][:4] == rows["semantic"][:4]  # weight 1 is the dense ranking
    bad = subprocess.run([sys.executable, "-m", "dailypapers", "eval", str(tmp_path)], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error: ") and "not a BEIR folder" in bad.stderr
