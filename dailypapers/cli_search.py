"""`dailypapers index`, `search` and `eval`: the search commands, registered on the main app."""

from __future__ import annotations

import csv
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import DailyPapersError


def register(app: typer.Typer) -> None:
    """Add `index`, `search` and `eval` to the main app."""
    app.command("index")(index_command)
    app.command("search")(search_command)
    app.command("eval")(eval_command)


def _progress(console, show: bool):
    """A bar with papers done of all, their rate and the time left (the rate column is ingest's)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .ingest.run import RateColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=console, disable=not show)


# --- index -----------------------------------------------------------------------------------------


def index_command(
    limit: Annotated[Optional[int], typer.Option(min=1, help="Embed at most this many papers, then stop.")] = None,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the full-text and vector indexes from the store first.")] = False,
    runtime: Annotated[
        Optional[str], typer.Option(help="Embedding runtime: auto, onnx-int8, onnx or torch (default: the setting).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (default: when stderr is a terminal).")] = None,  # type: ignore[assignment]
) -> None:
    """Bring the search indexes up to date: full text, embeddings of new and changed papers, vectors.

    Embeddings are committed in batches, so an interrupted run resumes where it stopped. The
    scheduled index job runs the same steps for papers that arrived since.
    """
    from .cli import err, open_store, out
    from .index.update import index_new_papers

    store = open_store()
    show = sys.stderr.isatty() if progress is None else progress
    if rebuild:
        from .index.embeddings import DIM, MODEL_KEY
        from .index.fulltext import FullTextIndex
        from .index.vectors import VectorIndex

        with _progress(err, show) as bar:
            bar.add_task("rebuilding the full-text and vector indexes", total=None, papers=0)
            FullTextIndex.for_store(store).rebuild(store)
            if store.settings.search_semantic:
                VectorIndex.for_store(store, MODEL_KEY, DIM).rebuild(store)
    with _progress(err, show) as bar:
        task = bar.add_task("embedding papers", total=None, papers=0)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, papers=done)

        report = index_new_papers(store, on_progress=on_progress, limit=limit, runtime=runtime)
    out.print(f"indexed: {report.summary()}", highlight=False)


# --- search ----------------------------------------------------------------------------------------


def search_command(
    query: Annotated[
        str,
        typer.Argument(help='Words, "phrases", ti:/au:/abs:/co:/cat:/all: prefixes, AND/OR/ANDNOT, -word, or an arXiv id (see the README).'),
    ],
    sort: Annotated[str, typer.Option(help="relevance, date or upvotes.")] = "relevance",
    since: Annotated[Optional[str], typer.Option(help="Papers of this day or later (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Papers of this day or earlier (YYYY-MM-DD).")] = None,
    category: Annotated[Optional[list[str]], typer.Option("--category", "-c", help="Only this category (repeatable).")] = None,
    has_code: Annotated[Optional[bool], typer.Option("--has-code/--no-code", help="Only papers with (or without) code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results per page.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results.")] = 0,
    mode: Annotated[str, typer.Option(help="hybrid, fulltext or semantic.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print HF-shaped search items.")] = False,
) -> None:
    """Search the stored papers, as the site's search page does."""
    import re

    from .cli import open_store, out, parse_day
    from .search import SearchQuery, lone_arxiv_id, search

    store = open_store()
    page = search(
        store,
        SearchQuery(
            text=query,
            since=parse_day(since, "since"),
            until=parse_day(until, "until"),
            categories=tuple(category or ()),
            has_code=has_code,
            sort=sort,
            limit=limit,
            offset=offset,
            mode=mode,
        ),
    )
    if as_json:
        from .shapes import search_items

        items = search_items(store, [h.paper for h in page.hits], store.settings.base_url.rstrip("/"))
        out.print_json(json.dumps(items))
        return
    from rich.markup import escape

    def marked(html_text: str) -> str:
        # The service's safe HTML, shown in a terminal: marks in bold, entities decoded.
        import html

        parts = re.split(r"(</?mark>)", html_text)
        return "".join("[bold]" if p == "<mark>" else "[/bold]" if p == "</mark>" else escape(html.unescape(p)) for p in parts)

    for number, hit in enumerate(page.hits, start=page.query.offset + 1):
        p = hit.paper
        day = p.get("first_featured") or (p["published_at"].date() if p.get("published_at") else "")
        out.print(f"{number:>3}. {marked(hit.title_html)}")
        out.print(f"     arXiv:{p['arxiv_id']}  {day}  {' '.join(p['categories'][:3])}  score {hit.score:.3f} ({hit.found_by})", highlight=False, markup=False)
        out.print(f"     {marked(hit.snippet_html)}")
    if not page.hits and (arxiv_id := lone_arxiv_id(query)):
        out.print(f"arXiv:{arxiv_id} is not stored here; `dailypapers ingest arxiv:{arxiv_id}` fetches it", highlight=False, markup=False)
    shown = f"{page.query.offset + 1}-{page.query.offset + len(page.hits)}" if page.hits else "none"
    semantic = "" if page.semantic else " (full text only)"
    out.print(f"{shown} of {page.total} results in {page.took_ms:.0f} ms{semantic}", highlight=False)


# --- eval ------------------------------------------------------------------------------------------


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
    from .cli import err, out, settings

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
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(err, show) as bar:
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


# --- eval: BEIR datasets ---------------------------------------------------------------------------


