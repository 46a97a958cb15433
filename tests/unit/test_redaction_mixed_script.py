"""Mixed-script texts: English PII inside Japanese text and Japanese PII inside English text.

Security review F1: a text that reads as Japanese went to the Japanese engine only, which has no
English name detection and no non-Japanese phone/SSN patterns, so "Liam O'Brien の電話番号 +44 20 7946
0958 は？" came through untouched. Each case plants values and checks none survives redaction, on the
single-text path (``redact``, questions and the guard) and the batch path (``redact_many``, ingest).
Loads spaCy and GiNZA once for the module.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from enclave_core.redaction import Redactor

POLICY = Path(__file__).resolve().parents[2] / "policies" / "redaction.yaml"

CASES: list[tuple[str, str, list[str]]] = [
    # (id, text, planted values that must not survive)
    ("question-en-name-uk-phone", "Liam O'Brien の電話番号 +44 20 7946 0958 は？", ["O'Brien", "7946 0958"]),
    (
        "ja-paragraph-en-contact-line",
        "本件の担当者は以下のとおりです。ご不明な点がございましたら、お気軽にお問い合わせください。\n"
        "Contact: Mr. Peter Gabriel, phone +1 (415) 555-0132 or 415-555-0199, SSN 078-05-1120, "
        "e-mail peter.gabriel@example.com\n"
        "以上、よろしくお願いいたします。",
        ["Gabriel", "555-0132", "555-0199", "078-05-1120", "peter.gabriel@example.com"],
    ),
    (
        "ja-sentence-en-phone-inline",
        "緊急時はジョンさんではなく John Miller（(415) 555-0132）に連絡してください。",
        ["Miller", "555-0132"],
    ),
    ("ja-label-ssn", "社会保障番号は 078-05-1120、米国の携帯は 415-555-0199 です。", ["078-05-1120", "415-555-0199"]),
    (
        "en-paragraph-ja-name-honorific-ja-phone",
        "Please forward the signed contract to our partner in Osaka, 田中一郎様, who can be reached "
        "at 03-1234-5678 during office hours.",
        ["田中一郎", "03-1234-5678"],
    ),
    (
        "en-paragraph-ja-name-kana-mobile",
        "The site visit was arranged by 佐藤 美咲さん (携帯 090-4521-7736) from the Nagoya office.",
        ["佐藤 美咲", "090-4521-7736"],
    ),
    (
        "en-paragraph-ja-name-without-honorific",
        "Please send the invoice to 山本 花子 in accounting before the end of the quarter, thanks.",
        ["山本 花子", "花子"],
    ),
    (
        "en-paragraph-katakana-name",
        "The applicant タナカ ヒロシ submitted the form with all required attachments yesterday afternoon.",
        ["タナカ ヒロシ"],
    ),
    (
        "en-paragraph-ja-bank-account-and-title",
        "For transfers use みずほ銀行 普通 1234567; if it fails, call 高橋部長 on 090-1234-5678 tonight.",
        ["1234567", "高橋", "090-1234-5678"],
    ),
]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor.from_policy_file(POLICY)


@pytest.mark.parametrize(("text", "planted"), [(t, p) for _, t, p in CASES], ids=[c[0] for c in CASES])
def test_no_planted_value_survives_redact(redactor: Redactor, text: str, planted: list[str]) -> None:
    out = redactor.redact(text).text
    assert [v for v in planted if v in out] == [], out


def test_no_planted_value_survives_the_batch_path(redactor: Redactor) -> None:
    texts = [t for _, t, _ in CASES]
    outs = redactor.redact_many(texts, batch_size=2)
    leaks = {case[0]: [v for v in case[2] if v in r.text] for case, r in zip(CASES, outs, strict=True)}
    assert {k: v for k, v in leaks.items() if v} == {}
    assert [r.text for r in outs] == [redactor.redact(t).text for t in texts]  # one meaning, both paths


def test_detections_point_into_the_mixed_text(redactor: Redactor) -> None:
    text = CASES[1][1]
    found = redactor.detect_many([text])[0]
    assert found == sorted(found, key=lambda d: d.start)
    assert all(a.end <= b.start for a, b in pairwise(found))  # merged, no overlaps
    spans = {text[d.start : d.end] for d in found}
    assert any("078-05-1120" in s for s in spans)
    assert any("peter.gabriel@example.com" in s for s in spans)


def test_explicit_language_routes_as_that_language(redactor: Redactor) -> None:
    """``language=`` (the stream guard's per-engine windows and its end of stream) routes the text as that
    language, other-script runs included: a streamed Japanese answer must not release what ``redact``
    removes (it did, measured, while ``language="ja"`` meant the Japanese engine alone)."""
    text = CASES[0][1]
    assert redactor.redact(text, language="ja").text == redactor.redact(text).text
    assert "O'Brien" not in redactor.redact(text, language="en").text


def test_a_streamed_japanese_answer_releases_no_english_value(redactor: Redactor) -> None:
    from enclave_core.stream_guard import GuardedStream, RedactorGuard

    answer = "担当者は Liam O'Brien です。電話番号は +44 20 7946 0958 です。詳しくは総務部にお問い合わせください。"
    guard = RedactorGuard(redactor)
    stream = GuardedStream(guard)
    released = "".join([piece for ch in answer for piece in stream.feed(ch)] + list(stream.flush()))
    assert [v for v in ("O'Brien", "7946 0958") if v in released] == [], released
    assert released == guard(answer)[0]


@pytest.mark.parametrize(
    "text",
    [
        "山田太郎様の電話は03-1234-5678です。住所は東京都新宿区西新宿2丁目8番1号です。",
        # Domestic and bare numbers stay the Japanese engine's (toll-free is a business's; 法人番号 public).
        "お問い合わせはフリーダイヤル 0120-498-565 まで。法人番号 6346749305455 の株式会社です。",
        "CSIRT窓口とNTTの担当部署に連絡してください。",  # acronyms are not names
    ],
)
def test_japanese_text_without_foreign_pii_reads_as_before(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text).text == redactor.redact(text, language="ja").text
