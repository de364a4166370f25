"""`dailypapers db`: migrations, backups and the stored counts' check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError
from .common import open_store, out, settings

app = typer.Typer(help="Database migrations, backups and checks.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (also done automatically on first use)."""
    from ..store.engine import current_revision, make_engine, upgrade

    engine = make_engine(settings())
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    out.print(f"database at revision {after}" + ("" if before != after else " (already current)"), highlight=False)


@app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the latest one."""
    from ..store.engine import current_revision, head_revision, make_engine

    engine = make_engine(settings())
    out.print(f"current {current_revision(engine) or 'none'}, latest {head_revision(engine)}", highlight=False)


@app.command("check")
def db_check(
    repair: Annotated[bool, typer.Option("--repair", help="Set every drifted count to its rows, in one transaction.")] = False,
) -> None:
    """Check that each paper's stored counts (upvotes, comments) equal their rows: older versions
    lost updates when members voted at the same moment. Prints one line per drifted count and a
    summary; exits 1 when drift is found (0 when --repair fixed it). Safe while the site runs."""
    from ..store import integrity

    store = open_store()
    try:
        if repair:
            with store.writing() as session:
                found = integrity.repair(session)
        else:
            with store.session() as session:
                found = integrity.drift(session)
        with store.session() as session:
            checked = integrity.papers_checked(session)
    finally:
        store.dispose()
    for d in found:
        out.print(("repaired " if repair else "") + d.describe(), highlight=False, markup=False)
    papers = len({d.paper_id for d in found})
    if not found:
        out.print(f"counts match their rows in all {checked} papers", highlight=False)
    elif repair:
        out.print(f"repaired {len(found)} counts in {papers} of {checked} papers", highlight=False)
    else:
        out.print(
            f"drift: {len(found)} counts in {papers} of {checked} papers differ from their rows"
            " (`dailypapers db check --repair` sets them to their rows)",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(1)


@app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="The backup file, or a folder to write a file named by the time into.")],
    keep: Annotated[
        Optional[int], typer.Option(help="With a folder: then delete all but the KEEP newest backups written there.")
    ] = None,
) -> None:
    """Back the database up while the site runs: a SQLite file through SQLite's backup API (one
    self-contained, checked file), PostgreSQL through pg_dump's custom format. The file appears only
    when complete; old backups are deleted (--keep) only after the new one is in place."""
    from ..store.backup import backup, prune

    current = settings()
    if keep is not None and not target.is_dir():
        raise DailyPapersError("--keep needs a folder to back up into (it prunes the dated files there)")
    if keep is not None and keep < 1:
        raise DailyPapersError("--keep must be at least 1")
    made = backup(current.database_url, target, busy_timeout=current.sqlite_busy_timeout)
    out.print(made.summary(), highlight=False)
    if keep is not None:
        for path in prune(target, keep, made.path.suffix):
            out.print(f"deleted the older backup {path}", highlight=False)
