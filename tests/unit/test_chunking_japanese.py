"""Japanese chunking: sentence ends 。！？, character-based sizes, headings as context."""

from __future__ import annotations

import pytest

from enclave_core.documents import Block, Chunk, LoadedDocument
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
    # Short articles share a chunk under their common heading, each opening with its own heading line.
    (chunk,) = chunk_document(doc)
    assert chunk.heading is None  # the preamble has no heading: the chunk sits under the title
    assert "第1章 総則 > 第1条（目的）\nこの規則は、社員の就業に関する事項を定めるものである。" in chunk.text
    assert "第1章 総則 > 第2条（適用範囲）\nこの規則は全社員に適用する。" in chunk.text
    assert "第1章 総則 > 第2条（適用範囲） > 【注意事項】\n申請は前日までに行うこと。" in chunk.text
    body = [b for b in doc.blocks if b.heading]
    (chunk,) = chunk_document(doc_of(*body))
    assert chunk.heading == "第1章 総則"
    assert chunk.text.startswith("第1条（目的）\nこの規則は")
    assert "\n\n第2条（適用範囲） > 【注意事項】\n申請は" in chunk.text


def test_japanese_sections_merge_only_up_to_the_chunk_size_and_on_one_page() -> None:
    article = "従業員は、所定の手続きにより申請しなければならない。" * 3  # 78 characters
    blocks = [Block(article, page=1, heading=f"規程 > 第{i}条") for i in range(1, 9)]
    blocks.append(Block(article, page=2, heading="規程 > 第9条"))
    chunks = chunk_document(doc_of(*blocks), max_words=100)
    assert all(len(c.text) <= 100 * CJK_CHARS_PER_WORD + 10 for c in chunks)
    assert [c.heading for c in chunks[:-1]] == ["規程"] * (len(chunks) - 1)
    assert chunks[-1] == Chunk(index=len(chunks) - 1, text=article, page=2, heading="規程 > 第9条")
    merged = "".join(c.text for c in chunks[:-1])
    assert all(f"第{i}条\n{article}" in merged for i in range(1, 9))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("The employee shall apply in advance.", "The manager approves the request."),
        ("従業員は事前に申請しなければならない。", "The manager approves the request."),
        ("The employee shall apply in advance.", "所属長が申請を承認する。"),
    ],
)
def test_english_sections_never_merge_across_headings(first: str, second: str) -> None:
    chunks = chunk_document(doc_of(Block(first, heading="Rules > Leave"), Block(second, heading="Rules > Approval")))
    assert [(c.text, c.heading) for c in chunks] == [(first, "Rules > Leave"), (second, "Rules > Approval")]


def test_english_numbered_lines_are_not_japanese_headings() -> None:
    doc = load_document(b"Steps\n\n1. Buy milk\n2. Drink it\n", "steps.txt")
    assert all(b.heading is None for b in doc.blocks)
