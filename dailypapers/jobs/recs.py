"""The recommenders' updater (issue 15): a thread that polls, every `rec_poll_seconds`, for members
whose signals counter moved past their stored model's (one query), refits each (ranking/personal.py,
tens of milliseconds) and stores it, so a save, upvote, dismissal or follow shows in the member's
ranking within a second; and refits the community's model when the members' signals moved, at most
every `rec_community_seconds`. It runs in `dailypapers up` and in the first queue worker process;
any number may run (a model fitted at fewer signals never replaces a newer one), and pages never fit."""

from __future__ import annotations

import logging
import threading
import time

from ..errors import expected, one_line
from ..search.recommend import recommender_for
from ..store import recmodels
from ..store.engine import Store

log = logging.getLogger(__name__)

BATCH = 50  # members refitted per pass at most (the most signals behind first)
FAILED_WAIT = 60.0


class Updater:
    def __init__(self, store: Store, *, poll: float | None = None, community_every: float | None = None):
        settings = store.settings
        self.store = store
        self.poll = poll if poll is not None else settings.rec_poll_seconds
        self.community_every = community_every if community_every is not None else settings.rec_community_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dailypapers-recs", daemon=True)
        self._community_at = -float("inf")
        self._failed: dict[int, float] = {}  # member -> when their failed refit may be tried again
        self.refits = 0

    def start(self) -> "Updater":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> list[str]:
        """One pass: refit the stale members (and the community when due); the owners refitted."""
        recommender = recommender_for(self.store)
        with self.store.session() as session:
            stale = recmodels.stale_members(session, BATCH)
        done = []
        now = time.monotonic()
        for user_id, _signals in stale:
            if self._stop.is_set():
                break
            if self._failed.get(user_id, 0.0) > now:
                continue
            try:
                recommender.fit(user_id)
            except Exception as exc:
                if expected(exc):  # the database away: the pass ends, tried again at the next
                    raise
                # A bug with this member's data: logged, and this member tried again a minute
                # later, not every pass (the others are refitted meanwhile).
                log.exception("refitting the recommender of member %d failed", user_id)
                self._failed[user_id] = now + FAILED_WAIT
                continue
            self._failed.pop(user_id, None)
            done.append(recmodels.owner_of(user_id))
        if time.monotonic() - self._community_at >= self.community_every:
            with self.store.session() as session:
                current = recmodels.community_signals(session)
                head = recmodels.head(session, recmodels.COMMUNITY)
            if current != (head[0] if head else 0):  # moved (down too: a member deleted)
                recommender.fit_community()
                done.append(recmodels.COMMUNITY)
                self._community_at = time.monotonic()
        self.refits += len(done)
        return done

    def _loop(self) -> None:
        failing: str | None = None
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - the database away a moment; a bug logged once per change
                if one_line(exc) != failing:
                    failing = one_line(exc)
                    if expected(exc):
                        log.warning("recommender update failed: %s (said once until it changes)", failing)
                    else:
                        log.exception("recommender update failed")
            else:
                if failing is not None:
                    log.info("recommender updates work again")
                    failing = None
            self._stop.wait(self.poll)


def start_updater(store: Store) -> Updater | None:
    """The updater, started, unless switched off (DAILYPAPERS_REC_POLL_SECONDS=0)."""
    if store.settings.rec_poll_seconds <= 0:
        return None
    return Updater(store).start()
