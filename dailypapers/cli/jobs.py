"""`dailypapers jobs`: the registered jobs and their runs; one run now, here or on the queue."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import DailyPapersError
from .common import enqueuer, open_store, out, settings

app = typer.Typer(help="Background jobs.", no_args_is_help=True)


@app.command("list")
def jobs_list(
    check: Annotated[bool, typer.Option("--check", help="Exit with status 1 when a job is late or a run is stuck (for monitoring).")] = False,
    recent: Annotated[int, typer.Option(help="Also list this many of the latest runs, with their summaries.")] = 0,
) -> None:
    """The registered jobs, their schedules and latest runs; which are late or stuck.

    The last line is `jobs: ok` or `jobs: N late, M stuck` (see docs/deployment.md)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from ..jobs import health
    from ..store import jobruns

    store = open_store()
    jobs, other_stuck = health.check(store)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("job", "schedule", "last run", "status", "started", "took", ""):
        table.add_column(column, no_wrap=True)
    for item in jobs:
        last = item.last or {}
        marks = " ".join(m for m, on in (("LATE", item.late), ("STUCK", item.stuck)) if on)
        started = health.ago(last.get("started_at") or last.get("created_at"))
        table.add_row(item.job.name, item.schedule, health.period_label(last["period"]) if last else "never", last.get("status", ""),
                      f"{started} ago" if started else "", health.took(last) if last else "",
                      f"[bold red]{marks}[/]" if marks else "")
    # Not squeezed into 80 columns in a monitoring script's log or a pipe.
    (out if out.is_terminal else Console(width=120)).print(table)
    lease, claim = store.settings.job_lease_seconds, store.settings.job_claim_seconds
    problems = []
    for item in jobs:
        if item.late:
            problems.append(f"late: {item.job.name}: {item.late}")
    for run in [r for item in jobs for r in item.stuck] + other_stuck:
        if run["status"] == "queued":
            why = f"queued {health.ago(run['heartbeat_at'] or run['created_at'])} ago, never started (claim expiry {claim} s)"
        else:
            why = f"running, heartbeat {health.ago(run['heartbeat_at'] or run['created_at'])} old (lease {lease} s)"
        problems.append(f"stuck: {run['name']} ({run['period']}): {why}")
    for line in problems:
        out.print(line, highlight=False, markup=False)
    if recent:
        out.print()
        for r in jobruns.recent(store, recent):
            out.print(f"{r['name']:14} {r['period']:18} {r['status']:8} {r['detail'] or ''}", highlight=False, markup=False)
    late = sum(1 for item in jobs if item.late)
    stuck = sum(len(item.stuck) for item in jobs) + len(other_stuck)
    out.print("jobs: ok" if not (late or stuck) else f"jobs: {late} late, {stuck} stuck", highlight=False)
    if check and (late or stuck):
        raise SystemExit(1)  # not typer.Exit: main() runs the app with standalone_mode off, which drops its code


@app.command("run")
def jobs_run(name: Annotated[str, typer.Argument(help="The job to run once, now.")]) -> None:
    """Run one job once from the shell (recorded like a scheduled run). Refused, with exit
    status 1, while another run of the job is in progress (runs of a job do not overlap)."""
    from ..jobs import runner
    from ..jobs.registry import JOBS
    from ..jobs.scheduler import manual_period
    from ..store import jobruns

    if name not in JOBS:
        raise DailyPapersError(f"no job {name!r}; jobs: {', '.join(JOBS)}")
    store = open_store()
    period = manual_period()
    # A failure is this command's one-line error (below), not also a log line.
    outcome, summary = runner.execute(store, name, period, log_failure=False)
    if outcome == runner.BUSY:
        jobruns.release(store, name, period)
        raise DailyPapersError(f"not started: {summary}; try again when it has ended")
    out.print(summary, highlight=False)


@app.command("enqueue")
def jobs_enqueue(name: Annotated[str, typer.Argument(help="The job to hand to the queue's workers now.")]) -> None:
    """Queue one run of a job for the workers (DAILYPAPERS_QUEUE_URL)."""
    from ..jobs.registry import JOBS
    from ..jobs.scheduler import manual_period
    from ..store import jobruns

    current = settings()
    if name not in JOBS:
        raise DailyPapersError(f"no job {name!r}; jobs: {', '.join(JOBS)}")
    if not current.queue_url:
        raise DailyPapersError("DAILYPAPERS_QUEUE_URL is not set: use `dailypapers jobs run` instead")
    period = manual_period()
    store = open_store()
    jobruns.claim(store, name, period)
    try:
        enqueuer(current)(name, period)
    except DailyPapersError as exc:
        jobruns.release(store, name, period)  # no claim left behind for a message never sent
        raise DailyPapersError(f"{str(exc).rstrip('.')}; nothing was queued") from None
    out.print(f"queued {name} ({period})", highlight=False)
