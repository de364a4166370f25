"""Ingest semantics on the real fixtures, on SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from support import need_data
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store import papers as paper_store
from dailypapers.store.schema import Paper
from helpers import consistency_problems, table_counts


def all_fixture_files():
    base = need_data("fixtures")
    return sorted(
        [str(p) for p in (base / "arxiv-api").glob("*.xml")]
        + [str(p) for p in (base / "oai-pmh").glob("*.xml")]
        + [str(base / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.sample200.json")]
        + [str(base / "hf-api" / "daily_papers_2024-10-25_first3items.json")]
    )


def run(store, *paths, **kw):
    return ingest_job(store, **kw).run(list(map(str, paths)))


def test_every_fixture_then_again_changes_nothing(store):
    files = all_fixture_files()
    first = run(store, *files)
    assert first.new > 300 and first.rejected == 4  # abc + three idDoesNotExist responses
    assert first.total == first.new + first.updated + first.unchanged + first.rejected
    assert consistency_problems(store) == []
    counts = table_counts(store)
    second = run(store, *files)
    assert (second.new, second.updated) == (0, 0)
    assert second.unchanged == first.total - first.rejected
    assert table_counts(store) == counts
    with store.session() as session:
        p = paper_store.detail(session, "2410.17243")
    assert p.paper.upvotes_imported == 64 and p.days[0].isoformat() == "2024-10-25"
    assert [a["name"] for a in p.paper.authors][:2] == ["Zesen Cheng", "Hang Zhang"]
    with store.session() as session:
        old = paper_store.get(session, "astro-ph/0601001")
    assert old.journal_ref == "ActaAstron.56:1-50,2006"


def _api_entry_versions(tmp_path):
    """The real 2104.12255v1 response, and the same entry as a v2 with a new title and date."""
    v1 = need_data("fixtures", "arxiv-api", "id_2104.12255v1_s0_m100_6ae69987ffe1.xml").read_text()
    v2 = v1.replace("2104.12255v1</id>", "2104.12255v2</id>")
    title_start = v2.index("<title>", v2.index("<entry>")) + len("<title>")
    v2 = v2[:title_start] + "Revised: " + v2[title_start:]
    (tmp_path / "v1.xml").write_text(v1)
    (tmp_path / "v2.xml").write_text(v2)
    return tmp_path / "v1.xml", tmp_path / "v2.xml"


def _paper(store, arxiv_id):
    with store.session() as session:
        return paper_store.get(session, arxiv_id)


def test_newer_version_updates_and_keeps_history(store, tmp_path):
    v1, v2 = _api_entry_versions(tmp_path)
    assert run(store, v1).new == 1
    report = run(store, v2)
    assert (report.new, report.updated) == (0, 1)
    paper = _paper(store, "2104.12255")
    assert paper.version == 2 and paper.title.startswith("Revised: ")
    assert [v.version for v in paper.versions] == [1, 2]
    assert paper.versions[0].title and not paper.versions[0].title.startswith("Revised")


def test_older_version_never_overwrites_newer(store, tmp_path):
    v1, v2 = _api_entry_versions(tmp_path)
    run(store, v2)
    report = run(store, v1)
    assert report.new == 0
    paper = _paper(store, "2104.12255")
    assert paper.version == 2 and paper.title.startswith("Revised: ")
    assert [v.version for v in paper.versions] == [1, 2]  # the history still learns v1's title
    assert run(store, v1).unchanged == 1


def test_malformed_records_are_rejected_with_position_and_the_rest_stored(store, tmp_path):
    src = need_data("arxiv-daily", "papers.jsonl.gz")
    with gzip.open(src) as f:
        good = [json.loads(next(f)) for _ in range(3)]
    bad_id = dict(good[2], id="not-an-id")
    no_title = dict(good[1])
    del no_title["title"]
    lines = [json.dumps(good[0]), "{not json", json.dumps(no_title), json.dumps(bad_id), json.dumps(good[1])]
    path = tmp_path / "listing.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = run(store, path)
    assert (report.new, report.rejected) == (2, 3)
    reasons = {r.position: r.reason for r in report.rejections}
    assert set(reasons) == {"line 2", "line 3", "line 4"}
    assert "invalid JSON" in reasons["line 2"] and "title" in reasons["line 3"] and "not-an-id" in reasons["line 4"]
    assert consistency_problems(store) == []


def test_hf_upvotes_follow_a_later_snapshot(store, tmp_path):
    path = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    run(store, path)
    later = {}
    tsv = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_all_items_summary.tsv")
    for line in tsv.read_text().splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) > 5 and cols[5].strip():
            later[cols[1]] = int(cols[5])
    items = json.loads(path.read_text())
    for item in items:
        item["paper"]["upvotes"] = later[item["paper"]["id"]]
    snapshot_b = tmp_path / "snapshot_b.json"
    snapshot_b.write_text(json.dumps(items))
    report = run(store, snapshot_b)
    assert report.updated == 3
    for item in items:
        assert _paper(store, item["paper"]["id"]).upvotes_imported == later[item["paper"]["id"]]


def test_listing_and_hf_for_the_same_paper_make_one_paper_listed_and_featured(store, tmp_path):
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    first = json.loads(hf.read_text())[0]["paper"]
    listing = tmp_path / "listing.jsonl"
    listing.write_text(
        json.dumps(
            {"id": first["id"], "title": first["title"], "authors": [a["name"] for a in first["authors"]],
             "categories": ["cs.CV", "cs.LG"], "comment": None, "abstract": first["summary"], "listed": "2024-10-23"}
        )
        + "\n"
    )
    run(store, listing)
    run(store, hf)
    with store.session() as session:
        detail = paper_store.detail(session, first["id"])
    assert [d.isoformat() for d in detail.days] == ["2024-10-25"]  # featured by HF; listed on the 23rd
    assert detail.paper.first_featured.isoformat() == "2024-10-25"
    from dailypapers.store import listings

    with store.session() as session:
        listed = listings.pairs_between(session, None, None)
    assert [d.isoformat() for _, d in listed] == ["2024-10-23"]
    assert detail.paper.categories == ["cs.CV", "cs.LG"]  # HF knows none; the listing's stay
    assert consistency_problems(store) == []


def _subset(tmp_path, n):
    src = need_data("arxiv-daily", "papers.jsonl.gz")
    out = tmp_path / f"first{n}.jsonl.gz"
    with gzip.open(src) as f, gzip.open(out, "wb", compresslevel=1) as g:
        for _ in range(n):
            g.write(next(f))
    return out


@pytest.mark.slow
def test_killed_run_leaves_whole_papers_and_a_rerun_completes(store, cli_env, tmp_path):
    n = 12000
    path = _subset(tmp_path, n)
    env = dict(cli_env, DAILYPAPERS_INGEST_BATCH_SIZE="400")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "ingest", "--no-index", str(path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with store.session() as session:
            stored = len(session.execute(select(Paper.id).limit(2000)).all())
        if stored >= 1200:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be killed; make it larger"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = table_counts(store)
    assert 0 < partial["papers"] < n
    assert partial["papers"] % 400 == 0  # whole batches only
    assert partial["listings"] == partial["papers"] == partial["ingested_records"]
    assert consistency_problems(store) == []
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "ingest", "--no-index", str(path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"{n - partial['papers']} new" in done.stdout and f"{partial['papers']} unchanged" in done.stdout
    final = table_counts(store)
    assert final["papers"] == final["listings"] == n
    assert consistency_problems(store) == []
