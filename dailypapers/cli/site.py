"""CLI commands for running the site: `up`, `serve`, `users`, `jobs`."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError

users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)


def _workers(value: int) -> int:
    return value or min(4, os.cpu_count() or 1)


_ARENAS_AT_START = os.environ.get("MALLOC_ARENA_MAX")  # what glibc read when this process started


def _arena_env(settings) -> bool:
    """Put MALLOC_ARENA_MAX in the environment of the processes started from here (glibc reads it
    only when a process starts). True when this process itself started without it."""
    if _ARENAS_AT_START is not None or not settings.malloc_arena_max or not sys.platform.startswith("linux"):
        return False
    os.environ.setdefault("MALLOC_ARENA_MAX", str(settings.malloc_arena_max))
    return True


def _restart_with_arena_cap(settings) -> None:
    """Start this command again, in the same process (same pid, same arguments), with
    MALLOC_ARENA_MAX in its environment when it started without it: glibc reads the variable only
    at start-up, and the long-running commands (`up`, `serve`) should run their web server and
    in-process jobs under the cap, not only the processes they start."""
    if _arena_env(settings):
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, sys.orig_argv)


def _logging(log_level: str) -> None:
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _check_base_url(settings) -> None:
    """One line at start-up when the links will not lead where the site is served: a configured
    base URL naming another port (or an address the bind does not answer), or none configured for
    a wildcard bind, where emails can only name the machine."""
    from ..siteurl import disagreement

    log = logging.getLogger("dailypapers.serve")
    if settings.base_url_per_request:
        log.warning(
            "DAILYPAPERS_BASE_URL is not set and the site listens on every address: pages link to the address each "
            "visitor asked for, emails to %s; set DAILYPAPERS_BASE_URL to the site's public address",
            settings.base_url,
        )
    elif not settings.base_url_derived:
        problem = disagreement(settings.base_url, settings.host, settings.port)
        if problem:
            log.warning("%s", problem)


def _serve(settings, host: str | None, port: int | None, workers: int | None, log_level: str, *, on_stop=None) -> None:
    """Serve until stopped; `on_stop()` runs once the web server has shut down, before the process
    ends (uvicorn re-raises the stopping signal when it is done, which would skip a `finally`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings = settings.serving_at(host or settings.host, port or settings.port)
    _check_base_url(settings)
    # The worker processes build the app from the environment: pass the settings on through it.
    for name in ("database_url", "data_dir", "vendor_dir", "host", "port"):
        os.environ[f"DAILYPAPERS_{name.upper()}"] = str(getattr(settings, name))
    if settings.base_url_derived:
        os.environ.pop("DAILYPAPERS_BASE_URL", None)  # derived there too, from host and port
    else:
        os.environ["DAILYPAPERS_BASE_URL"] = settings.base_url
    config = uvicorn.Config(
        "dailypapers.web.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=_workers(workers if workers is not None else settings.workers),
        log_level=log_level,
        proxy_headers=True,
        access_log=False,
        server_header=False,
    )
    if config.workers > 1:
        # uvicorn's supervisor: spawned processes, restarted if they die
        try:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        finally:
            if on_stop:
                on_stop()
        return

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None):
            await super().shutdown(sockets)
            if on_stop:
                on_stop()  # blocking is fine now: nothing else is served

    server = Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        raise SystemExit(3)  # uvicorn's startup failure status


def _enqueuer(settings):
    """Where due jobs go: the queue when one is configured, else None (run in-process)."""
    if not settings.queue_url:
        return None
    from ..jobs.queue import enqueuer

    return enqueuer()


