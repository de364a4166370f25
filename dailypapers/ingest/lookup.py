"""Papers the store lacks, fetched from arXiv in the background. The web only records a request
(a member's submission, a visitor at the page of an unknown paper, an entry of a library import)
and answers at once; the fetch-papers job (`work`) asks arXiv's export API for the due requests,
up to 100 ids a request, stores what arrives, then features each submission under the rules of the
day it was made (or refuses it, saying why) and puts each imported paper into its collection. A failed attempt (arXiv down, or no such paper yet) is tried again
with backoff, DAILYPAPERS_FETCH_ATTEMPTS times in all, then shown as failed. (The web opens the
requests itself, through store/fetches.py: it never imports what talks to arXiv.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import SourceError
from ..sources import harvest
from ..store import fetches
from ..store import library
from ..store import papers as paper_store
from ..store import users as user_store
from ..store.engine import Store
from ..store.schema import utcnow
from ..types import PaperRecord, Rejection
from . import submissions
from .pipeline import ingest

BATCH = 100  # ids per export-API request, arXiv's own page size

def lease(store: Store) -> dt.timedelta:
    """How long a request may stay 'fetching' before another worker takes it (its worker died)."""
    return dt.timedelta(seconds=store.settings.job_lease_seconds)


def pending(store: Store) -> bool:
    """Whether requests wait to be fetched now: the scheduler's check, one indexed query."""
    with store.session() as session:
        return fetches.has_due(session, lease(store))


def retry_wait(settings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones."""
    return settings.fetch_retry_seconds * 2 ** max(0, attempts - 1)


@dataclass
class FetchReport:
    fetched: int = 0  # papers that arrived from arXiv
    featured: int = 0
    refused: int = 0
    looked_up: int = 0
    imported: int = 0  # papers an import asked for, now in their collection
    waiting: int = 0  # tried again later
    failed: int = 0  # given up
    unreachable: str | None = None  # why arXiv could not be asked, when it could not
    next_try: float | None = None

    def summary(self) -> str:
        parts = [f"{self.fetched} fetched from arXiv"]
        for name in ("featured", "refused", "waiting", "failed"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        if self.looked_up:
            parts.append(f"{self.looked_up} looked up")
        if self.imported:
            parts.append(f"{self.imported} imported into collections")
        text = ", ".join(parts)
        if self.next_try is not None:
            text += f"; next try in {self.next_try:.0f} s"
        return text


def _ask_arxiv(store: Store, ids: list[str]) -> dict[str, str]:
    """Fetch `ids` and store what arXiv returns; {id: why it is not stored} for those it did not
    return or whose record was rejected. One attempt: the requests' own backoff does the retrying.
    Raises SourceError when arXiv cannot be asked."""
    from ..sources.http import PoliteClient

    settings = store.settings
    from ..store.pacing import SharedPace

    # The spacing is the site's, shared with every arXiv client of every process (store/pacing.py).
    with PoliteClient(settings.model_copy(update={"http_retries": 0}), pacer=SharedPace(store)) as client:
        items = list(harvest.fetch_ids(settings, ids, client=client))
    records = [i for i in items if isinstance(i, PaperRecord)]
    rejected = [i.reason for i in items if isinstance(i, Rejection)]
    if len(ids) > 1 and any("arXiv API error" in r for r in rejected):
        # arXiv refuses a whole request for one id it finds malformed: ask for each alone.
        reasons: dict[str, str] = {}
        for arxiv_id in ids:
            reasons.update(_ask_arxiv(store, [arxiv_id]))
        return reasons
    if records:
        rejected += [r.reason for r in ingest(store, records).rejections]
    returned = {r.arxiv_id for r in records}
    api_error = next((r for r in rejected if "arXiv API error" in r), None)
    reasons = {i: api_error or f"arXiv has no paper {i}" for i in ids if i not in returned}
    with store.session() as session:
        stored = paper_store.existing(session, sorted(returned))
    for arxiv_id in returned - set(stored):
        why = next((r for r in rejected if arxiv_id in r), rejected[0] if rejected else "rejected")
        reasons[arxiv_id] = f"arXiv's record of {arxiv_id} could not be stored: {why}"
    return reasons


def _apply(store: Store, row: dict, report: FetchReport) -> bool:
    """End the request whose paper is now stored: a lookup is done, a submission is featured on
    its day or refused. False when the paper is not in the store."""
    settings = store.settings
    with store.session() as session, session.begin():
        paper = paper_store.get(session, row["arxiv_id"])
        if paper is None:
            return False
        if row["reason"] == "import":
            # Into the collection it was imported into, if that still exists (counts a signal).
            if row["collection_id"] is not None and row["user_id"] is not None:
                if library.owned(session, row["collection_id"], row["user_id"]) is not None:
                    library.add(session, row["collection_id"], paper.id, row["user_id"])
            fetches.finish(session, row["id"], "done")
            report.imported += 1
            return True
        if row["reason"] != "submission":
            fetches.finish(session, row["id"], "done")
            report.looked_up += 1
            return True
        user = user_store.by_id(session, row["user_id"]) if row["user_id"] else None
        if user is None:
            fetches.finish(session, row["id"], "failed", "the member's account no longer exists")
            report.failed += 1
            return True
        try:
            with session.begin_nested():
                submissions.feature(
                    session, paper, user=user, day=row["day"], submitted_at=row["created_at"],
                    window=settings.submission_window_days,
                )
        except submissions.Refused as exc:
            fetches.finish(session, row["id"], "refused", str(exc))
            report.refused += 1
        else:
            fetches.finish(session, row["id"], "featured")
            report.featured += 1
    return True


def _not_yet(store: Store, row: dict, why: str, report: FetchReport) -> None:
    """An attempt that brought no paper: try again later, or give up after the last attempt."""
    settings = store.settings
    with store.session() as session, session.begin():
        if row["attempts"] >= settings.fetch_attempts:
            tries = f"tried {row['attempts']} time{'s' if row['attempts'] > 1 else ''}"
            fetches.finish(session, row["id"], "failed", f"{why} ({tries})", error=why)
            report.failed += 1
            return
        wait = retry_wait(settings, row["attempts"])
        fetches.retry_at(session, row["id"], why, utcnow() + dt.timedelta(seconds=wait))
        report.waiting += 1
        report.next_try = wait if report.next_try is None else min(report.next_try, wait)


def work(store: Store) -> FetchReport:
    """Work through the due requests, BATCH ids at a time, until none is due or arXiv cannot be
    reached (then they wait their backoff). Safe to run in several workers at once."""
    report = FetchReport()
    while True:
        with store.session() as session, session.begin():
            rows = fetches.take_due(session, lease(store), BATCH)
        if not rows:
            return report
        ids = sorted({r["arxiv_id"] for r in rows})
        with store.session() as session:
            stored = paper_store.existing(session, ids)  # arrived meanwhile (an ingest, another request)
        missing = [i for i in ids if i not in stored]
        reasons: dict[str, str] = {}
        if missing:
            try:
                reasons = _ask_arxiv(store, missing)
            except SourceError as exc:
                report.unreachable = str(exc)
                reasons = {i: f"arXiv could not be reached: {exc}" for i in missing}
            report.fetched += len(missing) - len(reasons)
        for row in rows:
            if not _apply(store, row, report):
                why = reasons.get(row["arxiv_id"]) or f"{row['arxiv_id']} is not in the store"
                _not_yet(store, row, why, report)
        if report.unreachable:
            return report
