"""The `dailypapers` command: each stage of the pipeline runnable alone, and `up` for the whole site.

Errors a user can act on print as one line on stderr with a non-zero exit; never a traceback
(set DAILYPAPERS_DEBUG=1 to see one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..config import CONFIG_FILE_ENV, Settings, settings_markdown
from ..errors import DailyPapersError

app = typer.Typer(
    help="dailypapers: a self-hosted Daily Papers. Run `dailypapers up` for the whole site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database migrations, backups and checks.", no_args_is_help=True)
papers_app = typer.Typer(help="Look at stored papers.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(papers_app, name="papers")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_settings: Settings | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        try:
            _settings = Settings()
        except Exception as exc:  # pydantic's ValidationError: show the first problem only
            first = exc.errors()[0] if hasattr(exc, "errors") else None  # type: ignore[attr-defined]
            where = ".".join(str(p) for p in first["loc"]) if first else ""
            raise DailyPapersError(f"bad setting {where}: {first['msg'] if first else exc}") from exc
    return _settings


def open_store():
    from ..store.engine import Store

    return Store(settings())


def parse_day(value: str | None, name: str = "date") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DailyPapersError(f"--{name}: not a date in the form YYYY-MM-DD: {value!r}") from None


@app.callback()
def main_options(
    config: Annotated[Optional[Path], typer.Option("--config", help="A TOML settings file.")] = None,
) -> None:
    if config is not None:
        if not config.is_file():
            raise DailyPapersError(f"--config: no such file: {config}")
        os.environ[CONFIG_FILE_ENV] = str(config)


# --- ingest ---------------------------------------------------------------------------------------


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files (plain or .gz) or arxiv:CATEGORIES / arxiv:IDS.")],
    since: Annotated[Optional[str], typer.Option(help="For arxiv:CATEGORIES: first day to harvest (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="For arxiv:CATEGORIES: last day to harvest.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 when any record was rejected.")] = False,
    serial: Annotated[bool, typer.Option(help="Read and write in one process (default: two for large files).")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
    index: Annotated[bool, typer.Option(help="Update the full-text index as papers arrive.")] = True,
) -> None:
    """Ingest papers from files in any known format, or harvest them from arXiv.

    Formats are recognised by content: arXiv API Atom, OAI-PMH (arXiv, arXivRaw), the metadata
    snapshot, daily listing JSON lines, Hugging Face daily_papers JSON. Every run reports how many
    records were new, updated, unchanged and rejected.
    """
    from ..ingest.run import IngestJob

    job = IngestJob(
        open_store(),
        show_progress=sys.stderr.isatty() if progress is None else progress,
        console=err,
        parallel=not serial,
        update_index=index,
    )
    report = job.run(sources, since=parse_day(since, "since"), until=parse_day(until, "until"))
    out.print(f"ingested: {report.summary()}", highlight=False)
    shown = report.rejections[:20]
    for rejection in shown:
        err.print(f"rejected {rejection}", highlight=False, markup=False)
    if len(report.rejections) > len(shown):
        err.print(f"... and {len(report.rejections) - len(shown)} more rejected", highlight=False)
    if strict and report.rejected:
        raise typer.Exit(1)


# --- db -------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (also done automatically on first use)."""
    from ..store.engine import current_revision, make_engine, upgrade

    engine = make_engine(settings())
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    out.print(f"database at revision {after}" + ("" if before != after else " (already current)"), highlight=False)


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the latest one."""
    from ..store.engine import current_revision, head_revision, make_engine

    engine = make_engine(settings())
    out.print(f"current {current_revision(engine) or 'none'}, latest {head_revision(engine)}", highlight=False)


@db_app.command("check")
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


@db_app.command("backup")
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


# --- papers ---------------------------------------------------------------------------------------


@papers_app.command("show")
def papers_show(
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id, with or without version.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the paper as the JSON API does.")] = False,
) -> None:
    """Show one paper: metadata, links, versions and the days it was featured."""
    from ..errors import NotFoundError
    from ..ingest.normalize import InvalidRecord, split_arxiv_id
    from ..store import papers as paper_store

    try:
        bare, _ = split_arxiv_id(arxiv_id)
    except InvalidRecord as exc:
        raise DailyPapersError(str(exc)) from None
    store = open_store()
    with store.session() as session:
        detail = paper_store.detail(session, bare)
    if detail is None:
        raise NotFoundError(f"no paper {bare} in the store")
    if as_json:
        from ..shapes import paper_info
        from ..store.feed import items_for

        with store.session() as session:
            item = items_for(session, [detail.paper])[0]
        body = paper_info(item, store.settings.base_url.rstrip("/"))
        body["versions"] = [{"version": v["version"], "submittedAt": _iso(v["submitted_at"])} for v in detail.paper["versions"]]
        body["featuredOn"] = [d.isoformat() for d in detail.days]
        out.print_json(json.dumps(body))
        return
    p = detail.paper
    out.print(f"[bold]{_esc(p['title'])}[/bold]")
    out.print(f"arXiv:{p['arxiv_id']}" + (f"v{p['version']}" if p["version"] else ""), highlight=False)
    out.print(", ".join(a["name"] for a in p["authors"]), highlight=False, markup=False)
    out.print(" ".join(p["categories"]), highlight=False)
    for label, key in (("comment", "comment"), ("journal", "journal_ref"), ("doi", "doi"), ("code", "code_url"), ("project", "project_url")):
        if p.get(key):
            out.print(f"{label}: {p[key]}", highlight=False, markup=False)
    if p.get("published_at"):
        out.print(f"submitted: {p['published_at']:%Y-%m-%d %H:%M} UTC", highlight=False)
    if p["versions"]:
        out.print(
            "versions: "
            + ", ".join(f"v{v['version']}" + (f" ({v['submitted_at']:%Y-%m-%d})" if v["submitted_at"] else "") for v in p["versions"]),
            highlight=False,
        )
    if detail.days:
        out.print("featured: " + ", ".join(d.isoformat() for d in detail.days), highlight=False)
    out.print(f"upvotes: {p['upvotes_imported'] + p['upvote_count']}", highlight=False)
    out.print()
    out.print(p["abstract"], highlight=False, markup=False)


@papers_app.command("list")
def papers_list(
    date: Annotated[str, typer.Option("--date", help="The day whose feed to list (YYYY-MM-DD).")],
    sort: Annotated[str, typer.Option(help="upvotes, time or trending.")] = "upvotes",
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many papers.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print HF-shaped daily_papers items.")] = False,
) -> None:
    """List the papers featured on a day."""
    from ..store.feed import SORTS, FeedQuery, list_featured

    day = parse_day(date)
    if sort not in SORTS:
        raise DailyPapersError(f"--sort: one of {', '.join(SORTS)}")
    store = open_store()
    with store.session() as session:
        page = list_featured(session, FeedQuery(start=day, end=day, sort=sort, limit=limit))
    if as_json:
        from ..shapes import daily_item

        base = store.settings.base_url.rstrip("/")
        out.print_json(json.dumps([daily_item(i, base) for i in page.items]))
        return
    if not page.items:
        err.print(f"no papers on {day}", highlight=False)
        return
    for item in page.items:
        p = item.paper
        authors = ", ".join(a["name"] for a in p["authors"][:3]) + (" et al." if len(p["authors"]) > 3 else "")
        out.print(f"{p['arxiv_id']:>12}  {item.upvotes:>4}  {p['title']}  ({authors})", highlight=False, markup=False)
    out.print(f"{page.total} papers on {day}", highlight=False)


def _iso(value):
    return value.isoformat() if value else None


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- settings -------------------------------------------------------------------------------------


@app.command("settings")
def show_settings(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the settings reference page.")] = False,
) -> None:
    """Show every setting with its current value (or the reference page with --markdown)."""
    if markdown:
        sys.stdout.write(settings_markdown())
        return
    current = settings()
    for name in Settings.model_fields:
        value = getattr(current, name)
        if isinstance(value, list):
            value = ",".join(value)
        shown = "***" if any(s in name for s in ("secret", "password", "smtp_url")) and value else value
        out.print(f"DAILYPAPERS_{name.upper()}={shown}", highlight=False, markup=False)


# The other command groups live in their own modules, each adding its commands to `app`:
#   site.py       up, serve, worker, scheduler, users, jobs
#   search.py   index, search, eval
#   digest.py   digest send
from . import digest, search, site  # noqa: E402 - they need `app` and the helpers above

for _group in (site, search, digest):
    _group.register(app)


def main() -> None:
    """Entry point: run the app, turning known errors into one line and an exit status."""
    debug = os.environ.get("DAILYPAPERS_DEBUG") == "1"
    try:
        # Without standalone mode click returns a command's typer.Exit status instead of exiting.
        status = app(standalone_mode=False)
        if isinstance(status, int) and status:
            sys.exit(status)
    except DailyPapersError as exc:
        if debug:
            raise
        err.print(f"error: {exc}", highlight=False, markup=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted", highlight=False)
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        if debug:
            raise
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        err.print(f"error: {_describe(exc)}", highlight=False, markup=False)
        sys.exit(1)


def _describe(exc: BaseException) -> str:
    """One line for an unexpected error, naming the usual causes plainly."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    if isinstance(exc, OperationalError):
        return f"database error: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {str(exc).splitlines()[0]}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected {type(exc).__name__}{': ' + text if text else ''} (DAILYPAPERS_DEBUG=1 shows the traceback)"


if __name__ == "__main__":
    main()
