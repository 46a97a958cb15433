"""The ONNX Runtime backend gives the PyTorch backend's vectors, in the caller's order, from a cached export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from enclave_core.embedding import SentenceTransformerEmbedder, build_embedder, resolve_model_path
from enclave_core.embedding.onnx_runtime import OnnxEmbedder, default_cache_dir
from enclave_core.settings import EmbeddingSettings

TEXTS = [
    "Short.",
    "Aspirin reduces the risk of myocardial infarction in patients with stable angina, a randomized trial found.",
    "A much longer text about protein folding " * 30,  # past the 256-token window: truncated like torch's
    "",
    "Vitamin D deficiency and bone density.",
]


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    # The user's cache: the export is built once per machine and shared with the product.
    return OnnxEmbedder(resolve_model_path("packaged:all-MiniLM-L6-v2"), batch_size=2, cache_dir=default_cache_dir())


def test_onnx_vectors_match_sentence_transformers_in_input_order(onnx: OnnxEmbedder) -> None:
    torch_backend = SentenceTransformerEmbedder(resolve_model_path("packaged:all-MiniLM-L6-v2"))
    expected = torch_backend.embed_documents(TEXTS)
    got = onnx.embed_documents(TEXTS)  # batch_size=2: several length-sorted batches, put back in order
    assert got.shape == expected.shape == (len(TEXTS), 384)
    assert got.dtype == np.float32
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > 0.9999, cosines
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_query_is_the_documents_vector_and_empty_input_has_the_dimension(onnx: OnnxEmbedder) -> None:
    assert np.allclose(onnx.embed_query(TEXTS[1]), onnx.embed_documents([TEXTS[1]])[0], atol=1e-6)
    assert onnx.embed_documents([]).shape == (0, 384)
    assert onnx.dimension == 384


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    assert isinstance(build_embedder(EmbeddingSettings()), OnnxEmbedder)
    assert isinstance(build_embedder(EmbeddingSettings(backend="torch")), SentenceTransformerEmbedder)
    custom = build_embedder(EmbeddingSettings(cache_dir=str(tmp_path)))
    assert isinstance(custom, OnnxEmbedder)
    assert custom.graph_path().parent.parent == tmp_path  # exported into the configured cache
