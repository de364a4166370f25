"""`dailypapers ingest`: files in any known format, or papers harvested from arXiv."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import err, open_store, out, parse_day
from .progress import ingest_bars, wanted


def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files (plain or .gz), arxiv:CATEGORIES / arxiv:IDS, or hf:DAY / hf:DAY..DAY (Hugging Face's daily papers).")],
    since: Annotated[Optional[str], typer.Option(help="For arxiv:CATEGORIES: first day to harvest (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="For arxiv:CATEGORIES: last day to harvest.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 when any record was rejected.")] = False,
    serial: Annotated[bool, typer.Option(help="Read and write in one process (default: two for large files).")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
    index: Annotated[bool, typer.Option(help="Update the full-text index as papers arrive.")] = True,
) -> None:
    """Ingest papers from files in any known format, or harvest them from arXiv.

    Formats are recognised by content: arXiv API Atom, OAI-PMH (arXiv, arXivRaw), the metadata
    snapshot, daily listing JSON lines, Hugging Face daily_papers JSON. `hf:2026-11-20..2026-11-27`
    reads those days from Hugging Face's API (HF_ENDPOINT), as featured papers, and fills in their
    arXiv metadata. Every run reports how many records were new, updated, unchanged and rejected.
    """
    from ..jobs.ingest import ingest_job

    job = ingest_job(
        open_store(),
        progress=ingest_bars(err, wanted(progress)),
        parallel=not serial,
        index=index,
    )
    report = job.run(sources, since=parse_day(since, "since"), until=parse_day(until, "until"))
    out.print(f"ingested: {report.summary()}", highlight=False)
    for note in job.notes:
        out.print(note, highlight=False, markup=False)
    shown = report.rejections[:20]
    for rejection in shown:
        err.print(f"rejected {rejection}", highlight=False, markup=False)
    if len(report.rejections) > len(shown):
        err.print(f"... and {len(report.rejections) - len(shown)} more rejected", highlight=False)
    if strict and report.rejected:
        raise typer.Exit(1)