def register(app: typer.Typer) -> None:
    from . import err, open_store, out, settings

    app.add_typer(users_app, name="users")
    app.add_typer(jobs_app, name="jobs")

    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option(help="Listen address (default: DAILYPAPERS_HOST).")] = None,
        port: Annotated[Optional[int], typer.Option(help="Port (default: DAILYPAPERS_PORT).")] = None,
        workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: DAILYPAPERS_WORKERS).")] = None,
        log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    ) -> None:
        """Serve the site only (no background jobs; run `dailypapers worker` or `up` for those)."""
        _logging(log_level)
        current = settings()
        _restart_with_arena_cap(current)
        open_store().dispose()  # create or upgrade the database before the workers start
        from ..index.embeddings import prepare_query_model  # imported here: not every command needs numpy

        prepare_query_model(current)  # before the web processes start, so none of them imports torch
        _serve(current, host, port, workers, log_level)

    @app.command()
    def up(
        import_paths: Annotated[
            Optional[list[str]], typer.Option("--import", help="Files to ingest before serving (repeatable).")
        ] = None,
        host: Annotated[Optional[str], typer.Option(help="Listen address.")] = None,
        port: Annotated[Optional[int], typer.Option(help="Port.")] = None,
        workers: Annotated[Optional[int], typer.Option(help="Web worker processes.")] = None,
        jobs: Annotated[bool, typer.Option(help="Run the background jobs (arXiv ingest, indexing) here.")] = True,
        log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    ) -> None:
        """Run the whole site on this machine: database, imports, background jobs, web server."""
        from ..index.fulltext import FullTextIndex
        from ..ingest.run import IngestJob
        from ..jobs.scheduler import Scheduler

        from ..store.engine import Store

        _logging(log_level)
        current = settings()
        _restart_with_arena_cap(current)  # the web server, the in-process jobs and what they start
        # The jobs here (digests) link to where the site is served, like its pages.
        current = current.serving_at(host or current.host, port or current.port)
        store = Store(current)
        if import_paths:
            report = IngestJob(store, show_progress=sys.stderr.isatty(), console=err).run(list(import_paths))
            out.print(f"imported: {report.summary()}", highlight=False)
        FullTextIndex.for_store(store).sync(store)  # rebuilt here when missing or damaged
        from ..index.embeddings import prepare_query_model  # imported here: not every command needs numpy

        prepare_query_model(current)  # before the web processes start, so none of them imports torch
        scheduler = Scheduler(store, enqueue=_enqueuer(current)).start() if jobs else None
        where = f"{current.host}:{current.port}"
        shown = current.base_url if current.base_url_derived else f"{where} as {current.base_url}"
        out.print(f"serving {current.site_name} at {shown}", highlight=False)
        # In-process jobs end at their next safe point before the process does (an index run
        # between two batches): a thread cut off inside the embedding model aborts the process.
        stopped = []

        def stop_jobs() -> None:
            if scheduler and not stopped:
                stopped.append(True)
                scheduler.stop()

        try:
            _serve(current, host, port, workers, log_level, on_stop=stop_jobs)
        finally:
            stop_jobs()

    @users_app.command("create")
    def users_create(
        username: Annotated[str, typer.Argument(help="The account's name.")],
        email: Annotated[Optional[str], typer.Option(help="Email address.")] = None,
        curator: Annotated[bool, typer.Option("--curator", help="May feature papers older than a week.")] = False,
        admin: Annotated[bool, typer.Option("--admin", help="An administrator (also a curator).")] = False,
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    ) -> None:
        """Create an account (curators and admins are made here)."""
        from ..store import users as user_store
        from ..web.auth import validate_signup
        from ..web.security import hash_password

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                raise DailyPapersError("the passwords differ")
        problem = validate_signup(username, password, email)
        if problem:
            raise DailyPapersError(problem)
        store = open_store()
        with store.session() as session, session.begin():
            user_store.create(session, username, hash_password(password), email=email, is_curator=curator, is_admin=admin)
        role = "admin" if admin else "curator" if curator else "user"
        out.print(f"created {role} {username}", highlight=False)

    @users_app.command("set-role")
    def users_set_role(
        username: Annotated[str, typer.Argument(help="The account's name.")],
        curator: Annotated[Optional[bool], typer.Option("--curator/--no-curator", help="Grant or revoke curator.")] = None,
        admin: Annotated[Optional[bool], typer.Option("--admin/--no-admin", help="Grant or revoke admin.")] = None,
    ) -> None:
        """Grant or revoke the curator and admin roles."""
        from ..errors import NotFoundError
        from ..store import users as user_store

        store = open_store()
        with store.session() as session, session.begin():
            user = user_store.by_name(session, username)
            if user is None:
                raise NotFoundError(f"no user {username}")
            user_store.set_roles(session, user["id"], is_curator=curator, is_admin=admin)
        out.print(f"updated {username}", highlight=False)

    @jobs_app.command("list")
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

    @jobs_app.command("run")
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

    @jobs_app.command("enqueue")
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
            _enqueuer(current)(name, period)
        except DailyPapersError as exc:
            jobruns.release(store, name, period)  # no claim left behind for a message never sent
            raise DailyPapersError(f"{str(exc).rstrip('.')}; nothing was queued") from None
        out.print(f"queued {name} ({period})", highlight=False)

    @app.command()
    def worker(
        processes: Annotated[int, typer.Option(help="Worker processes.")] = 1,
        threads: Annotated[int, typer.Option(help="Threads per process.")] = 2,
        stop_timeout: Annotated[float, typer.Option(help="Seconds a stop waits for running jobs to end.")] = 120.0,
        log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    ) -> None:
        """Run jobs from the queue (DAILYPAPERS_QUEUE_URL); start as many as you like, on any machine.
        A worker process that dies is logged and started again; SIGTERM stops them all cleanly."""
        current = settings()
        if not current.queue_url:
            raise DailyPapersError("DAILYPAPERS_QUEUE_URL is not set: `dailypapers up` runs the jobs itself")
        if processes < 1 or threads < 1:
            raise DailyPapersError("--processes and --threads must be at least 1")
        _restart_with_arena_cap(current)  # before any work: the supervisor and its processes run under the cap
        if current.base_url_derived:  # a worker serves nothing: the address it would derive is a guess
            err.print(f"warning: DAILYPAPERS_BASE_URL is not set: digests sent from here link to {current.base_url}",
                      highlight=False, markup=False)
        open_store().dispose()  # migrations first
        from ..index.embeddings import prepare_query_model

        prepare_query_model(current)  # the int8 export the index job embeds with on a CPU host
        # The supervisor runs in this process (same pid, for the service manager), in a fresh
        # interpreter without the CLI's imports: about 15 MB instead of 70.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "dailypapers.jobs.supervise", "--processes", str(processes),
                                  "--threads", str(threads), "--stop-timeout", str(stop_timeout), "--log-level", log_level])

    @app.command()
    def scheduler(tick: Annotated[float, typer.Option(help="Seconds between checks.")] = 20.0) -> None:
        """Enqueue due jobs for the workers (any number may run: each period is claimed once)."""
        import time

        from ..jobs.scheduler import Scheduler

        current = settings()
        if not current.queue_url:
            raise DailyPapersError("DAILYPAPERS_QUEUE_URL is not set: `dailypapers up` schedules jobs itself")
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        Scheduler(open_store(), tick=tick, enqueue=_enqueuer(current)).start()
        out.print("scheduling jobs onto the queue; Ctrl-C stops", highlight=False)
        while True:
            time.sleep(3600)
