"""BM25 terms for Japanese (Sudachi) and proof that English terms did not change."""

from __future__ import annotations

import pytest

from enclave_core.embedding.japanese_tokens import japanese_terms, split_scripts
from enclave_core.embedding.sparse import BM25Encoder, tokenize

# Terms and document vectors of the tokenizer as it was before Japanese support (commit 95442b7).
ENGLISH_GOLDEN = [
    (
        "Aspirin reduces the risk of myocardial infarction in patients with diabetes (n=1,204; p<0.05).",
        ["aspirin", "reduc", "risk", "myocardi", "infarct", "patient", "diabet", "n", "1", "204", "p", "0", "05"],
    ),
    (
        "<PERSON_7> approved the 16-week parental leave for employees at Northwind Labs, Inc. on 2 March 2019.",
        [
            "approv",
            "16",
            "week",
            "parent",
            "leav",
            "employe",
            "northwind",
            "lab",
            "inc",
            "2",
            "march",
            "2019",
            "<person_7>",
        ],
    ),
    (
        "Naïve T-cells, café résumé — déjà vu! It's the running runners' RUN.",
        ["naïv", "t", "cell", "café", "résumé", "déjà", "vu", "s", "run", "runner", "run"],
    ),
]
GOLDEN_INDICES = [
    406592087, 83823333, 239543062, 1285276576, 1338630758, 388593810, 1844678401,
    1379038460, 120362236, 990832731, 439391093, 613549620, 1320619605,
]  # fmt: skip


@pytest.mark.parametrize(("text", "terms"), ENGLISH_GOLDEN)
def test_english_terms_are_unchanged(text: str, terms: list[str]) -> None:
    assert tokenize(text) == terms
    other, japanese = split_scripts(text)
    assert other is text and japanese == []


def test_english_document_vector_is_unchanged() -> None:
    vector = BM25Encoder().encode_document(ENGLISH_GOLDEN[0][0])
    assert vector.indices == GOLDEN_INDICES
    assert [round(v, 5) for v in vector.values] == [1.57424] * 13
    repeated = BM25Encoder().encode_document(ENGLISH_GOLDEN[2][0])
    assert sorted(round(v, 4) for v in repeated.values)[-1] == 1.8468  # "run" twice


def test_japanese_run_becomes_content_words_not_one_token() -> None:
    terms = tokenize("従業員は経費精算システムから申請しなければならない。")
    assert "従業員" in terms and "申請" in terms
    assert "経費精算システム" in terms  # split mode C: the longest unit
    assert {"経費", "精算", "システム"} <= set(terms)  # and its mode-A parts, so 経費精算 alone still matches
    assert "従業員は経費精算システムから申請しなければならない" not in terms


def test_particles_auxiliaries_and_punctuation_are_dropped() -> None:
    terms = japanese_terms("パスワードは十二文字以上にしなければならない。")
    for stop in ("は", "に", "ば", "ない", "。", "なけれ"):
        assert stop not in terms
    assert "パスワード" in terms


def test_normalised_forms_match_across_spellings() -> None:
    # Half-width katakana, full-width digits and inflected verbs meet their ordinary forms.
    assert "パスワード" in tokenize("ﾊﾟｽﾜｰﾄﾞを変更")
    assert "12" in tokenize("１２文字")
    assert "行う" in tokenize("研修を行えば")


def test_query_and_document_share_terms_in_mixed_text() -> None:
    encoder = BM25Encoder()
    document = encoder.encode_document("VPNの接続には多要素認証(MFA)を使用する。<PERSON_3>が担当。")
    query = encoder.encode_query("多要素認証 VPN")
    assert set(query.indices) <= set(document.indices)
    assert "<person_3>" in tokenize("担当は<PERSON_3>です")
    assert {"vpn", "mfa"} <= set(tokenize("VPNの接続とMFA"))
