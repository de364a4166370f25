"""Online backups of the database while the site runs: SQLite through its backup API, PostgreSQL
through pg_dump. Either way the backup is written under a temporary name and moved into place when
complete, so a backup file that exists is whole, and a killed run leaves the previous one intact."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ..errors import ConfigError, DailyPapersError


class BackupError(DailyPapersError):
    """A backup that could not be made (the message says why); nothing was replaced."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    kind: str  # "sqlite" or "postgresql"
    papers: int | None = None  # counted in the backup itself (SQLite)
    revision: str | None = None  # the schema's migration revision in the backup (SQLite)

    def summary(self) -> str:
        what = f"{self.kind} backup {self.path} ({self.size / 2**20:,.1f} MB"
        if self.papers is not None:
            what += f", {self.papers:,} papers"
        if self.revision:
            what += f", schema {self.revision}"
        return what + ")"


def target_path(target: Path, kind: str, now: dt.datetime) -> Path:
    """A folder gets a file named by the time (for a backup a day from cron); a file path is used as is."""
    target = Path(target).expanduser()
    if target.is_dir():
        suffix = ".db" if kind == "sqlite" else ".dump"
        return target / f"dailypapers-{now.strftime('%Y%m%dT%H%M%SZ')}{suffix}"
    if not target.parent.is_dir():
        raise BackupError(f"the backup's folder does not exist: {target.parent}")
    return target


_DATED = re.compile(r"dailypapers-\d{8}T\d{6}Z\.(db|dump)")


def prune(folder: Path, keep: int, suffix: str) -> list[Path]:
    """Delete all but the `keep` newest dated backups of one kind in `folder` (the names written
    by a backup into a folder; other files are never touched). Returns what was deleted."""
    dated = sorted(p for p in Path(folder).iterdir() if _DATED.fullmatch(p.name) and p.suffix == suffix)
    old = dated[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def backup(database_url: str, target: Path, *, busy_timeout: float = 30.0, now: dt.datetime | None = None) -> Backup:
    """Back the database up into `target` (a file, or a folder to put a dated file in)."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds
        raise ConfigError(f"DAILYPAPERS_DATABASE_URL is not a database URL: {database_url!r}") from exc
    now = now or dt.datetime.now(dt.UTC)
    kind = url.get_backend_name()
    if kind == "sqlite":
        source = url.database or ""
        if not source or source == ":memory:" or source.startswith("file:"):
            raise BackupError(f"only a SQLite file can be backed up, not {source or 'an in-memory database'!r}")
        if not Path(source).is_file():
            raise BackupError(f"no SQLite database at {source}")
        return _sqlite(Path(source), target_path(target, kind, now), busy_timeout)
    if kind == "postgresql":
        return _postgresql(url, target_path(target, kind, now))
    raise ConfigError(f"unsupported database {kind!r}: use sqlite:/// or postgresql://")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _move_into_place(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    tmp.replace(path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)


def _sqlite(source: Path, path: Path, busy_timeout: float) -> Backup:
    """One step of SQLite's backup API: a read transaction sees one consistent state of the file,
    and under WAL the site's writers go on meanwhile. The copy is switched out of WAL mode, so the
    backup is one self-contained file, then checked before it replaces anything."""
    tmp = _temporary(path)
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(source, timeout=busy_timeout)  # only read from
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"the backup failed its integrity check: {problems[0]}")
            papers = _scalar(dst, "SELECT count(*) FROM papers")
            revision = _scalar(dst, "SELECT version_num FROM alembic_version")
        finally:
            dst.close()
            src.close()
        _move_into_place(tmp, path)
    except sqlite3.Error as exc:
        raise BackupError(f"could not back up {source}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"could not write the backup {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Backup(path, path.stat().st_size, "sqlite", papers=papers, revision=revision)


def _scalar(conn: sqlite3.Connection, sql: str):
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.OperationalError:  # not a dailypapers database (yet): back it up all the same
        return None
    return row[0] if row else None


def _postgresql(url, path: Path) -> Backup:
    """pg_dump's custom format (compressed; restore with pg_restore, tables or all), one consistent
    snapshot while the site runs. The password goes through the environment, not the command line."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump not found: install the PostgreSQL client tools of the server's version")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    tmp = _temporary(path)
    try:
        done = subprocess.run(
            [pg_dump, "--format=custom", "--no-password", f"--file={tmp}", f"--dbname={libpq}"],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise BackupError(f"pg_dump failed: {lines[-1] if lines else f'exit status {done.returncode}'}")
        _move_into_place(tmp, path)
    except OSError as exc:
        raise BackupError(f"could not write the backup {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Backup(path, path.stat().st_size, "postgresql")
