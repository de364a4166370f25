"""The job queue for running jobs on worker processes and machines: Dramatiq on Redis.

Why Dramatiq: messages are acknowledged only after the job returns and a dead worker's unacknowledged
messages go back on the queue (its heartbeat stops), so a killed job is retried, not lost; retries
with backoff come built in; and Redis is already the cache of a scaled-out deployment. The store
keeps the other half of the promise: a period is claimed once (scheduler) and a run is taken once
(worker, see jobs/runner.py), so a redelivered or duplicated message does not run a job twice.

`dailypapers worker` runs `dramatiq dailypapers.jobs.queue`; this module builds the broker from the
settings when imported (Dramatiq binds actors to a broker at import time)."""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from ..config import Settings
from ..errors import DailyPapersError, expected, one_line
from . import runner

log = logging.getLogger(__name__)

QUEUE = "dailypapers"


class Busy(dramatiq.Retry):
    """Another worker holds a live run of this job (this period's, or another period's: runs of a
    job do not overlap); Dramatiq retries the message later, for as long as that run lives. Logged
    by us in one INFO line: it is expected contention, not a failure."""


class Failed(dramatiq.Retry):
    """The job failed for a reason of the world (the network down: see errors.expected), already
    logged in one line; Dramatiq retries the message with backoff, without a traceback."""


# Each failed attempt is one line, ours (the runner's); Dramatiq's own "Retrying message ..." line
# would double it. Its warnings (retries exhausted) still show.
logging.getLogger("dramatiq.middleware.retries.Retries").setLevel(logging.WARNING)


class QueueOutageLog(logging.Filter):
    """While Redis is away, each Dramatiq consumer logs a CRITICAL line and a restart line every
    few seconds, and a three-line warning for each message it cannot acknowledge: about 20 KB a
    minute per worker process. This says it once (a WARNING with the reason), then a summary a
    minute while it lasts, and once (INFO) when a message is processed again."""

    SUMMARY_SECONDS = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._said = 0.0
        self._hidden = 0

    @staticmethod
    def _reason(record: logging.LogRecord) -> str | None:
        text = str(record.msg)
        if "connection error" not in text:
            return None
        args = record.args if isinstance(record.args, tuple) else ()
        errors = [a for a in args if isinstance(a, BaseException)]
        return one_line(errors[0]) if errors else record.getMessage().splitlines()[0]

    def filter(self, record: logging.LogRecord) -> bool:
        reason = self._reason(record)
        now = time.monotonic()
        with self._lock:
            if reason is None:
                # "Restarting consumer in 3.00 seconds." belongs to the outage already said
                return not (self.down_since is not None and str(record.msg).startswith("Restarting consumer"))
            if self.down_since is None:
                self.down_since, self._said, self._hidden = now, now, 0
                message = f"the job queue is unreachable: {reason} (said once; a summary each minute until it is back)"
            elif now - self._said >= self.SUMMARY_SECONDS:
                message = f"the job queue is still unreachable after {now - self.down_since:.0f} s: {reason}"
                self._said, self._hidden = now, 0
            else:
                self._hidden += 1
                return False
        record.msg, record.args, record.exc_info = message, (), None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    def back(self) -> None:
        with self._lock:
            if self.down_since is None:
                return
            away, self.down_since = time.monotonic() - self.down_since, None
        log.info("the job queue is reachable again after %.0f s", away)


class _SayQueueBack(dramatiq.Middleware):
    def before_process_message(self, broker, message) -> None:
        OUTAGE_LOG.back()


OUTAGE_LOG = QueueOutageLog()
for _queue in (QUEUE, f"{QUEUE}.DQ"):
    logging.getLogger(f"dramatiq.worker.ConsumerThread({_queue})").addFilter(OUTAGE_LOG)


