"""The mirror of hf.co/papers: each day's papers read from Hugging Face's API, stored as featured
(daily_entries, source 'hf') with HF's upvotes (which only grow: merge.py), submitter, comment count
and its own fields (hf_meta), then the arXiv metadata HF does not give (categories, comments,
versions) filled in from arXiv's export API. Used by `dailypapers ingest hf:DAY[..DAY]` and the
hf-mirror job (jobs/registry.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import SourceError
from ..sources import harvest, hf_mirror
from ..store import papers as paper_store
from ..store.engine import Store
from ..types import IngestReport, PaperRecord
from .pipeline import BatchResult, ingest


@dataclass
class MirrorReport:
    report: IngestReport = field(default_factory=IngestReport)
    days: list[dt.date] = field(default_factory=list)  # days read from HF
    filled: int = 0  # papers whose arXiv metadata was filled in
    fill_problem: str | None = None  # why arXiv could not fill them in, when it could not

    def summary(self) -> str:
        span = f"{self.days[0]}..{self.days[-1]}" if len(self.days) > 1 else (str(self.days[0]) if self.days else "no day")
        text = f"HF daily papers {span}: {self.report.summary()}; arXiv metadata of {self.filled} papers filled in"
        if self.fill_problem:
            text += f" (the rest waits for the next run: {self.fill_problem})"
        return text


def import_days(
    store: Store,
    days: list[dt.date],
    *,
    quiet: bool = False,
    fill: bool = True,
    on_day: Callable[[dt.date, IngestReport], None] | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> MirrorReport:
    """Import each day from HF, in order; a day is stored before the next is asked for, so a run
    that fails part-way keeps the days before. Raises SourceError (one line) when HF cannot be read;
    arXiv being unreachable only leaves the metadata for a later run (said in the summary)."""
    out = MirrorReport()
    ids: set[str] = set()
    for day, items in hf_mirror.fetch_days(store.settings, days, quiet=quiet):
        report = ingest(store, items, on_batch=on_batch)
        out.report.add(report)
        out.days.append(day)
        ids.update(i.arxiv_id for i in items if isinstance(i, PaperRecord))
        if on_day:
            on_day(day, report)
    if fill and ids:
        filled, problem = fill_from_arxiv(store, sorted(ids), quiet=quiet, on_batch=on_batch)
        out.filled, out.fill_problem = filled, problem
    return out


def fill_from_arxiv(store: Store, arxiv_ids: list[str], *, quiet: bool = False, on_batch=None) -> tuple[int, str | None]:
    """Fetch from arXiv's export API the papers among `arxiv_ids` that lack categories (HF gives
    title, abstract and authors only); merging keeps HF's fields and upvotes. Returns how many were
    filled in, and why the others were not when arXiv could not be asked."""
    with store.session() as session:
        lacking = paper_store.without_categories(session, arxiv_ids)
    if not lacking:
        return 0, None
    from ..sources.http import PoliteClient

    try:
        with PoliteClient(store.settings, quiet=quiet) as client:
            records = [r for r in harvest.fetch_ids(store.settings, lacking, client=client) if isinstance(r, PaperRecord)]
    except SourceError as exc:
        return 0, str(exc)
    ingest(store, records, on_batch=on_batch)
    with store.session() as session:
        still = set(paper_store.without_categories(session, lacking))
    return len(lacking) - len(still), None


LAST_DAY_KEY = "hf_mirror_last_day"  # kv: the latest day the hf-mirror job imported


def days_due(last: dt.date | None, today: dt.date, catchup: int) -> list[dt.date]:
    """The days a mirror run imports: yesterday and today, and the days since the last success
    (`last`) that a run missed, at most `catchup` days before yesterday."""
    first = today - dt.timedelta(days=1)
    if last is not None and last < first:
        first = max(last, first - dt.timedelta(days=catchup))
    return [first + dt.timedelta(days=i) for i in range((today - first).days + 1)]


def mirror(store: Store, today: dt.date) -> MirrorReport:
    """One run of the hf-mirror job: the days due, then the last success remembered. Raises
    SourceError when HF cannot be read (retries are logged at debug level only)."""
    from ..store import kv

    with store.session() as session:
        last = kv.read(session, LAST_DAY_KEY)
    days = days_due(dt.date.fromisoformat(last) if last else None, today, store.settings.hf_mirror_catchup_days)
    report = import_days(store, days, quiet=True)
    with store.session() as session, session.begin():
        kv.set_value(session, LAST_DAY_KEY, today.isoformat())
    return report
