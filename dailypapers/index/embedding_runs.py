"""Embedding papers: every paper of the store that has no vector from the model (or whose text
changed since), in committed batches; and a fixed corpus (an evaluation set) with its vectors cached
on disk. The runtimes are in `embeddings.py`."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from ..errors import one_line
from .model import Embedder, paper_text

log = logging.getLogger(__name__)

def embed_cached(
    embedder: Embedder,
    texts: list[str],
    cache_dir: Path,
    *,
    chunk: int = 2048,
    batch_size: int = 32,
    on_chunk=None,
) -> np.ndarray:
    """Embed a fixed corpus (an evaluation set) with its vectors cached on disk, chunk by chunk.

    The cache folder is named by the model, runtime and a hash of every text, so a changed corpus or
    model never reads stale vectors; chunks already written are reused, which makes a killed run
    resume where it stopped. `on_chunk(done, total)` reports progress."""
    h = hashlib.blake2b(digest_size=10)
    for text in texts:
        h.update(text.encode("utf-8", "replace"))
        h.update(b"\x1e")
    folder = Path(cache_dir) / f"{embedder.model}-{embedder.runtime}-{len(texts)}-{h.hexdigest()}"
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for number, start in enumerate(range(0, len(texts), chunk)):
        path = folder / f"{number:05d}.npy"
        part = None
        if path.is_file():
            try:
                part = np.load(path)
            except (OSError, ValueError):
                part = None  # a chunk cut short by a kill: embed it again
        size = min(chunk, len(texts) - start)
        if part is None or part.shape != (size, embedder.dim):
            part = embedder.embed(texts[start : start + size], batch_size=batch_size)
            tmp = folder / f"{number:05d}.{os.getpid()}.tmp.npy"
            np.save(tmp, part)
            tmp.replace(path)
        parts.append(part)
        if on_chunk is not None:
            on_chunk(start + size, len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def embed_papers(
    store, embedder: Embedder, *, batch: int = 64, on_batch=None, stop_after: int | None = None, on_skip=None,
    should_stop=None,
) -> int:
    """Embed every paper that has no vector from this model or whose text changed since, committing
    each batch (a killed run loses one batch at most and the next run resumes). `on_batch(done,
    total)` reports progress; `stop_after` embeds at most that many (tests, partial runs);
    `should_stop()`, asked before each batch, ends the run early (a process shutting down: its
    batches so far stay, the next run resumes). A paper that cannot be embedded is skipped with one
    log line and `on_skip(paper id)`; it is tried again by the next run. Returns how many papers
    were embedded."""
    from ..store import embeddings as embedding_store

    with store.session() as session:
        total = embedding_store.count_stale(session, embedder.model)
    if stop_after is not None:
        total = min(total, stop_after)
    done, seen, after = 0, 0, 0
    while seen < total and not (should_stop is not None and should_stop()):
        with store.session() as session:
            rows = embedding_store.stale(session, embedder.model, after_id=after, limit=min(batch, total - seen))
        if not rows:
            break
        kept, vectors = _embed_rows(embedder, rows, min(batch, 32), on_skip)
        with store.session() as session, session.begin():
            embedding_store.upsert_many(
                session, embedder.model, [(r["id"], r["content_hash"], v) for r, v in zip(kept, vectors, strict=True)]
            )
        done += len(kept)
        seen += len(rows)
        after = rows[-1]["id"]
        if on_batch is not None:
            on_batch(seen, total)
    return done


def _embed_rows(embedder: Embedder, rows: list[dict], batch_size: int, on_skip) -> tuple[list[dict], np.ndarray]:
    """The rows that could be embedded and their vectors. Should the batch fail, each paper is
    tried alone, so one that cannot be embedded costs only itself."""
    try:
        return rows, _checked(embedder.embed([paper_text(r["title"], r["abstract"]) for r in rows], batch_size=batch_size))
    except Exception:  # noqa: BLE001 - find the paper at fault below
        pass
    kept, vectors = [], []
    for row in rows:
        try:
            vectors.append(_checked(embedder.embed([paper_text(row["title"], row["abstract"])], batch_size=1))[0])
            kept.append(row)
        except Exception as exc:  # noqa: BLE001 - one paper must never stop the run
            log.warning("embedding: skipped paper %s: %s", row.get("arxiv_id", row["id"]), one_line(exc))
            if on_skip is not None:
                on_skip(row["id"])
    return kept, np.stack(vectors) if vectors else np.zeros((0, embedder.dim), dtype=np.float32)


def _checked(vectors: np.ndarray) -> np.ndarray:
    if not np.isfinite(vectors).all():
        raise ValueError("the model gave a vector that is not finite")
    return vectors
