"""`dailypapers eval-recs`: recommendation quality on a corpus of daily listings, measured by
dailypapers/recs_evaluation.py (the protocol of issue 15, point 5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import DailyPapersError
from ..recs_evaluation import evaluate_recs, load_corpus
from .common import err, out
from .progress import counting_bar, wanted


def eval_recs_command(
    corpus_file: Annotated[Path, typer.Argument(help="The corpus: jsonl[.gz] of {id, title, abstract, authors, categories, listed}.")],
    cut: Annotated[str, typer.Option(help="The cut date: papers listed before it are the libraries, from it on the wanted.")] = "2026-03-01",
    seed: Annotated[int, typer.Option(help="The seed that samples the authors (and trains our encoder).")] = 1,
    users: Annotated[int, typer.Option(min=1, help="How many authors to sample.")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
) -> None:
    """Measure recommendations: random, the TF-IDF centroid, arxiv-sanity-lite's SVM,
    zotero-arxiv-daily's weighting and ours rank each day's listed papers for sampled authors
    (their papers before the cut are the library); MRR@10, Recall@10, nDCG@10."""
    try:
        dt.date.fromisoformat(cut)
    except ValueError:
        raise DailyPapersError(f"--cut: a date as YYYY-MM-DD, not {cut!r}") from None
    corpus = load_corpus(corpus_file)
    show = wanted(progress)
    with counting_bar(err, show) as bar:
        training = bar.add_task("training the encoder", total=None, papers=0)
        scoring = bar.add_task("ranking for authors", total=None, papers=0, visible=False)

        def on_step(done: int, total: int) -> None:
            bar.update(training, completed=done, total=total)

        def on_task(done: int, total: int) -> None:
            bar.update(scoring, completed=done, total=total, visible=True)

        results, tasks, features = evaluate_recs(corpus, cut, seed=seed, users=users, on_task=on_task, on_step=on_step)
    if as_json:
        out.print_json(json.dumps({"cut": cut, "seed": seed, "authors": len(tasks), "fit_seconds": round(features.seconds, 1),
                                   "results": [r.__dict__ for r in results]}))
        return
    out.print(f"{corpus_file.name}: {len(corpus):,} papers, cut {cut}, seed {seed}, {len(tasks):,} authors; "
              f"corpus models fitted in {features.seconds:.0f} s", highlight=False, markup=False)
    names = list(results[0].metrics)
    out.print("| method | " + " | ".join(names) + " | (author, day) pairs | s/author |", highlight=False, markup=False)
    out.print("|---" * (len(names) + 3) + "|", highlight=False, markup=False)
    for r in results:
        cells = " | ".join(f"{r.metrics[n]:.4f}" for n in names)
        out.print(f"| {r.method} | {cells} | {r.pairs:,} | {r.seconds / max(len(tasks), 1):.2f} |", highlight=False, markup=False)
