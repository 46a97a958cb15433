"""The GiNZA sentence gate: which sentences reach the NER, and that gating loses no detection."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from enclave_core.redaction.japanese_gate import NerGate, ner_regions


@dataclass
class _Token:
    idx: int
    tag_: str


@dataclass
class _Doc:
    """The two things the gate reads from a spaCy Doc: the text and each token's offset and Sudachi tag."""

    text: str
    tokens: list[_Token]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tokens)


def _doc(text: str, proper: list[str]) -> _Doc:
    return _Doc(text, [_Token(text.index(p), "名詞-固有名詞-人名-姓") for p in proper])


@pytest.mark.parametrize(
    ("text", "proper", "expected"),
    [
        ("本規程は全従業員に適用する。", [], []),
        ("有給休暇は10日とする。", [], []),  # digits alone: the pattern recognizers' job
        ("担当は田中です。", ["田中"], ["担当は田中です。"]),
        ("本規程は全員に適用する。連絡は鈴木さんへ。", [], ["連絡は鈴木さんへ。"]),
        ("Contact: Taro Yamada\n", [], ["Contact: Taro Yamada\n"]),
        ("宛先 k.nakamura@example.jp\n本文なし。", [], ["宛先 k.nakamura@example.jp\n"]),
        # neighbours merge into one piece (GiNZA keeps the context); the sentence between is cut out
        ("山田様。佐藤氏へ。規程を改める。木村君", [], ["山田様。佐藤氏へ。", "木村君"]),
    ],
)
def test_regions(text: str, proper: list[str], expected: list[str]) -> None:
    assert [text[s:e] for s, e in ner_regions(_doc(text, proper), NerGate())] == expected


def test_disabled_gate_sends_the_whole_text() -> None:
    text = "本規程は全従業員に適用する。"
    assert ner_regions(_doc(text, []), NerGate(enabled=False)) == [(0, len(text))]
    assert ner_regions(_doc("", []), NerGate(enabled=False)) == []


def test_gated_redactor_finds_what_the_ungated_one_finds() -> None:
    from enclave_core.policy.loader import policies_dir
    from enclave_core.redaction import Redactor
    from enclave_core.redaction.japanese_engine import GatedGinzaEngine

    texts = [
        "第1条 本規程は全従業員に適用する。\n担当：人事部 高橋 美咲（タカハシ ミサキ）様 080-4521-7736\n以上。",
        "出張は前日までに申請する。佐々木陽介さん（Yosuke Sasaki）が大阪府大阪市北区梅田2丁目1番3号へ出張した。",
    ]
    redactor = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    gate = GatedGinzaEngine.gate
    try:
        GatedGinzaEngine.gate = replace(gate, enabled=False)
        ungated = redactor.detect_many(texts)
    finally:
        GatedGinzaEngine.gate = gate
    gated = redactor.detect_many(texts)
    assert any(d.entity == "PERSON" for d in ungated[0])
    for u, g in zip(ungated, gated, strict=True):
        covered = {(i, d.entity) for d in g for i in range(d.start, d.end)}
        assert {(i, d.entity) for d in u for i in range(d.start, d.end)} <= covered


def test_pieces_reuse_the_whole_texts_tokens_and_find_the_same_entities() -> None:
    """The engine hands GiNZA copies of the whole text's tokens; tokenising each piece again (the old
    path, one more Sudachi run) gives the same entities on texts whose names open and close pieces."""
    from spacy.util import filter_spans

    from enclave_core.redaction.japanese_engine import GINZA_TO_ENTITY, GatedGinzaEngine, shared_ja_nlp_engine

    engine = shared_ja_nlp_engine()
    nlp = engine.nlp["ja"]  # type: ignore[index]
    assert not nlp.tokenizer.need_subtokens and "morphologizer" not in nlp.pipe_names
    texts = [
        "第1条 本規程は全従業員に適用する。\n担当：人事部 高橋 美咲（タカハシ ミサキ）様 080-4521-7736\n以上。",
        "出張は前日までに申請する。佐々木陽介さん（Yosuke Sasaki）が大阪府大阪市北区梅田2丁目1番3号へ出張した。",
        "山田太郎\n鈴木花子様。本日の会議は中止です。福岡県の小林さんへ連絡。",
    ]
    for text in texts:
        doc = nlp.make_doc(text)
        spans = []
        for start, end in ner_regions(doc, GatedGinzaEngine.gate):
            for ent in nlp(text[start:end]).ents:
                span = doc.char_span(start + ent.start_char, start + ent.end_char, ent.label_, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
        # Presidio keeps the mapped labels only, renamed to the policy's entity names.
        expected = [
            (s.start_char, s.end_char, GINZA_TO_ENTITY[s.label_])
            for s in filter_spans(spans)
            if s.label_ in GINZA_TO_ENTITY
        ]
        got = [(e.start_char, e.end_char, e.label_) for e in engine.process_text(text, "ja").entities]
        assert expected, text
        assert got == expected
