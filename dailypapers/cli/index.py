"""`dailypapers index`: the full-text index, the embeddings of new papers, the vector index and the papers' summaries."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import err, open_store, out
from .progress import counting_bar, wanted


def index_command(
    limit: Annotated[Optional[int], typer.Option(min=1, help="Embed at most this many papers, then stop.")] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild the full-text and vector indexes from the store first, and recompute every paper's summary and key phrases.")
    ] = False,
    runtime: Annotated[
        Optional[str], typer.Option(help="Embedding runtime: auto, onnx-int8, onnx or torch (default: the setting).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
) -> None:
    """Bring the indexes up to date: full text, embeddings of new and changed papers, vectors, summaries.

    Embeddings are committed in batches, so an interrupted run resumes where it stopped. The
    scheduled index job runs the same steps for papers that arrived since. Every paper gets a
    one-line summary and 3 to 6 key phrases, extracted from its abstract (or Hugging Face's, when
    mirrored).
    """
    from ..index.update import index_new_papers

    store = open_store()
    show = wanted(progress)
    if rebuild:
        from ..index.model import DIM, MODEL_KEY
        from ..index.fulltext import FullTextIndex
        from ..index.vectors import VectorIndex

        with counting_bar(err, show) as bar:
            bar.add_task("rebuilding the full-text and vector indexes", total=None, papers=0)
            FullTextIndex.for_store(store).rebuild(store)
            if store.settings.search_semantic:
                VectorIndex.for_store(store, MODEL_KEY, DIM).rebuild(store)
    with counting_bar(err, show) as bar:
        task = bar.add_task("embedding papers", total=None, papers=0)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, papers=done)

        report = index_new_papers(store, on_progress=on_progress, limit=limit, runtime=runtime, resummarize=rebuild)
    out.print(f"indexed: {report.summary()}", highlight=False)
