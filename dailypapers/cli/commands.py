"""The `dailypapers` command: the Typer app, its table of commands, and `main()`, which turns every
error into one line on stderr and an exit status (never a traceback; DAILYPAPERS_DEBUG=1 shows one).

Each command lives in the module named after it; they share cli/common.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import CONFIG_FILE_ENV
from ..errors import DailyPapersError
from . import db, digest, eval, eval_recs, index, ingest, jobs, papers, search, settings, site, users
from .common import err

app = typer.Typer(
    help="dailypapers: a self-hosted Daily Papers. Run `dailypapers up` for the whole site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main_options(
    config: Annotated[Optional[Path], typer.Option("--config", help="A TOML settings file.")] = None,
) -> None:
    if config is not None:
        if not config.is_file():
            raise DailyPapersError(f"--config: no such file: {config}")
        os.environ[CONFIG_FILE_ENV] = str(config)


# The command table: each command, and the function that runs it (listed in this order by --help).
app.command("ingest")(ingest.ingest)
app.command("settings")(settings.show_settings)
app.command("serve")(site.serve)
app.command("up")(site.up)
app.command("worker")(site.worker)
app.command("scheduler")(site.scheduler)
app.command("index")(index.index_command)
app.command("search")(search.search_command)
app.command("eval")(eval.eval_command)
app.command("eval-recs")(eval_recs.eval_recs_command)
app.add_typer(db.app, name="db")
app.add_typer(papers.app, name="papers")
app.add_typer(users.app, name="users")
app.add_typer(jobs.app, name="jobs")
app.add_typer(digest.app, name="digest")


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
