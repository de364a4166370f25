"""`dailypapers db backup`: an online backup of the SQLite file, and of a PostgreSQL database through
pg_dump, each restorable, made while the site writes, and never a half-written file."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import threading

import pytest
from sqlalchemy import text

from support import drop_pg_database, make_settings, need_data, pg_database
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store import kv
from dailypapers.store.backup import BackupError, backup
from dailypapers.store.engine import Store, head_revision
from test_cli import dp, one_line_error

SNAPSHOT = ("fixtures", "kaggle-snapshot", "arxiv-metadata-oai-snapshot.sample200.json")


def _filled(url, tmp_path) -> Store:
    store = Store(make_settings(url, tmp_path))
    ingest_job(store).run([str(need_data(*SNAPSHOT))])
    return store


def _count(store: Store, sql: str) -> int:
    with store.session() as session:
        return session.execute(text(sql)).scalar_one()


def test_sqlite_backup_is_one_consistent_checked_file_while_the_site_writes(sqlite_url, tmp_path):
    store = _filled(sqlite_url, tmp_path)
    stop = threading.Event()
    written = [0]

    def writer():  # the site going on: one committed write after another
        while not stop.is_set():
            with store.session() as session, session.begin():
                kv.set_value(session, f"during-backup-{written[0]}", "x")
            written[0] += 1

    before = _count(store, "SELECT count(*) FROM kv")
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            stop.wait(0.01)
        made = backup(sqlite_url, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    assert written[0] > 20  # the site's writes were not held up for long
    after = _count(store, "SELECT count(*) FROM kv")

    assert made.papers == 200 and made.revision == head_revision(store.engine)
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal beside it
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert before + 20 <= copy.execute("SELECT count(*) FROM kv").fetchone()[0] <= after
        assert copy.execute("SELECT count(*) FROM paper_versions").fetchone()[0] == _count(store, "SELECT count(*) FROM paper_versions")
    finally:
        copy.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("copy", ".copy"))) == ["copy.db"]

    # The copy is a working site database: a store opens it and reads the same papers.
    restored = Store(make_settings(f"sqlite:///{tmp_path / 'copy.db'}", tmp_path / "restored"))
    assert _count(restored, "SELECT count(*) FROM papers") == 200
    restored.dispose()
    store.dispose()


def test_a_failed_backup_replaces_nothing(sqlite_url, tmp_path):
    store = _filled(sqlite_url, tmp_path)
    target = tmp_path / "nightly.db"
    target.write_bytes(b"yesterday's backup")
    with pytest.raises(BackupError, match="does not exist"):
        backup(sqlite_url, tmp_path / "no-such-folder" / "x.db")
    with pytest.raises(BackupError, match="no SQLite database"):
        backup(f"sqlite:///{tmp_path / 'missing.db'}", target)
    assert target.read_bytes() == b"yesterday's backup"
    made = backup(sqlite_url, target)  # replaced only by a complete backup
    assert made.papers == 200 and target.read_bytes().startswith(b"SQLite format 3\x00")
    store.dispose()


def test_backup_command_names_files_by_time_in_a_folder(cli_env, settings, tmp_path):
    _filled(settings.database_url, tmp_path).dispose()
    sqlite = settings.database_url.startswith("sqlite")
    folder = tmp_path / "backups"
    folder.mkdir()
    result = dp(cli_env, "db", "backup", str(folder))
    assert result.returncode == 0, result.stderr
    made = list(folder.glob("dailypapers-*.db" if sqlite else "dailypapers-*.dump"))
    assert len(made) == 1 and str(made[0]) in result.stdout and made[0].stat().st_size > 10_000
    assert ("200 papers" in result.stdout) is sqlite
    stamp = dt.datetime.strptime(made[0].stem.removeprefix("dailypapers-"), "%Y%m%dT%H%M%SZ")
    assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - stamp) < dt.timedelta(minutes=5)
    line = one_line_error(dp(cli_env, "db", "backup", str(tmp_path / "nowhere" / "b.db")))
    assert line.startswith("error: ") and "does not exist" in line

    # --keep N: once the new backup is in place, only the N newest dated backups of its kind stay.
    suffix, other = (".db", ".dump") if sqlite else (".dump", ".db")
    made[0].unlink()
    for stamp in ("20240101T000000Z", "20240102T000000Z", "20240103T000000Z"):
        (folder / f"dailypapers-{stamp}{suffix}").write_bytes(b"old")
    untouched = [folder / f"dailypapers-20230101T000000Z{other}", folder / "notes.txt", folder / f"dailypapers-mine{suffix}"]
    for path in untouched:
        path.write_bytes(b"not ours to delete")
    result = dp(cli_env, "db", "backup", str(folder), "--keep", "2")
    assert result.returncode == 0, result.stderr
    dated = sorted(p.name for p in folder.glob(f"dailypapers-2*{suffix}"))
    assert len(dated) == 2 and dated[0] == f"dailypapers-20240103T000000Z{suffix}" and all(p.exists() for p in untouched)
    assert str(folder / dated[1]) in result.stdout and result.stdout.count("deleted the older backup") == 2
    line = one_line_error(dp(cli_env, "db", "backup", str(tmp_path / "single.db"), "--keep", "2"))
    assert "--keep needs a folder" in line


def test_postgresql_backup_restores_with_pg_restore(pg_server, tmp_path):
    if shutil.which("pg_restore") is None:
        pytest.skip("pg_restore not installed")
    name = pg_database(pg_server)
    restored_name = pg_database(pg_server)
    try:
        url = pg_server.url.set(database=name).render_as_string(hide_password=False)
        store = _filled(url, tmp_path)
        made = backup(url, tmp_path)
        assert made.kind == "postgresql" and made.path.parent == tmp_path and made.path.suffix == ".dump"
        restored_url = pg_server.url.set(database=restored_name)
        libpq = restored_url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(["pg_restore", "--no-owner", f"--dbname={libpq}", str(made.path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        restored = Store(make_settings(restored_url.render_as_string(hide_password=False), tmp_path / "r"))
        for table in ("papers", "paper_versions", "daily_entries", "alembic_version"):
            assert _count(restored, f"SELECT count(*) FROM {table}") == _count(store, f"SELECT count(*) FROM {table}")
        restored.dispose()
        store.dispose()
        with pytest.raises(BackupError, match="pg_dump failed"):
            backup(pg_server.url.set(database="dp_no_such_database").render_as_string(hide_password=False), tmp_path / "x.dump")
        assert not (tmp_path / "x.dump").exists()
    finally:
        drop_pg_database(pg_server, name)
        drop_pg_database(pg_server, restored_name)
