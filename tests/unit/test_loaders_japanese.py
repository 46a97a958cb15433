"""Japanese text files load in the encodings Japanese offices use, detected, not assumed."""

from __future__ import annotations

import pytest

from enclave_core.errors import CorruptDocument, InputError, UndecodableDocument
from ingest.loaders import load_document
from ingest.loaders.japanese import best_japanese_decoding, japanese_plausibility

SAMPLES = [
    "山田太郎様",
    "第1条 目的",
    "お問い合わせ先：営業部 佐藤",
    "本契約は、甲乙間の取引条件を定める。",
    "ｶﾀｶﾅ半角と全角ＡＢＣの混在",
    "〒100-0001 東京都千代田区千代田1-1",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize(
    ("codec", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp932", "cp932"), ("euc_jp", "euc_jp")],
)
def test_japanese_text_decodes_in_every_office_encoding(text: str, codec: str, reported: str) -> None:
    doc = load_document(text.encode(codec), "memo.txt")
    assert doc.blocks[0].text == text
    assert doc.metadata["encoding"] == reported


def test_cp932_extensions_decode() -> None:
    text = "①㈱髙橋の件について"  # NEC/IBM extensions: CP932, not plain Shift_JIS
    assert load_document(text.encode("cp932"), "a.txt").blocks[0].text == text


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_markdown_and_html_detect_japanese_encodings(suffix: str) -> None:
    body = (
        "# 就業規則\n\n第1条 この規則は社員に適用する。\n"
        if suffix == ".md"
        else "<p>第1条 この規則は社員に適用する。</p>"
    )
    doc = load_document(body.encode("euc_jp"), "rules" + suffix)
    assert "この規則は社員に適用する" in " ".join(b.text for b in doc.blocks)


def test_undecodable_file_fails_alone_with_a_clear_error() -> None:
    # Shift_JIS with its trailing bytes cut and random high bytes: no encoding we know reads it.
    broken = ("お問い合わせ".encode("cp932") + bytes([0x81, 0x20, 0xFD, 0x85, 0xA0, 0x9F])) * 20
    with pytest.raises(UndecodableDocument, match="unknown encoding") as raised:
        load_document(broken, "broken.txt")
    assert isinstance(raised.value, CorruptDocument) and isinstance(raised.value, InputError)
    assert "お問い合わせ" not in str(raised.value)  # the message never quotes the document
    # The next file is unaffected.
    assert load_document("次の文書".encode("cp932"), "next.txt").blocks[0].text == "次の文書"


def test_plausibility_prefers_the_right_encoding() -> None:
    data = "山田太郎様".encode("euc_jp")
    assert best_japanese_decoding(data) == ("山田太郎様", "euc_jp")
    assert japanese_plausibility("Café") == 0.0
    assert best_japanese_decoding("Café".encode("cp1252")) is None
