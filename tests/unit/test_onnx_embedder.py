"""The ONNX Runtime backend gives the PyTorch backend's vectors, in the caller's order, from a cached export."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from enclave_core.embedding import SentenceTransformerEmbedder, build_embedder, resolve_model_path
from enclave_core.embedding.onnx_runtime import QUESTION_SPIN_US, OnnxEmbedder, default_cache_dir, length_buckets
from enclave_core.embedding.registry import variant_of
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


def test_length_buckets_hold_every_text_once_with_little_padding() -> None:
    rng = np.random.default_rng(7)
    lengths = [int(n) for n in rng.integers(3, 257, size=300)] + [256] * 80
    buckets = length_buckets(lengths, max_batch=16)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    assert all(1 <= len(b) <= 16 for b in buckets)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in buckets)
    assert padded <= 1.1 * sum(lengths)  # fixed batches of 16 over sorted lengths pad more
    assert sum(1 for b in buckets if any(lengths[i] == 256 for i in b)) <= 6  # 80+ equal lengths fill batches
    with pytest.raises(ValueError):
        length_buckets([1], max_batch=0)


def test_bucketed_vectors_equal_texts_embedded_one_at_a_time() -> None:
    embedder = OnnxEmbedder(resolve_model_path("packaged:all-MiniLM-L6-v2"), batch_size=64)
    texts = [f"Protein {i} folds " + "and binds its receptor " * (i * 7 % 23) for i in range(24)]
    together = embedder.embed_documents(texts)  # several buckets of different widths, one call
    alone = np.stack([embedder.embed_documents([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_quantised_embedders_name_their_variant_for_the_collection_record() -> None:
    # enclave_core/embedding/registry.py records it: an int8 collection is never queried in float32, nor the reverse.
    settings = EmbeddingSettings(model="packaged:all-MiniLM-L6-v2", backend="onnx", quantize=False)
    assert variant_of(build_embedder(settings)) == "float32"
    assert variant_of(build_embedder(EmbeddingSettings())) == "onnx-int8"  # the default
    assert variant_of(build_embedder(settings.model_copy(update={"quantize": True}))) == "onnx-int8"


def test_batches_run_without_spinning_threads_questions_with_and_the_vectors_stay_the_same(
    onnx: OnnxEmbedder,
) -> None:
    """Spinning (how idle threads wait) differs between the batch and the question session, not one bit."""
    spinning = OnnxEmbedder(onnx._path, batch_size=2, cache_dir=default_cache_dir(), threads=2, spinning=True)
    chosen = OnnxEmbedder(onnx._path, batch_size=2, cache_dir=default_cache_dir(), threads=2)
    batch = chosen.embed_documents(TEXTS)
    question = chosen.embed_query(TEXTS[1])
    entry = "session.intra_op.allow_spinning"
    assert {k: v.get_session_options().get_session_config_entry(entry) for k, v in chosen._sessions.items()} == {
        False: "0",
        True: "1",
    }
    assert np.array_equal(batch, spinning.embed_documents(TEXTS))
    assert np.array_equal(question, spinning.embed_query(TEXTS[1]))


def test_question_threads_stop_spinning_soon_after_the_run(onnx: OnnxEmbedder) -> None:
    """ONNX Runtime's default spin kept a core busy ~40 ms after each question, taken from vLLM reading
    the prompt on the same cores; the question session spins only QUESTION_SPIN_US after its last operator."""
    chosen = OnnxEmbedder(onnx._path, batch_size=2, cache_dir=default_cache_dir(), threads=2)
    chosen.embed_query(TEXTS[0])
    entry = "session.intra_op.spin_duration_us"
    assert chosen._sessions[True].get_session_options().get_session_config_entry(entry) == str(QUESTION_SPIN_US)
    after = []
    for text in TEXTS * 2:
        chosen.embed_query(text)
        started = time.process_time()
        time.sleep(0.15)
        after.append((time.process_time() - started) * 1000)
    assert statistics.median(after) < 10  # ms of CPU while the caller waits; ORT's default: ~38 ms
