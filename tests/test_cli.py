"""The real `dailypapers` command in a subprocess: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import psutil

import pytest

from support import ROOT, env_for, make_settings, need_data
from digesthelp import free_port
from dailypapers.cli.docs import cli_markdown
from dailypapers.config import settings_markdown
from dailypapers.store import papers as paper_store
from dailypapers.store.engine import Store


def dp(env, *args):
    return subprocess.run([sys.executable, "-m", "dailypapers", *args], env=env, capture_output=True, text=True, timeout=300)


def one_line_error(result):
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def test_unknown_format_exits_non_zero_and_stores_nothing(cli_env, settings, tmp_path):
    good = need_data("fixtures", "arxiv-api", "id_1707.08567_s0_m100_6a1afebfc6a3.xml")
    bad = tmp_path / "notes.txt"
    bad.write_text("these are not papers\n")
    line = one_line_error(dp(cli_env, "ingest", str(good), str(bad)))
    assert line.startswith("error: ") and "notes.txt" in line and "not a known input format" in line
    store = Store(settings)
    with store.session() as session:
        assert paper_store.count(session) == 0
    store.dispose()


def test_ingest_show_and_list(cli_env):
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    snap = need_data("fixtures", "kaggle-snapshot", "arxiv-metadata-oai-snapshot.sample200.json")
    result = dp(cli_env, "ingest", "--progress", str(hf), str(snap))
    assert result.returncode == 0, result.stderr
    assert "203 new, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    assert "papers" in result.stderr and "/s" in result.stderr  # the progress bar with its rate

    shown = dp(cli_env, "papers", "show", "0704.0001v2")
    assert shown.returncode == 0
    assert "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies" in shown.stdout
    assert "C. Balázs" in shown.stdout and "v1 (2007-04-02), v2 (2007-07-24)" in shown.stdout

    as_json = json.loads(dp(cli_env, "papers", "show", "--json", "2410.17243").stdout)
    assert as_json["id"] == "2410.17243" and as_json["upvotes"] == 64 and as_json["featuredOn"] == ["2024-10-25"]

    listed = dp(cli_env, "papers", "list", "--date", "2024-10-25", "--json")
    items = json.loads(listed.stdout)
    assert [i["paper"]["id"] for i in items] == ["2410.17243", "2410.16251", "2410.18533"]  # by upvotes
    assert items[0]["paper"]["upvotes"] == 64 and items[0]["numComments"] == 3
    plain = dp(cli_env, "papers", "list", "--date", "2024-10-25")
    assert "3 papers on 2024-10-25" in plain.stdout
    assert "no papers on 2024-10-26" in dp(cli_env, "papers", "list", "--date", "2024-10-26").stderr


def test_errors_are_one_line(cli_env, tmp_path):
    assert "YYYY-MM-DD" in one_line_error(dp(cli_env, "papers", "list", "--date", "yesterday"))
    assert "no paper 2401.99999" in one_line_error(dp(cli_env, "papers", "show", "2401.99999"))
    assert "not an arXiv identifier" in one_line_error(dp(cli_env, "papers", "show", "nonsense"))
    assert "ingest_batch_size" in one_line_error(dp(dict(cli_env, DAILYPAPERS_INGEST_BATCH_SIZE="many"), "db", "current"))
    down = dict(cli_env, DAILYPAPERS_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert "database error" in one_line_error(dp(down, "db", "current"))
    missing = dict(cli_env, DAILYPAPERS_DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert "does not exist" in one_line_error(dp(missing, "db", "upgrade"))


def test_ingest_reports_progress_to_a_plain_observer(sqlite_url, tmp_path):
    """Ingest draws nothing itself: it reports each stage to whatever observer it is given (the CLI
    gives Rich bars, cli/progress.py), and loads no display library."""
    from dailypapers.ingest.run import Quiet
    from dailypapers.jobs.ingest import ingest_job

    class Recorder(Quiet):
        def __init__(self):
            self.calls = []

        def start(self, label, total, papers=0):
            self.calls.append(("start", label, total))

        def update(self, *, done=None, total=None, papers=None, label=None):
            self.calls.append(("update", done, papers))

        def end(self):
            self.calls.append(("end",))

    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    store = Store(make_settings(sqlite_url, tmp_path))
    recorder = Recorder()
    ingest_job(store, progress=recorder).run([str(hf)])
    store.dispose()
    size = hf.stat().st_size
    assert recorder.calls[0] == ("start", f"{hf.name} (hf-daily)", size)
    assert ("update", size, 3) in recorder.calls and recorder.calls.index(("end",)) > 1
    assert recorder.calls[-3:] == [("end",), ("start", "full-text index", None), ("end",)]
    loaded = subprocess.run([sys.executable, "-c", "import sys, dailypapers.ingest.run, dailypapers.jobs.registry; "
                             "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'typer'}))"],
                            capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "[]", loaded.stderr


def test_db_upgrade_and_current(cli_env):
    up = dp(cli_env, "db", "upgrade")
    assert up.returncode == 0 and "database at revision" in up.stdout
    again = dp(cli_env, "db", "upgrade")
    assert "already current" in again.stdout
    cur = dp(cli_env, "db", "current")
    rev = cur.stdout.split()[1].rstrip(",")
    assert cur.stdout.strip() == f"current {rev}, latest {rev}"


def test_settings_reference_is_current():
    doc = ROOT / "docs" / "settings.md"
    assert doc.read_text() == settings_markdown(), "regenerate: dailypapers settings --markdown > docs/settings.md"


def test_cli_reference_is_current():
    """docs/cli.md is every command's --help, the same text on any terminal: regenerated here at 40
    columns, the way the Makefile does, and compared with the committed page."""
    doc = ROOT / "docs" / "cli.md"
    made = subprocess.run([sys.executable, "-m", "dailypapers.cli.docs"], env=dict(os.environ, COLUMNS="40"),
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert doc.read_text() == made.stdout == cli_markdown(), "regenerate: python -m dailypapers.cli.docs > docs/cli.md"
    for command in ("ingest", "db backup", "papers list", "jobs enqueue", "digest receive", "eval"):
        assert f"\n## dailypapers {command}\n" in made.stdout


def test_a_mistyped_rate_limit_stops_the_command_in_one_line(cli_env):
    line = one_line_error(dp(dict(cli_env, DAILYPAPERS_RATE_LIMIT_COMMENT="ten a minute"), "settings"))
    assert "rate_limit_comment" in line and "not a rate limit: 'ten a minute'" in line
    assert dp(dict(cli_env, DAILYPAPERS_RATE_LIMIT_COMMENT="10 per minute"), "settings").returncode == 0


def test_every_setting_has_help():
    from dailypapers.config import Settings

    missing = [name for name, f in Settings.model_fields.items() if not (f.description or "").strip()]
    assert missing == []


def _wait_ready(proc, port, timeout: float = 300) -> None:
    """Until the command's site answers /healthz with 200 (the first run on a machine also exports
    the embedding model, hence the long timeout); fails at once if the command exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    raise AssertionError(f"{' '.join(proc.args[2:4])} did not answer within {timeout:.0f} s")


