"""Vectors of short phrases and sentences without running the transformer on each: the model's own
output for every token of its vocabulary, alone ("[CLS] token [SEP]", mean-pooled as the model
pools), computed once per weights file (about 4 s for 30,522 tokens on 2 cores) and cached beside the
ONNX export; a phrase's vector is the mean of its tokens' vectors, as Model2Vec distils a sentence
model into a static one. These vectors live in the same space as the stored paper vectors, so a
phrase's cosine to its paper says how central it is (BENCHMARKS.md, issue 14: agreement with
phrases embedded by the transformer itself).

Why not embed each candidate with the transformer: a paper has about a hundred candidates, and the
whole corpus's 7.5 million would take hours on two cores; the table makes a paper's phrases cost
microseconds."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TABLE_NAME = "token-vectors-centred.npy"
_BATCH = 2048


class PhraseVectors:
    """Phrase vectors from the token table; thread-safe (the word cache is only ever added to)."""

    def __init__(self, table: np.ndarray, tokenizer):
        self.table = table
        # A word's own tokens only: tokenizer.json's settings pad every text to 128 [PAD]s.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        self._ids: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _word_ids(self, words: list[str]) -> list[np.ndarray]:
        missing = [w for w in dict.fromkeys(words) if w not in self._ids]
        if missing:
            encoded = self.tokenizer.encode_batch(missing, add_special_tokens=False)
            with self._lock:
                if len(self._ids) > 500_000:  # a bounded cache: a long run's vocabulary only grows
                    self._ids.clear()
                for word, enc in zip(missing, encoded):
                    self._ids[word] = np.asarray(enc.ids, dtype=np.int64)
        return [self._ids.get(w, np.zeros(0, dtype=np.int64)) for w in words]

    def embed(self, phrases: list[tuple[str, ...]]) -> np.ndarray:
        """L2-normalized vectors, one row per phrase (a tuple of words), in the order given; a phrase
        with no tokens gets a zero row."""
        out = np.zeros((len(phrases), self.table.shape[1]), dtype=np.float32)
        if not phrases:
            return out
        vocab = sorted({w for p in phrases for w in p})
        pieces = self._word_ids(vocab)
        counts = np.fromiter((len(t) for t in pieces), dtype=np.int64, count=len(pieces))
        # Each word's token sum once (one gather, one reduceat over the paper's few hundred tokens),
        # then each phrase sums its words' rows: a padded gather, the pad pointing at a zero row.
        sums = np.zeros((len(vocab) + 1, self.table.shape[1]), dtype=np.float32)
        has = counts > 0
        if has.any():
            tokens = np.concatenate([t for t in pieces if len(t)])
            sums[:-1][has] = np.add.reduceat(self.table[tokens], np.cumsum(counts[has]) - counts[has], axis=0)
        sizes = np.append(counts, 0)
        index = {w: i for i, w in enumerate(vocab)}
        width = max(len(p) for p in phrases) or 1
        rows = np.full((len(phrases), width), len(vocab), dtype=np.int64)
        for r, phrase in enumerate(phrases):
            rows[r, : len(phrase)] = [index[w] for w in phrase]
        total = sizes[rows].sum(axis=1)
        out = sums[rows].sum(axis=1) / np.maximum(total, 1)[:, None]
        norms = np.sqrt((out * out).sum(axis=1, keepdims=True))
        return out / np.maximum(norms, 1e-12)


def cosines(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Dot products of each row with one vector, without BLAS: for a few hundred rows, a threaded
    BLAS call on a busy machine cost milliseconds where this costs microseconds."""
    return (vectors * vector).sum(axis=1)


class Interrupted(Exception):
    """The table was not built: the process is shutting down (`should_stop`)."""


def build_table(session, tokenizer, should_stop=None) -> np.ndarray:
    """Every vocabulary token through the model alone: (vocabulary size x dim), centred, L2-normalized
    rows. `should_stop()`, checked between batches, ends it early with Interrupted."""
    vocab = tokenizer.get_vocab()
    size = max(vocab.values()) + 1
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    inputs = {i.name for i in session.get_inputs()}
    table = None
    for start in range(0, size, _BATCH):
        if should_stop is not None and should_stop():
            raise Interrupted("stopped while building the token vectors")
        ids = np.arange(start, min(size, start + _BATCH), dtype=np.int64)
        batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        feed = {"input_ids": batch, "attention_mask": np.ones_like(batch)}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(batch)
        pooled = session.run(None, feed)[0].mean(axis=1)
        if table is None:
            table = np.zeros((size, pooled.shape[1]), dtype=np.float32)
        table[ids] = pooled
    # Centred: every one-token input shares a large common part ("a lone word"), which would make all
    # phrases look alike; without it, phrases chosen agree better with the transformer's own choice.
    table -= table.mean(axis=0)
    return table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)


_loaded: dict[str, PhraseVectors] = {}
_loaded_lock = threading.Lock()


def load(settings, should_stop=None) -> PhraseVectors:
    """The process's phrase vectors for the installed model: the cached table, or built once from
    the int8 ONNX export (the runtime paper vectors come from on a CPU). Raises ConfigError when the
    model is not available, Interrupted when `should_stop()` ends the first build early."""
    from .embeddings import OnnxEmbedder
    from .model import export_onnx, models_dir_of

    models_dir = models_dir_of(settings)
    with _loaded_lock:
        key = str(models_dir)
        if key in _loaded:
            return _loaded[key]
        model_path = export_onnx(models_dir, quantized=True)
        path = Path(model_path).parent / TABLE_NAME
        if path.is_file():
            from tokenizers import Tokenizer

            table, tokenizer = np.load(path), Tokenizer.from_file(str(path.parent / "tokenizer.json"))
        else:
            log.info("computing the model's token vectors for key phrases (once, under %s)", path.parent)
            embedder = OnnxEmbedder(models_dir, quantized=True, threads=settings.embedding_threads, arena=False)
            table, tokenizer = build_table(embedder.session, embedder.tokenizer, should_stop), embedder.tokenizer
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
            np.save(tmp, table)
            tmp.replace(path)
        _loaded[key] = PhraseVectors(table, tokenizer)
        return _loaded[key]
