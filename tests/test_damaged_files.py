"""Damaged input files at the command line: one line naming the file and the fault, exit status 1,
the whole batches before the damage stored, the run recorded as failed. Small files are read in the
ingesting process, files of 4 MB and more by a second one (ingest/pipeline.py); both are tried."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest

from support import need_data
from dailypapers.ingest.run import PARALLEL_MIN_BYTES
from dailypapers.store import runs as run_store
from helpers import consistency_problems, table_counts

BATCH = 500


def corpus_gzip(tmp_path, lines: int) -> bytes:
    src = need_data("arxiv-daily", "papers.jsonl.gz")
    with gzip.open(src) as f:
        data = b"".join(next(f) for _ in range(lines))
    return gzip.compress(data, compresslevel=6)


def ingest_cli(env, path):
    env = dict(env, DAILYPAPERS_INGEST_BATCH_SIZE=str(BATCH))
    return subprocess.run(
        [sys.executable, "-m", "dailypapers", "ingest", "--no-index", str(path)],
        env=env, capture_output=True, text=True, timeout=300,
    )


def assert_failed_cleanly(result, store, path, words: list[str]) -> int:
    assert result.returncode == 1, (result.returncode, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in err and "\n" not in err, err
    assert err.startswith("error: ") and path.name in err, err
    for word in words:
        assert word in err, (word, err)
    stored = table_counts(store)["papers"]
    assert stored > 0 and stored % BATCH == 0, stored  # whole batches, and some of them
    assert consistency_problems(store) == []
    assert run_store.recent(store.session(), 1)[0]["status"] == "failed"
    return stored


def test_a_small_cut_gzip_names_the_file_and_keeps_whole_batches(store, cli_env, tmp_path):
    data = corpus_gzip(tmp_path, 3000)
    path = tmp_path / "small.jsonl.gz"
    path.write_bytes(data[: len(data) * 6 // 10])
    assert path.stat().st_size < PARALLEL_MIN_BYTES
    stored = assert_failed_cleanly(ingest_cli(cli_env, path), store, path, ["cut short"])
    assert stored >= 1000


@pytest.mark.slow
def test_a_large_cut_gzip_read_by_the_second_process_fails_the_same_way(store, cli_env, tmp_path):
    data = corpus_gzip(tmp_path, 9000)
    path = tmp_path / "large.jsonl.gz"
    path.write_bytes(data[: len(data) * 9 // 10])
    assert path.stat().st_size >= PARALLEL_MIN_BYTES
    stored = assert_failed_cleanly(ingest_cli(cli_env, path), store, path, ["cut short"])
    assert stored >= 6000


def damaged(data: bytes, at: float, byte: bytes) -> bytes:
    out = bytearray(data)
    middle = int(len(out) * at)
    out[middle : middle + 64] = byte * 64
    return bytes(out)


def test_a_gzip_damaged_in_the_middle(store, cli_env, tmp_path):
    path = tmp_path / "middle.jsonl.gz"
    path.write_bytes(damaged(corpus_gzip(tmp_path, 3000), 0.75, b"\xff"))  # zlib: invalid block type
    assert_failed_cleanly(ingest_cli(cli_env, path), store, path, ["damaged", "invalid block type"])


def test_a_gzip_whose_damage_only_its_checksum_shows(store, cli_env, tmp_path):
    """Deflate has no checksum of its own: this damage decodes to other bytes, and gzip's CRC at the
    end of the file is what finds it. Records read after the damage that still pass every check may
    be stored by then (a rerun of the repaired file corrects them); the run still fails."""
    path = tmp_path / "middle.jsonl.gz"
    path.write_bytes(damaged(corpus_gzip(tmp_path, 3000), 0.5, b"\x55"))
    result = ingest_cli(cli_env, path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and path.name in result.stderr and "damaged (CRC check failed" in result.stderr
    assert run_store.recent(store.session(), 1)[0]["status"] == "failed"
    assert consistency_problems(store) == []


@pytest.mark.slow
def test_a_large_gzip_damaged_in_the_middle(store, cli_env, tmp_path):
    path = tmp_path / "middle-large.jsonl.gz"
    path.write_bytes(damaged(corpus_gzip(tmp_path, 9000), 0.5, b"\xff"))
    assert path.stat().st_size >= PARALLEL_MIN_BYTES
    assert_failed_cleanly(ingest_cli(cli_env, path), store, path, ["damaged", "invalid block type"])


def test_a_rerun_on_the_whole_file_finishes_the_job(store, cli_env, tmp_path):
    data = corpus_gzip(tmp_path, 3000)
    path = tmp_path / "papers.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    first = ingest_cli(cli_env, path)
    assert first.returncode == 1
    stored = table_counts(store)["papers"]
    path.write_bytes(data)
    second = ingest_cli(cli_env, path)
    assert second.returncode == 0, second.stderr
    assert f"{3000 - stored} new" in second.stdout and f"{stored} unchanged" in second.stdout
    assert run_store.recent(store.session(), 1)[0]["status"] == "done"