def _serving(env, port):
    """Start `dailypapers serve --workers 1` and wait until it is ready; return (the command's process,
    its process tree: itself first, then its children)."""
    proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "serve", "--workers", "1", "--port", str(port),
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_ready(proc, port)
    tree = [proc.pid] + [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    return proc, [psutil.Process(pid) for pid in tree]


def test_serve_runs_the_app_with_the_allocator_cap(cli_env):
    """glibc reads MALLOC_ARENA_MAX only at start-up: `serve` starts itself again in the same process
    with it set (the setting's default, 2), and leaves the allocator alone when the setting is 0."""
    env = {k: v for k, v in cli_env.items() if k != "MALLOC_ARENA_MAX"}
    for setting, expect_env in (("2", "2"), ("0", None)):
        port = free_port()
        proc, tree = _serving(dict(env, DAILYPAPERS_MALLOC_ARENA_MAX=setting), port)
        try:
            assert len(tree) == 1, [p.cmdline() for p in tree]  # one web process, no supervisor
            assert tree[0].pid == proc.pid and tree[0].cmdline()[2:4] == ["dailypapers", "serve"]
            assert tree[0].environ().get("MALLOC_ARENA_MAX") == expect_env
            assert httpx.get(f"http://127.0.0.1:{port}/api/daily_papers", timeout=10).status_code == 200
        finally:
            proc.terminate()
            assert proc.wait(30) == 0 or proc.returncode in (-15, 0)


def test_up_imports_serves_and_runs_under_the_allocator_cap(cli_env, tmp_path):
    """`dailypapers up --import FILE`: the whole site in one command. It imports the file, serves it,
    and runs (web server and in-process jobs alike) with the allocator cap, in the process it was
    started as."""
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    env = {k: v for k, v in cli_env.items() if k != "MALLOC_ARENA_MAX"}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "up", "--import", str(hf), "--port", str(port),
                             "--workers", "1", "--log-level", "warning"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(proc, port)
        me = psutil.Process(proc.pid)
        assert me.environ().get("MALLOC_ARENA_MAX") == "2"
        assert me.children() == []  # one process: web server and scheduler together
        papers = httpx.get(f"http://127.0.0.1:{port}/api/daily_papers", params={"date": "2024-10-25"}, timeout=10).json()
        assert len(papers) == 3
        page = httpx.get(f"http://127.0.0.1:{port}/papers/{papers[0]['paper']['id']}", timeout=10)
        assert page.status_code == 200 and papers[0]["paper"]["id"] in page.text
    finally:
        proc.terminate()
        proc.wait(30)
    assert "imported: 3 new" in proc.stdout.read()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_up_stopped_while_embedding_exits_cleanly(sqlite_url, tmp_path, listing_subset, workers):
    """Stopping `dailypapers up` (SIGTERM, as Ctrl+C or a service manager does) while its index job
    is embedding papers ends the job between two batches and exits cleanly: no abort from the
    embedding runtime torn down under a running thread, no traceback; the batches embedded so far
    stay, and the run is recorded."""
    from sqlalchemy import func, select

    from dailypapers.store.schema import Embedding, JobRun

    settings = make_settings(sqlite_url, tmp_path)
    env = {k: v for k, v in env_for(settings).items() if k != "MALLOC_ARENA_MAX"}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dailypapers", "up", "--import", str(listing_subset), "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    store = Store(settings)
    try:
        _wait_ready(proc, port)
        deadline = time.monotonic() + 120
        embedded = 0
        while time.monotonic() < deadline and not embedded:
            with store.session() as session:
                embedded = session.execute(select(func.count()).select_from(Embedding)).scalar_one()
            time.sleep(0.2)
        assert 0 < embedded < 1000, "the index job was not caught embedding"
    finally:
        proc.terminate()
        code = proc.wait(60)
    err = proc.stderr.read()
    # One web process: uvicorn ends by raising the stopping signal again once it is done (-15);
    # its supervisor of several returns (0). Either way after the jobs have stopped.
    assert code in (0, -15), (code, err[-2000:])
    assert "terminate called" not in err and "Aborted" not in err and "Traceback" not in err, err[-2000:]
    with store.session() as session:
        kept = session.execute(select(func.count()).select_from(Embedding)).scalar_one()
        index_runs = session.execute(select(JobRun.status, JobRun.detail).where(JobRun.name == "index")).all()
    store.dispose()
    assert kept >= embedded
    assert any(status == "done" and "stopped early" in (detail or "") for status, detail in index_runs), index_runs


def _libraries(process: psutil.Process) -> str:
    return "\n".join(m.path for m in process.memory_maps())


@pytest.mark.slow
def test_serve_prepares_the_query_model_so_web_processes_never_load_torch(sqlite_url, tmp_path):
    """With no ONNX export on the host, `serve` makes one in a short-lived child before its web
    processes start: they then embed queries with onnxruntime alone, without the several hundred MB
    that importing torch would leave in each of them. (The database makes no difference: SQLite only.)"""
    cli_env = env_for(make_settings(sqlite_url, tmp_path))
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    snap = need_data("fixtures", "kaggle-snapshot", "arxiv-metadata-oai-snapshot.sample200.json")
    assert dp(cli_env, "ingest", str(hf), str(snap)).returncode == 0
    indexed = dp(cli_env, "index", "--limit", "40", "--no-progress")  # vectors to search, from the shared export
    assert indexed.returncode == 0, indexed.stderr
    fresh = tmp_path / "models-of-a-new-host"
    env = dict(cli_env, DAILYPAPERS_MODELS_DIR=str(fresh))
    port = free_port()
    proc, tree = _serving(env, port)
    try:
        assert list(fresh.glob("*/model.int8.onnx")), "serve did not prepare the export"
        app = tree[-1]
        answer = httpx.get(f"http://127.0.0.1:{port}/api/papers/search", params={"q": "neural networks"}, timeout=60)
        assert answer.status_code == 200 and answer.json(), answer.text
        loaded = _libraries(app)
        assert "onnxruntime" in loaded  # the query was embedded in this process
        assert "libtorch" not in loaded and "/torch/" not in loaded
    finally:
        proc.terminate()
        proc.wait(30)