def make_broker(settings: Settings) -> RedisBroker:
    return RedisBroker(
        url=settings.queue_url or "redis://127.0.0.1:6379/0",
        namespace=f"dailypapers-{settings.queue_namespace}" if settings.queue_namespace else "dailypapers",
        heartbeat_timeout=int(settings.queue_heartbeat_seconds * 1000),
        # Check for dead workers' messages on every 100th command: a killed job comes back within
        # about a heartbeat timeout instead of Dramatiq's default of 1 command in 1,000.
        maintenance_chance=10_000,
    )


_settings = Settings()
broker = make_broker(_settings)
broker.add_middleware(_SayQueueBack())
dramatiq.set_broker(broker)

_store = None
_store_lock = threading.Lock()


def _get_store():
    global _store
    with _store_lock:
        if _store is None:
            from ..store.engine import Store

            _store = Store(_settings)
        return _store


@dramatiq.actor(
    queue_name=QUEUE,
    max_retries=20,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=6 * 3600 * 1000,  # a backfill's embedding run is long; the store's lease guards it
    # A Busy message waits as long as the run it waits for lives (each try 5 minutes apart at most);
    # failures are tried 20 times. A message given up leaves its run to the scheduler (stuck runs).
    retry_when=lambda retries, exc: isinstance(exc, Busy) or (isinstance(exc, Exception) and retries < 20),
)
def run_job(name: str, period: str) -> None:
    try:
        outcome, summary = runner.execute(_get_store(), name, period)
    except Exception as exc:
        if expected(exc):
            raise Failed(one_line(exc)) from None
        raise  # a bug: Dramatiq logs it with its traceback, and retries
    if outcome == runner.BUSY:
        log.info("job %s; retried later", summary)
        raise Busy(summary)
    if outcome == runner.DONE:
        log.info("%s: %s", outcome, summary)


class QueueUnavailable(DailyPapersError):
    """The queue (Redis) could not take a message."""


def enqueue(name: str, period: str, broker: dramatiq.Broker | None = None) -> None:
    """Hand a claimed run to the workers (through `broker`; default: the one of the settings).
    Raises QueueUnavailable, in one line, when the queue cannot be reached: the caller releases
    the claim or leaves it to be handed over again."""
    import redis

    try:
        if broker is None:
            run_job.send(name, period)
        else:
            broker.enqueue(run_job.message(name, period))
    except (redis.RedisError, dramatiq.errors.BrokerError, OSError) as exc:
        raise QueueUnavailable(f"the job queue is unreachable: {one_line(exc)}") from None


class Enqueuer:
    """Hands claimed runs to the queue named by the settings, and says which runs the queue holds."""

    def __init__(self, broker: RedisBroker):
        self.broker = broker

    def __call__(self, name: str, period: str) -> None:
        enqueue(name, period, self.broker)

    def waiting(self) -> set[tuple[str, str]]:
        """(name, period) of each run whose message the queue holds: waiting, delayed (a retry),
        or taken by a worker and not yet acknowledged (Dramatiq's Redis broker keeps a message in
        its queue's hash until the worker acknowledges it, after the job's end is recorded). A
        queued run missing here was lost with Redis's memory. Raises QueueUnavailable."""
        import redis
        from dramatiq.common import dq_name

        found: set[tuple[str, str]] = set()
        try:
            for queue in (QUEUE, dq_name(QUEUE)):
                for raw in self.broker.client.hvals(f"{self.broker.namespace}:{queue}.msgs"):
                    try:
                        message = dramatiq.Message.decode(raw)
                    except Exception:  # noqa: BLE001 - not one of ours
                        continue
                    if message.actor_name == run_job.actor_name and len(message.args) == 2:
                        found.add((str(message.args[0]), str(message.args[1])))
        except (redis.RedisError, OSError) as exc:
            raise QueueUnavailable(f"the job queue is unreachable: {one_line(exc)}") from None
        return found


def enqueuer(settings: Settings | None = None) -> Enqueuer:
    """An enqueuer for the queue named by `settings` (default: this process's, whose broker the
    actor is bound to)."""
    if settings is None:
        return Enqueuer(broker)
    own = make_broker(settings)
    own.declare_queue(QUEUE)
    return Enqueuer(own)
