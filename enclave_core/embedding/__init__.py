"""Text embedding. One interface; the backend and model come from settings."""

from enclave_core.embedding.base import Embedder
from enclave_core.embedding.sentence_transformers import SentenceTransformerEmbedder, resolve_model_path

__all__ = ["Embedder", "SentenceTransformerEmbedder", "build_embedder", "resolve_model_path"]

from pathlib import Path

from enclave_core.settings import EmbeddingSettings


def build_embedder(settings: EmbeddingSettings) -> Embedder:
    from enclave_core.embedding.multilingual import PACKAGED_MULTILINGUAL

    if settings.model in PACKAGED_MULTILINGUAL:
        return PACKAGED_MULTILINGUAL[settings.model]()
    name = settings.model.removeprefix("packaged:")
    path = resolve_model_path(settings.model)
    if settings.backend == "onnx" and settings.device == "cpu":
        from enclave_core.embedding.onnx_runtime import OnnxEmbedder

        cache = Path(settings.cache_dir).expanduser() if settings.cache_dir else None
        return OnnxEmbedder(
            path, settings.batch_size, name=Path(name).name, cache_dir=cache, quantize=settings.quantize
        )
    return SentenceTransformerEmbedder(path, settings.batch_size, settings.device, name=Path(name).name)
