"""`dailypapers serve`, `up`, `worker` and `scheduler`: running the site, its jobs and its workers."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError
from .common import enqueuer, err, open_store, out, settings
from .progress import ingest_bars

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
    from ..index.model import prepare_query_model

    prepare_query_model(current)  # before the web processes start, so none of them imports torch
    _serve(current, host, port, workers, log_level)


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
    from ..jobs.ingest import ingest_job
    from ..jobs.scheduler import Scheduler

    from ..store.engine import Store

    _logging(log_level)
    current = settings()
    _restart_with_arena_cap(current)  # the web server, the in-process jobs and what they start
    # The jobs here (digests) link to where the site is served, like its pages.
    current = current.serving_at(host or current.host, port or current.port)
    store = Store(current)
    if import_paths:
        report = ingest_job(store, progress=ingest_bars(err, sys.stderr.isatty())).run(list(import_paths))
        out.print(f"imported: {report.summary()}", highlight=False)
    FullTextIndex.for_store(store).sync(store)  # rebuilt here when missing or damaged
    from ..index.model import prepare_query_model

    prepare_query_model(current)  # before the web processes start, so none of them imports torch
    scheduler = Scheduler(store, enqueue=enqueuer(current)).start() if jobs else None
    from ..jobs.recs import start_updater

    updater = start_updater(store) if jobs else None  # members' recommenders, refitted on new feedback
    where = f"{current.host}:{current.port}"
    shown = current.base_url if current.base_url_derived else f"{where} as {current.base_url}"
    out.print(f"serving {current.site_name} at {shown}", highlight=False)
    # In-process jobs end at their next safe point before the process does (an index run
    # between two batches): a thread cut off inside the embedding model aborts the process.
    stopped = []

    def stop_jobs() -> None:
        if not stopped:
            stopped.append(True)
            if updater:
                updater.stop()
            if scheduler:
                scheduler.stop()

    try:
        _serve(current, host, port, workers, log_level, on_stop=stop_jobs)
    finally:
        stop_jobs()


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
    from ..index.model import prepare_query_model

    prepare_query_model(current)  # the int8 export the index job embeds with on a CPU host
    # The supervisor runs in this process (same pid, for the service manager), in a fresh
    # interpreter without the CLI's imports: about 15 MB instead of 70.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "dailypapers.jobs.supervise", "--processes", str(processes),
                              "--threads", str(threads), "--stop-timeout", str(stop_timeout), "--log-level", log_level])


def scheduler(tick: Annotated[float, typer.Option(help="Seconds between checks.")] = 20.0) -> None:
    """Enqueue due jobs for the workers (any number may run: each period is claimed once)."""
    import time

    from ..jobs.scheduler import Scheduler

    current = settings()
    if not current.queue_url:
        raise DailyPapersError("DAILYPAPERS_QUEUE_URL is not set: `dailypapers up` schedules jobs itself")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    Scheduler(open_store(), tick=tick, enqueue=enqueuer(current)).start()
    out.print("scheduling jobs onto the queue; Ctrl-C stops", highlight=False)
    while True:
        time.sleep(3600)
