"""Progress bars on stderr, drawn with Rich from the plain callbacks of ingest, indexing and eval
(those layers report numbers and never draw anything themselves)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


def wanted(flag: bool | None) -> bool:
    """A --progress/--no-progress option's answer; unset: whether stderr is a terminal."""
    return sys.stderr.isatty() if flag is None else flag


class RateColumn(ProgressColumn):
    """Papers so far and papers per second."""

    def render(self, task) -> Text:
        papers = task.fields.get("papers", 0)
        elapsed = task.elapsed or 0
        rate = papers / elapsed if elapsed > 0 else 0
        return Text(f"{papers:,} papers {rate:,.0f}/s", style="progress.data.speed")


def counting_bar(console: Console, show: bool) -> Progress:
    """A bar with papers done of all, their rate and the time left (indexing and eval)."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=console, disable=not show)


class IngestBars:
    """An ingest run's stages (a file, a batch of ids, a harvest, the index update), each drawn as
    a bar with its percentage, papers per second and time left: the `Progress` an `IngestJob` reports to."""

    def __init__(self, console: Console):
        self.console = console
        self._bar: Progress | None = None
        self._task = None

    def start(self, label: str, total: int | None, papers: int = 0) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            RateColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(label, total=total, papers=papers)

    def update(self, *, done: int | None = None, total: int | None = None, papers: int | None = None, label: str | None = None) -> None:
        if self._bar is not None:
            fields = {} if papers is None else {"papers": papers}
            self._bar.update(self._task, completed=done, total=total, description=label, **fields)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def ingest_bars(console: Console, show: bool) -> IngestBars | None:
    """Bars for an ingest run when they are to be shown, else None (the run stays quiet)."""
    return IngestBars(console) if show else None
