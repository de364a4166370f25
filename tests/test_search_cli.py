"""`dailypapers index` and `dailypapers search` as a user runs them: progress, resuming after a kill,
HF-shaped JSON, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from dailypapers.index.model import MODEL_KEY
from dailypapers.store import embeddings as embedding_store
from dailypapers.store.engine import Store
from support import MODELS, arxiv_sample
from test_search import CRAFTED, write_jsonl


def dp(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "dailypapers", *args], env=env, capture_output=True, text=True, timeout=timeout)


def embedded(settings) -> int:
    store = Store(settings)
    try:
        with store.session() as session:
            return embedding_store.count(session, MODEL_KEY)
    finally:
        store.dispose()


def test_index_resumes_after_a_kill_then_search(cli_env, settings, tmp_path):
    env = dict(cli_env, DAILYPAPERS_MODELS_DIR=str(MODELS), DAILYPAPERS_EMBEDDING_BATCH_SIZE="4")
    papers = arxiv_sample(100, step=631) + CRAFTED
    assert dp(env, "ingest", str(write_jsonl(tmp_path / "p.jsonl", papers))).returncode == 0
    run = subprocess.Popen([sys.executable, "-m", "dailypapers", "index", "--progress"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while embedded(settings) < 12 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    done = embedded(settings)
    assert 12 <= done < len(papers), done  # killed part way, whole batches kept
    assert done % 4 == 0

    resumed = dp(env, "index", "--progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(papers) - done} embedded (onnx-int8)" in resumed.stdout
    assert "papers" in resumed.stderr and "/s" in resumed.stderr  # the progress bar with its rate
    assert embedded(settings) == len(papers)
    assert " 0 embedded" in dp(env, "index").stdout

    plain = dp(env, "search", "quokka sparse attention", "--limit", "3")
    assert plain.returncode == 0, plain.stderr
    assert "1. <script>alert(1)</script> Sparse Attention for Quokka Detection" in plain.stdout
    assert "arXiv:2601.00001" in plain.stdout and "results in" in plain.stdout
    items = json.loads(dp(env, "search", "--json", "author:Hopper").stdout)
    assert [i["paper"]["id"] for i in items] == ["2601.00002"]
    assert items[0]["title"] == CRAFTED[1]["title"] and items[0]["paper"]["authors"][0]["name"] == "Grace Hopper"
    assert {"paper", "title", "summary", "publishedAt", "numComments"} <= set(items[0])
    dated = json.loads(dp(env, "search", "--json", "--sort", "date", "--category", "cs.CV", "networks").stdout)
    assert all("cs.CV" in i["paper"]["categories"] for i in dated)


def test_search_errors_are_one_line(cli_env):
    for args, message in (
        (("search", "cat:!!"), "not an arXiv category"),
        (("search", ""), "the query is empty"),
        (("search", "x", "--sort", "random"), "sort must be one of"),
        (("search", "x", "--since", "yesterday"), "YYYY-MM-DD"),
        (("search", "y" * 5000), "too long"),
        (("search", "ti:"), "ti: needs"),
        (("search", "id:quokka"), "not an arXiv id"),
        (("index", "--runtime", "tpu"), "runtime must be one of"),
    ):
        result = dp(cli_env, *args)
        assert result.returncode == 1, (args, result.stdout)
        line = result.stderr.strip()
        assert line.count("\n") == 0 and line.startswith("error: ") and message in line, (args, line)


def test_search_reads_arxiv_ids_and_the_query_language(cli_env, tmp_path):
    env = dict(cli_env, DAILYPAPERS_SEARCH_SEMANTIC="0")
    assert dp(env, "ingest", str(write_jsonl(tmp_path / "p.jsonl", CRAFTED))).returncode == 0
    for form in ("https://arxiv.org/abs/2601.00002v1", "arXiv:2601.00002", "2601.00002 quokka"):
        found = dp(env, "search", form)
        assert found.returncode == 0, found.stderr
        assert found.stdout.startswith("  1. Graph neural networks for molecule property prediction"), found.stdout
        assert "(id)" in found.stdout.splitlines()[1]
    unknown = dp(env, "search", "arXiv:2412.99999v2")
    assert unknown.returncode == 0 and "dailypapers ingest arxiv:2412.99999" in unknown.stdout, unknown.stdout
    items = json.loads(dp(env, "search", "--json", 'au:"G. Hopper" OR ti:quokka ANDNOT au:turing').stdout)
    assert [i["paper"]["id"] for i in items] == ["2601.00002"]
