"""Japanese chunking: sentence ends 。！？, character-based sizes, headings as context."""

from __future__ import annotations

from enclave_core.documents import Block, LoadedDocument
from ingest.chunking import CJK_CHARS_PER_WORD, chunk_document, split_sentences
from ingest.loaders import load_document


def doc_of(*blocks: Block) -> LoadedDocument:
    return LoadedDocument(source="d.txt", title="d", blocks=list(blocks), media_type="text/plain")


def test_japanese_sentences_end_at_full_width_marks() -> None:
    text = "本規則は社員に適用する。休暇は申請が必要です！本当ですか？はい。"
    assert split_sentences(text) == ["本規則は社員に適用する。", "休暇は申請が必要です！", "本当ですか？", "はい。"]


def test_closing_bracket_stays_with_its_sentence() -> None:
    assert split_sentences("「承知しました。」次に進む。") == ["「承知しました。」", "次に進む。"]


def test_english_sentences_are_split_as_before() -> None:
    assert split_sentences("One. Two! e.g. three") == ["One.", "Two! e.g. three"]


def test_japanese_chunks_are_sized_in_characters_and_end_at_sentences() -> None:
    sentence = "社員は毎年十日の有給休暇を取得できる。"  # 19 characters
    doc = doc_of(Block(sentence * 60))
    chunks = chunk_document(doc, max_words=180, overlap_words=30)
    limit = 180 * CJK_CHARS_PER_WORD  # ~400 characters
    assert len(chunks) > 1
    assert all(len(c.text) <= limit for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert " " not in chunks[0].text  # Japanese sentences are joined without spaces
    # A word count would see one "word" per chunk; the whole text is covered, with overlap.
    assert sum(len(c.text) for c in chunks) > len(sentence) * 60


def test_text_without_boundaries_is_cut_between_characters() -> None:
    doc = doc_of(Block("あ" * 1000))
    chunks = chunk_document(doc, max_words=100, overlap_words=0)
    assert all(len(c.text) <= 100 * CJK_CHARS_PER_WORD for c in chunks)
    assert "".join(c.text for c in chunks) == "あ" * 1000


def test_japanese_headings_become_heading_context() -> None:
    text = (
        "就業規則\n\n第1章 総則\n第1条（目的）\nこの規則は、社員の就業に関する事項を定め\nるものである。\n"
        "第2条（適用範囲）\nこの規則は全社員に適用する。\n【注意事項】\n申請は前日までに行うこと。\n"
    )
    doc = load_document(text.encode("cp932"), "rules.txt")
    by_text = {b.text: b.heading for b in doc.blocks}
    assert by_text["この規則は、社員の就業に関する事項を定めるものである。"] == "第1章 総則 > 第1条（目的）"
    assert by_text["この規則は全社員に適用する。"] == "第1章 総則 > 第2条（適用範囲）"
    assert by_text["申請は前日までに行うこと。"] == "第1章 総則 > 第2条（適用範囲） > 【注意事項】"
    chunks = chunk_document(doc)
    assert {c.heading for c in chunks} >= {"第1章 総則 > 第1条（目的）", "第1章 総則 > 第2条（適用範囲）"}


def test_english_numbered_lines_are_not_japanese_headings() -> None:
    doc = load_document(b"Steps\n\n1. Buy milk\n2. Drink it\n", "steps.txt")
    assert all(b.heading is None for b in doc.blocks)
