"""`dailypapers worker`: a small supervisor over Dramatiq worker processes.

Dramatiq's own command (`dramatiq MODULE --processes N`) shuts every process down when one of them
dies (an out-of-memory kill of the embedding worker took the whole worker down). Here each worker
process is a child started with `python -m dailypapers.jobs.supervise`, running Dramatiq's `Worker`
on the broker of dailypapers.jobs.queue; the supervisor logs a child's death in one line (which
process, its pid, the signal or exit status) and starts it again while the others keep working.
A dead child's unacknowledged message goes back on the queue by Dramatiq's heartbeat (see
jobs/queue.py) and the store's lease (jobs/runner.py).

Crash loops stop: a child that dies within `QUICK` seconds of its start is started again after a
doubling pause (1 s, 2 s, 4 s, ...); after `GIVE_UP` such deaths in a row the supervisor stops the
others and exits with status 1, for the service manager (systemd's Restart=always) to take over.

SIGTERM (or SIGINT, SIGHUP) to the supervisor stops every child cleanly: each stops taking
messages, hands back the ones it holds but has not started, asks a running index job to end at its
next safe point and waits up to the stop timeout for the running jobs; then the supervisor exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("dailypapers.worker")

QUICK = 30.0  # seconds: a child that dies sooner is in a crash loop
GIVE_UP = 5  # quick deaths in a row before the supervisor gives up
MAX_PAUSE = 60.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def child_env() -> dict[str, str]:
    """The worker processes' environment. glibc raises its mmap threshold after freeing a large
    block (up to 32 MB), after which the embedding's big per-batch buffers come from the heap and
    stay there: a fixed threshold keeps them mapped and returned on free (a run over 400 papers
    peaked at 188 MB instead of 291). An operator's own value wins; other libcs ignore it."""
    env = dict(os.environ)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(1 << 20))
    return env


def describe(status: int) -> str:
    """A child's end as Popen reports it: 'was killed by SIGKILL' or 'exited with status 3'."""
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


@dataclass
class Slot:
    number: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    due: float = 0.0  # when to start it again


class Supervisor:
    """Keeps `processes` children of `command(number)` running until told to stop."""

    def __init__(self, processes: int, command, stop_timeout: float, *, first_pause: float = 1.0):
        self.slots = [Slot(n) for n in range(1, processes + 1)]
        self.command = command
        self.stop_timeout = stop_timeout
        self.first_pause = first_pause
        self.stopping = threading.Event()

    def _start(self, slot: Slot) -> None:
        # SIGINT from a terminal reaches the whole process group; the children ignore it and stop
        # when the supervisor passes SIGTERM on, so a Ctrl-C stops everything once, in order.
        slot.proc = subprocess.Popen(self.command(slot.number), env=child_env())
        slot.started = time.monotonic()
        log.info("worker process %d started (pid %d)", slot.number, slot.proc.pid)

    def _on_signal(self, signum, frame) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Supervise until a stop signal (0) or a crash loop (1)."""
        saved = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            return self._run()
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    def _run(self) -> int:
        for slot in self.slots:
            self._start(slot)
        status = 0
        while not self.stopping.is_set():
            now = time.monotonic()
            for slot in self.slots:
                if slot.proc is not None and slot.proc.poll() is not None:
                    status = self._died(slot, now)
                    if status:
                        break
                elif slot.proc is None and now >= slot.due:
                    self._start(slot)
            if status:
                break
            self.stopping.wait(0.5)
        self._stop_all()
        return status

    def _died(self, slot: Slot, now: float) -> int:
        """Log a child's death and schedule its restart; non-zero when the supervisor gives up."""
        proc, slot.proc = slot.proc, None
        lived = now - slot.started
        slot.quick_deaths = slot.quick_deaths + 1 if lived < QUICK else 0
        if slot.quick_deaths >= GIVE_UP:
            log.error("worker process %d (pid %d) %s after %.0f s, the %d%s quick death in a row: giving up",
                      slot.number, proc.pid, describe(proc.returncode), lived, slot.quick_deaths, _nth(slot.quick_deaths))
            return 1
        pause = min(MAX_PAUSE, self.first_pause * 2 ** (slot.quick_deaths - 1)) if slot.quick_deaths else 0.0
        slot.due = now + pause
        log.error("worker process %d (pid %d) %s after %.0f s; starting it again%s", slot.number, proc.pid,
                  describe(proc.returncode), lived, f" in {pause:g} s" if pause else "")
        return 0

    def _stop_all(self) -> None:
        running = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
        if running:
            log.info("stopping %d worker process%s", len(running), "" if len(running) == 1 else "es")
        for proc in running:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_timeout + 10
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker process (pid %d) did not stop in time: killing it", proc.pid)
                proc.kill()
                proc.wait()


def _nth(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def supervise(processes: int, threads: int, stop_timeout: float, log_level: str = "INFO") -> int:
    _logging(log_level)

    def command(number: int) -> list[str]:
        return [sys.executable, "-m", "dailypapers.jobs.supervise", "--number", str(number), "--threads", str(threads),
                "--stop-timeout", str(stop_timeout), "--log-level", log_level]

    return Supervisor(processes, command, stop_timeout).run()


def child(number: int, threads: int, stop_timeout: float) -> int:
    """One worker process: Dramatiq's Worker on the dailypapers queue until SIGTERM, or until the
    supervisor is gone (then it stops as if told to: an orphan must not keep taking jobs)."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGHUP, lambda signum, frame: stop.set())
    parent = os.getppid()

    from dramatiq import Worker

    from . import queue
    from .registry import SHUTTING_DOWN

    queue.broker.emit_after("process_boot")
    worker = Worker(queue.broker, queues={queue.QUEUE}, worker_threads=threads)
    worker.start()
    updater = None
    if number == 1:  # one process per worker host refits the recommenders on new feedback
        from .recs import start_updater

        updater = start_updater(queue._get_store())
    log.debug("worker process %d ready (pid %d)", number, os.getpid())
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.warning("worker process %d (pid %d): the supervisor is gone; stopping", number, os.getpid())
            break
    SHUTTING_DOWN.set()  # a running index job ends at its next batch; its run is recorded
    if updater is not None:
        updater.stop()
    worker.stop(timeout=int(stop_timeout * 1000))
    queue.broker.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`--processes N`: the supervisor (what `dailypapers worker` execs into, a small interpreter
    without the CLI's imports); otherwise one worker process, number `--number`."""
    parser = argparse.ArgumentParser(prog="python -m dailypapers.jobs.supervise", description="Queue worker processes.")
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--number", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stop-timeout", type=float, default=120.0)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if args.processes:
        return supervise(args.processes, args.threads, args.stop_timeout, args.log_level)
    _logging(args.log_level)
    return child(args.number, args.threads, args.stop_timeout)


if __name__ == "__main__":
    sys.exit(main())
