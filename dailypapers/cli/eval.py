"""`dailypapers eval`: search quality on a BEIR benchmark, measured by dailypapers/evaluation.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError
from ..evaluation import evaluate_beir, load_beir
from .common import err, out, settings
from .progress import counting_bar, wanted


def eval_command(
    dataset_dir: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl[.gz], queries.jsonl, qrels/*.tsv.")],
    cache_dir: Annotated[
        Optional[Path], typer.Option(help="Where corpus vectors are cached (default: data_dir/eval-cache).")
    ] = None,
    weights: Annotated[Optional[str], typer.Option(help="Hybrid weights to compare, e.g. 0.3,0.5,0.7 (default: the setting).")] = None,
    split: Annotated[str, typer.Option(help="Queries to score: all, or the stable halves tune / test.")] = "all",
    sample: Annotated[Optional[int], typer.Option(min=1, help="Score this many queries, sampled with a fixed seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
) -> None:
    """Measure full-text, semantic and hybrid search on a BEIR benchmark: nDCG@10, Recall@10,
    Recall@100 and MRR@10, with the site's own ranking code over temporary indexes."""
    if split not in ("all", "tune", "test"):
        raise DailyPapersError("--split: one of all, tune, test")
    try:
        weight_list = [float(w) for w in weights.split(",")] if weights else None
    except ValueError:
        raise DailyPapersError(f"--weights: numbers between 0 and 1, comma-separated: {weights!r}") from None
    if weight_list and not all(0 <= w <= 1 for w in weight_list):
        raise DailyPapersError("--weights: each between 0 and 1")
    current = settings()
    dataset = load_beir(dataset_dir)
    show = wanted(progress)
    with counting_bar(err, show) as bar:
        task = bar.add_task(f"embedding {dataset.name}", total=len(dataset.doc_ids), papers=0)
        results = evaluate_beir(
            dataset,
            current,
            cache_dir=cache_dir or Path(current.data_dir) / "eval-cache",
            weights=weight_list,
            split=split,
            sample=sample,
            on_progress=lambda done, total: bar.update(task, completed=done, papers=done),
        )
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in results]))
        return
    names = list(results[0].metrics) if results else []
    out.print(f"{dataset.name}: {len(dataset.doc_ids):,} documents, {results[0].queries if results else 0:,} queries ({split})", highlight=False)
    out.print("| method | " + " | ".join(names) + " | ms/query |", highlight=False, markup=False)
    out.print("|---" * (len(names) + 2) + "|", highlight=False, markup=False)
    for r in results:
        cells = " | ".join(f"{r.metrics[n]:.4f}" for n in names)
        out.print(f"| {r.method} | {cells} | {r.ms_per_query:.1f} |", highlight=False, markup=False)