@dataclass
class BeirSet:
    """A retrieval benchmark in the BEIR layout: documents, queries with judgments."""

    name: str
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]  # query id -> text, only the judged ones
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def load_beir(folder: Path) -> BeirSet:
    """Read corpus.jsonl[.gz], queries.jsonl[.gz] and every qrels/*.tsv of a BEIR folder."""
    folder = Path(folder)
    corpus = next((p for p in (folder / "corpus.jsonl", folder / "corpus.jsonl.gz") if p.is_file()), None)
    queries_file = next((p for p in (folder / "queries.jsonl", folder / "queries.jsonl.gz") if p.is_file()), None)
    qrel_files = sorted((folder / "qrels").glob("*.tsv"))
    if corpus is None or queries_file is None or not qrel_files:
        raise DailyPapersError(f"{folder}: not a BEIR folder (needs corpus.jsonl[.gz], queries.jsonl and qrels/*.tsv)")
    doc_ids, titles, texts = [], [], []
    with _open_text(corpus) as f:
        for line in f:
            if line.strip():
                doc = json.loads(line)
                doc_ids.append(str(doc["_id"]))
                titles.append(doc.get("title") or "")
                texts.append(doc.get("text") or "")
    qrels: dict[str, dict[str, int]] = {}
    for path in qrel_files:
        with open(path, encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) < 3 or row[0] == "query-id":
                    continue
                if int(row[2]) > 0:
                    qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with _open_text(queries_file) as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                if str(q["_id"]) in qrels:
                    queries[str(q["_id"])] = q.get("text") or ""
    qrels = {q: rel for q, rel in qrels.items() if q in queries}
    return BeirSet(folder.name, doc_ids, titles, texts, queries, qrels)


def split_of(query_id: str) -> str:
    """A stable half of the queries: "tune" or "test" (by a hash of the id), for honest tuning."""
    import hashlib

    return "tune" if hashlib.blake2b(query_id.encode(), digest_size=1).digest()[0] % 2 == 0 else "test"


@dataclass
class EvalResult:
    """Metrics of one method over one benchmark."""

    method: str
    metrics: dict[str, float]
    queries: int
    ms_per_query: float


def evaluate_beir(
    dataset: BeirSet,
    settings,
    *,
    cache_dir: Path,
    weights: list[float] | None = None,
    split: str = "all",
    sample: int | None = None,
    on_progress=None,
) -> list[EvalResult]:
    """Score full text, semantic and hybrid search over a BEIR set with the site's own ranking code,
    in temporary indexes (the corpus vectors are cached in `cache_dir`, so reruns skip embedding)."""
    import random
    import tempfile
    import time

    from .index.embeddings import DIM, MODEL_KEY, embed_cached, load_embedder, paper_text
    from .index.fulltext import MAX_QUERY_CHARS, Filters, FullTextIndex, parse
    from .index.vectors import VectorIndex
    from .ranking.hybrid import evaluate
    from .search import Engines, rank

    qids = [q for q in dataset.queries if split == "all" or split_of(q) == split]
    if sample is not None and sample < len(qids):
        qids = sorted(random.Random(0).sample(qids, sample), key=qids.index)
    embedder = load_embedder(settings)
    doc_vectors = embed_cached(
        embedder,
        [paper_text(t, x) for t, x in zip(dataset.titles, dataset.texts, strict=True)],
        cache_dir,
        on_chunk=on_progress,
    )
    all_qids = list(dataset.queries)
    query_vectors = embed_cached(embedder, [dataset.queries[q] for q in all_qids], cache_dir)
    row_of = {q: i for i, q in enumerate(all_qids)}
    results = []
    with tempfile.TemporaryDirectory(prefix="dailypapers-eval-") as tmp:
        fulltext = FullTextIndex(Path(tmp) / "fulltext")
        rows = [
            {"id": i, "arxiv_id": doc_id, "title": title, "abstract": text}
            for i, (doc_id, title, text) in enumerate(zip(dataset.doc_ids, dataset.titles, dataset.texts, strict=True))
        ]
        for start in range(0, len(rows), 20000):
            fulltext.add_rows(rows[start : start + 20000])
        vectors = VectorIndex(Path(tmp) / "vectors", MODEL_KEY, DIM)
        import numpy as np

        vectors.build(np.arange(len(rows), dtype=np.int64), doc_vectors)
        methods = [("fulltext", "fulltext", None), ("semantic", "semantic", None)]
        methods += [(f"hybrid w={w:g}" if weights else "hybrid", "hybrid", w) for w in (weights or [settings.search_dense_weight])]
        for label, mode, weight in methods:
            engines = Engines(fulltext, vectors, None, weight=weight if weight is not None else 0.5, candidates=100)
            runs = {}
            started = time.perf_counter()
            for qid in qids:
                # Benchmark queries are prose, not our query language: read as plain words.
                text = dataset.queries[qid][:MAX_QUERY_CHARS]
                ranking = rank(engines, parse(text, syntax=False), Filters(), mode=mode, depth=100, vector=query_vectors[row_of[qid]])
                runs[qid] = [dataset.doc_ids[pid] for pid, _ in ranking.ranked[:100]]
            took = (time.perf_counter() - started) * 1000 / max(len(qids), 1)
            results.append(EvalResult(label, evaluate(runs, {q: dataset.qrels[q] for q in qids}), len(qids), took))
    return results
