"""The embedding model: the int8 ONNX export against sentence-transformers, caching, batching."""

from __future__ import annotations

import time

import numpy as np
import pytest

from support import MODELS, arxiv_sample
from dailypapers.config import Settings
from dailypapers.errors import ConfigError
from dailypapers.index import embeddings as E
from dailypapers.index import model as M
from dailypapers.index.embedding_runs import embed_cached



def shared_embedder(quantized: bool = True) -> E.OnnxEmbedder:
    """The session's ONNX embedder (exported on first use, then cached on disk and in memory)."""
    key = ("onnx", quantized)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = E.OnnxEmbedder(MODELS, quantized=quantized)
    return _EMBEDDERS[key]


_EMBEDDERS: dict = {}


@pytest.fixture(scope="module")
def papers():
    return arxiv_sample(48)


def test_int8_onnx_matches_sentence_transformers(papers):
    texts = [M.paper_text(p["title"], p["abstract"]) for p in papers] + ["graph neural networks", "diffusion"]
    int8 = shared_embedder().embed(texts)
    fp32 = shared_embedder(quantized=False).embed(texts)
    reference = E.TorchEmbedder(device="cpu").embed(texts)
    assert int8.shape == fp32.shape == reference.shape == (len(texts), M.DIM)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    cos_fp32 = (fp32 * reference).sum(axis=1)
    cos_int8 = (int8 * reference).sum(axis=1)
    assert cos_fp32.min() > 0.9999, cos_fp32.min()  # the export itself changes nothing
    assert cos_int8.min() >= 0.99, cos_int8.min()  # quantization costs a little, per text
    assert cos_int8.mean() >= 0.993
    empty = shared_embedder().embed([""])  # no words: a vector all the same, never an error
    assert empty.shape == (1, M.DIM) and np.isfinite(empty).all()


def test_batching_keeps_order_and_results(papers):
    texts = [M.paper_text(p["title"], p["abstract"]) for p in papers[:12]]
    exact = shared_embedder(quantized=False)
    assert np.allclose(exact.embed(texts, batch_size=5), np.stack([exact.embed([t])[0] for t in texts]), atol=1e-4)
    # int8 activations are quantized per batch, so a batch's neighbours move a vector a little.
    int8 = shared_embedder()
    together = int8.embed(texts, batch_size=5)
    alone = np.stack([int8.embed([t])[0] for t in texts])
    assert (together * alone).sum(axis=1).min() >= 0.99
    assert ((together @ alone.T).argmax(axis=1) == np.arange(len(texts))).all()  # same order, same texts
    # Long texts are cut at 256 tokens, not rejected.
    long = int8.embed(["word " * 5000])
    assert long.shape == (1, M.DIM) and np.isfinite(long).all()


def test_export_is_cached_and_keyed_by_the_weights():
    path = M.export_onnx(MODELS)
    stamp = path.stat().st_mtime_ns
    started = time.perf_counter()
    again = M.export_onnx(MODELS)
    assert again == path and again.stat().st_mtime_ns == stamp
    assert time.perf_counter() - started < 5
    assert path.parent.name == f"{M.MODEL_KEY}-{M.weights_hash(M.model_source())}"


def test_paper_text_folds_line_wraps():
    assert M.paper_text("A\n  title", "An abstract\nwith wraps.") == "A title. An abstract with wraps."
    assert M.paper_text("Why?", "Because.") == "Why? Because."


def test_embed_cached_resumes_after_an_interruption(tmp_path):
    class Counting:
        model, dim, runtime = "fake", 4, "test"

        def __init__(self, fail_after=None):
            self.calls, self.fail_after = 0, fail_after

        def embed(self, texts, *, batch_size=32):
            self.calls += 1
            if self.fail_after is not None and self.calls > self.fail_after:
                raise KeyboardInterrupt
            return np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)

    texts = [f"text {i}" * (i % 5 + 1) for i in range(25)]
    with pytest.raises(KeyboardInterrupt):
        embed_cached(Counting(fail_after=2), texts, tmp_path, chunk=10)
    resumed = Counting()
    vectors = embed_cached(resumed, texts, tmp_path, chunk=10)
    assert resumed.calls == 1  # two chunks were kept; only the last is embedded again
    assert vectors[:, 0].tolist() == [len(t) for t in texts]
    changed = embed_cached(Counting(), texts[:-1] + ["other"], tmp_path, chunk=10)
    assert changed[-1, 0] == len("other")  # another corpus never reads the old cache


def test_runtime_setting_is_checked(tmp_path):
    with pytest.raises(Exception):
        Settings(embedding_runtime="tpu")
    settings = Settings(data_dir=tmp_path, models_dir=MODELS)
    with pytest.raises(ConfigError):
        E.load_embedder(settings, runtime="tpu")
    embedder = E.load_embedder(settings, runtime="auto", for_queries=True)
    assert embedder.runtime == "onnx-int8"
    assert E.load_embedder(settings, runtime="auto", for_queries=True) is embedder  # loaded once


def test_auto_runtime_takes_the_gpu_for_papers_only(tmp_path, monkeypatch):
    class FakeGpu:
        model, dim, runtime = M.MODEL_KEY, M.DIM, "torch-cuda"

    monkeypatch.setattr(E, "cuda_available", lambda: True)
    monkeypatch.setattr(E, "TorchEmbedder", FakeGpu)
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "elsewhere")
    monkeypatch.setattr(E, "_embedders", {})
    assert isinstance(E.load_embedder(settings), FakeGpu)  # backfills: sentence-transformers on CUDA
    monkeypatch.setattr(E, "cuda_available", lambda: False)
    assert not isinstance(E.load_embedder(Settings(data_dir=tmp_path, models_dir=MODELS)), FakeGpu)
