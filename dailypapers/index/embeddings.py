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

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

from .model import DIM, MODEL_KEY, Embedder, export_onnx, model_source, models_dir_of, quiet

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)
BATCH_TOKENS = 2048  # tokens (rows x width) per onnxruntime batch: bounds a batch's memory
RUNTIMES = ("auto", "onnx-int8", "onnx", "torch")


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
        with quiet():
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
