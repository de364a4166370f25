"""An ingest run over files and arXiv targets, reporting its progress and a report. Used by the CLI,
`up` and the scheduled ingest job, through jobs/ingest.py, which adds the full-text index's step
after each source (ingest sits below the indexes and never imports them)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, Protocol

from ..errors import DailyPapersError, SourceError
from ..sources import harvest, hf_mirror
from ..sources.files import InputFile, detect
from ..store import runs as run_store
from ..store.engine import Store
from ..types import IngestReport
from .pipeline import BatchResult, ingest, ingest_file, logged

# Files smaller than this are read in this process: a second one would cost more than it saves.
PARALLEL_MIN_BYTES = 4 << 20


class Progress(Protocol):
    """Whoever shows a run's progress (the CLI draws bars, cli/progress.py). A run goes through
    stages one at a time: `start` one, `update` it (None leaves a value as it was), `end` it."""

    def start(self, label: str, total: int | None, papers: int = 0) -> None:
        """A stage begins: `total` units of work (bytes of a file, ids; None: not known yet)."""

    def update(self, *, done: int | None = None, total: int | None = None, papers: int | None = None, label: str | None = None) -> None:
        """Units done so far, the total once known, papers so far, a new label."""

    def end(self) -> None:
        """The stage is over (also when it failed)."""


class Quiet(Progress):
    """No display (each method does nothing): the default, for scheduled jobs and tests."""


class SourceStep(NamedTuple):
    """A step run after each source that changed papers, shown as a stage named `label`: it is
    given the ids of the papers the source added or changed (the layer above passes the full-text
    index's sync in, see jobs/ingest.py)."""

    label: str
    run: Callable[[list[int]], object]


class IngestJob:
    def __init__(
        self,
        store: Store,
        *,
        progress: Progress | None = None,
        parallel: bool = True,
        after_source: SourceStep | None = None,
        after_batch: list[Callable[[BatchResult], None]] | None = None,
    ):
        self.store = store
        self.progress = progress or Quiet()
        self.parallel = parallel
        self.after_batch = list(after_batch or [])
        self.after_source = after_source
        self._changed: list[int] = []
        self.notes: list[str] = []  # what a source did beyond the counts (HF: arXiv metadata filled in)

    def _source_done(self) -> None:
        """Hand the papers this source changed to the step after it (once per source: the
        full-text index commits once per source, not a segment and a merge per batch)."""
        changed, self._changed = self._changed, []
        if self.after_source is not None and changed:
            with self._stage(self.after_source.label, None, papers=len(changed)):
                self.after_source.run(changed)

    def _batch_done(self, result: BatchResult) -> None:
        self._changed.extend(result.changed_ids)
        for hook in self.after_batch:
            hook(result)

    @contextmanager
    def _stage(self, label: str, total: int | None, papers: int = 0) -> Iterator[Progress]:
        self.progress.start(label, total, papers)
        try:
            yield self.progress
        finally:
            self.progress.end()

    def run(self, sources: list[str], *, since: dt.date | None = None, until: dt.date | None = None) -> IngestReport:
        """Ingest every source; files are all recognised before anything is stored."""
        files: list[InputFile] = []
        targets: list[tuple[str, str, list[str]]] = []
        hf_days: list[tuple[str, list[dt.date]]] = []
        for source in sources:
            if source.lower().startswith("hf:"):
                hf_days.append((source, hf_mirror.parse_target(source)))
            elif source.lower().startswith("arxiv:"):
                kind, values = harvest.parse_target(source)
                if kind == "categories" and since is None:
                    raise DailyPapersError(f"{source}: harvesting categories needs --since YYYY-MM-DD")
                targets.append((source, kind, values))
            else:
                files.append(detect(source))
        report = IngestReport()
        for input_file in files:
            report.add(logged(self.store, str(input_file.path), lambda f=input_file: self._file(f)))
            self._source_done()
        for source, kind, values in targets:
            if kind == "ids":
                report.add(logged(self.store, source, lambda v=values: self._ids(v)))
            else:
                report.add(logged(self.store, f"{source} since {since}", lambda v=values: self._categories(v, since, until)))
            self._source_done()
        for source, days in hf_days:
            report.add(logged(self.store, source, lambda d=days: self._hf(d)))
            self._source_done()
        return report

    def _hf(self, days: list[dt.date]) -> IngestReport:
        from .hf_mirror import import_days

        with self._stage(f"Hugging Face daily papers: {len(days)} day{'s' if len(days) > 1 else ''}", len(days)) as progress:
            done = 0

            def on_day(day: dt.date, report: IngestReport) -> None:
                nonlocal done
                done += 1
                progress.update(done=done, papers=report.total, label=f"Hugging Face daily papers: {day}")

            mirrored = import_days(self.store, days, on_day=on_day, on_batch=self._batch_done)
            self.notes.append(mirrored.summary())
        return mirrored.report

    def _file(self, input_file: InputFile) -> IngestReport:
        with self._stage(f"{input_file.path.name} ({input_file.format})", input_file.size) as progress:
            counted = 0

            def on_batch(result: BatchResult, position: int) -> None:
                nonlocal counted
                counted += result.report.total
                progress.update(done=position, papers=counted)
                self._batch_done(result)

            parallel = self.parallel and input_file.size >= PARALLEL_MIN_BYTES
            try:
                report = ingest_file(self.store, input_file, on_batch=on_batch, parallel=parallel)
            except SourceError as exc:
                kept = f"the {counted:,} records read before it are stored" if counted else "nothing from it was stored"
                raise SourceError(f"{exc}; {kept}") from None
            progress.update(done=input_file.size, papers=counted)
        return report

    def _ids(self, ids: list[str]) -> IngestReport:
        with self._stage(f"arXiv API: {len(ids)} ids", len(ids)) as progress:
            with self._arxiv_client() as client:
                items = list(harvest.fetch_ids(self.store.settings, ids, client=client))
            done = 0

            def on_batch(result: BatchResult) -> None:
                nonlocal done
                done += result.report.total
                progress.update(done=done, papers=result.report.total)
                self._batch_done(result)

            return ingest(self.store, items, on_batch=on_batch)

    def _arxiv_client(self):
        """A client to arXiv that keeps the site's shared request spacing (store/pacing.py)."""
        from ..sources.http import PoliteClient
        from ..store.pacing import SharedPace

        return PoliteClient(self.store.settings, pacer=SharedPace(self.store))

    def _load_cursor(self, key: str) -> dict | None:
        with self.store.session() as session:
            return run_store.get_cursor(session, key)

    def _save_cursor(self, key: str, cursor: str | None, records: int, done: bool) -> None:
        with self.store.session() as session, session.begin():
            run_store.save_cursor(session, key, cursor, records, done)

    def _categories(self, categories: list[str], since: dt.date | None, until: dt.date | None) -> IngestReport:
        assert since is not None
        with self._stage(f"arXiv OAI-PMH: {','.join(categories)} since {since}", None) as progress:
            started = time.monotonic()

            def sink(items) -> IngestReport:
                return ingest(self.store, items, on_batch=self._batch_done)

            def on_page(seen: int, complete: int | None) -> None:
                progress.update(done=seen, total=complete, papers=seen)

            with self._arxiv_client() as client:
                report = harvest.harvest_categories(
                    self.store.settings, categories, since, until, sink, on_page=on_page,
                    load_cursor=self._load_cursor, save_cursor=self._save_cursor, client=client,
                )
            progress.update(label=f"arXiv OAI-PMH done in {time.monotonic() - started:.0f}s")
        return report
