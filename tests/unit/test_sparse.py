"""Tests for enclave_core.embedding.sparse: tokenizer, stable term ids, BM25 document and query vectors."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enclave_core.embedding.sparse import BM25Encoder, SparseVector, tokenize

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def term_id(term: str) -> int:
    """Independent oracle for the documented id: the low 31 bits of a 4-byte little-endian blake2b."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little") & 0x7FFFFFFF


def weight_of(vec: SparseVector, term: str) -> float:
    return dict(zip(vec.indices, vec.values, strict=True))[term_id(term)]


# -- tokenize --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("The policies and the policy", ["polici", "polici"]),
        ("Running runs", ["run", "run"]),
        ("connection connected connecting", ["connect", "connect", "connect"]),
        ("It is what it is", []),  # stopwords only
        ("THE Policy", ["polici"]),  # case folded before the stop list
        ("foo_bar Baz-qux 42", ["foo", "bar", "baz", "qux", "42"]),  # '_' and '-' split words
        ("Café  CAFÉ\tcafé", ["café", "café", "café"]),
        ("x" * 39 + " keep", ["x" * 39, "keep"]),
        ("x" * 40 + " keep", ["keep"]),  # 40+ character tokens are dropped
        ("vacation, vacation! vacation?", ["vacat", "vacat", "vacat"]),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_plural_and_singular_share_a_term_id() -> None:
    enc = BM25Encoder()
    assert enc.encode_query("policies").indices == enc.encode_query("policy").indices
    assert enc.encode_query("policies").indices == [term_id("polici")]


# -- term ids ------------------------------------------------------------------------------------


def test_term_ids_are_the_documented_hash_and_stable_across_calls() -> None:
    enc = BM25Encoder()
    first = enc.encode_query("travel expenses reimbursement")
    again = BM25Encoder().encode_query("reimbursement expenses travel")
    assert first == again
    assert sorted(first.indices) == sorted(term_id(t) for t in ("travel", "expens", "reimburs"))
    assert all(0 <= i < 2**31 for i in first.indices)


@pytest.mark.parametrize(("text", "term_id_value"), [("policy", 126533520), ("travel", 1888419479)])
def test_known_term_id_values(text: str, term_id_value: int) -> None:
    # Pinned values: ids are persisted in Qdrant, so they must never change between releases.
    assert BM25Encoder().encode_query(text).indices == [term_id_value]


# -- document vectors (BM25 tf part) -----------------------------------------------------------


def bm25_tf(tf: int, length: int, k1: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> float:
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg_len))


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        # len 1: norm = 1.2 * (0.25 + 0.75/120) = 0.3075; 2.2 / 1.3075
        ("alpha", "alpha", 1.6826003824091778),
        # len 2, tf 2: norm = 1.2 * (0.25 + 1.5/120) = 0.315; 4.4 / 2.315
        ("alpha alpha", "alpha", 1.9006479481641468),
        # len 2, tf 1 (stopwords do not count towards the length)
        ("alpha and the beta", "beta", 2.2 / (1 + 0.315)),
    ],
)
def test_document_weight_exact_values(text: str, term: str, expected: float) -> None:
    assert weight_of(BM25Encoder().encode_document(text), term) == pytest.approx(expected, rel=1e-12)


def test_document_weight_increases_with_tf_and_saturates_at_k1_plus_1() -> None:
    enc = BM25Encoder()
    length = 60
    weights = []
    for tf in (1, 2, 3, 5, 10, 20, 40, 60):
        text = " ".join(["alpha"] * tf + [f"filler{i}" for i in range(length - tf)])
        w = weight_of(enc.encode_document(text), "alpha")
        assert w == pytest.approx(bm25_tf(tf, length))
        weights.append(w)
    assert weights == sorted(weights)
    assert len(set(weights)) == len(weights)  # strictly increasing
    assert all(w < 1.2 + 1 for w in weights)
    gains = [b - a for a, b in itertools.pairwise(weights)]
    # Saturation: going 1->2 adds far more than 40->60.
    assert gains[0] > 10 * gains[-1]


def test_longer_documents_get_lower_weight_for_the_same_tf() -> None:
    enc = BM25Encoder()
    weights = []
    for length in (1, 10, 60, 120, 400):
        text = " ".join(["alpha"] + [f"filler{i}" for i in range(length - 1)])
        weights.append(weight_of(enc.encode_document(text), "alpha"))
    assert weights == sorted(weights, reverse=True)
    assert len(set(weights)) == len(weights)


def test_b_zero_disables_length_normalisation() -> None:
    enc = BM25Encoder(b=0.0)
    short = weight_of(enc.encode_document("alpha"), "alpha")
    long = weight_of(enc.encode_document("alpha " + " ".join(f"w{i}" for i in range(300))), "alpha")
    assert short == pytest.approx(long) == pytest.approx(2.2 / (1 + 1.2))


def test_document_vector_has_one_entry_per_distinct_term() -> None:
    vec = BM25Encoder().encode_document("policy policies Policy travel the and")
    assert sorted(vec.indices) == sorted({term_id("polici"), term_id("travel")})
    assert len(vec.indices) == len(vec.values)
    assert weight_of(vec, "polici") > weight_of(vec, "travel")


def test_empty_and_stopword_only_documents_encode_to_empty_vectors() -> None:
    enc = BM25Encoder()
    assert enc.encode_document("") == SparseVector([], [])
    assert enc.encode_document("the and of") == SparseVector([], [])
    assert enc.encode_query("the and of") == SparseVector([], [])


# -- query vectors ----------------------------------------------------------------------------


def test_query_vector_has_unique_sorted_ids_with_weight_one() -> None:
    vec = BM25Encoder().encode_query("policy POLICIES travel travel the expenses policy")
    assert vec.indices == sorted({term_id("polici"), term_id("travel"), term_id("expens")})
    assert vec.values == [1.0, 1.0, 1.0]


@FUZZ
@given(st.text(alphabet=st.sampled_from("abcdefgh ies.,_-"), max_size=120))
def test_query_and_document_share_terms(text: str) -> None:
    enc = BM25Encoder()
    q = enc.encode_query(text)
    d = enc.encode_document(text)
    assert q.indices == sorted(set(q.indices))
    assert q.values == [1.0] * len(q.indices)
    assert sorted(d.indices) == q.indices
    assert len(d.values) == len(d.indices)
    assert all(0 < v < 2.2 for v in d.values)
    assert enc.encode_document(text) == d  # deterministic


def test_placeholders_are_single_terms_distinct_from_words() -> None:
    tokens = tokenize("Ask <PERSON_7> or <PERSON> about the person in room 7")
    assert "<person_7>" in tokens and "<person>" in tokens
    assert tokens.count("person") == 1 and tokens.count("7") == 1  # only the real words
    assert tokenize("<PERSON_7>") != tokenize("<PERSON_8>")
