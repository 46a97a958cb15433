"""Tests for enclave_core.language (Japanese or not, by script) and enclave_core.textnorm."""

from __future__ import annotations

import pytest

from enclave_core.language import detect_language, is_japanese
from enclave_core.textnorm import normalize_for_search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本契約は、甲乙間の取引条件を定める。", "ja"),
        ("お届け先：山本 花子 様", "ja"),
        ("ご請求先：岡田 稔 様（〒134-9818）", "ja"),  # one kana plus 様 and 〒
        ("振込先：福岡銀行 池袋支店 当座 9420754 様", "ja"),  # all kanji, but 様 is Japanese only
        ("担当：渡辺 大輔 電話 03-5512-8803", "ja"),  # all kanji, no simplified-only character
        ("客户信息：王小明，身份证号码", "en"),  # Chinese: no kana, no Japanese mark, 户 and 证 are simplified
        ("收件人：李娜，地址：上海市浦东新区世纪大道100号", "en"),
        ("Contact 山田太郎 at taro@example.com, he handles the Osaka account.", "en"),  # mostly English
        ("The quarterly report is attached.", "en"),
        ("", "en"),
        ("2024-05-01 12:00", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
    assert is_japanese(text) is (expected == "ja")


def test_normalize_for_search_folds_full_width_and_half_width_forms() -> None:
    assert normalize_for_search("ＡＢＣ１２３") == "ABC123"
    assert normalize_for_search("ｶﾀｶﾅ") == "カタカナ"
    assert normalize_for_search("東京　本社") == "東京 本社"  # ideographic space
    assert normalize_for_search("10〜20") == "10~20"
    assert normalize_for_search("plain ascii") == "plain ascii"
