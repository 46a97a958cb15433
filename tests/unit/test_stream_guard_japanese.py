"""The streaming output guard on Japanese answers (no spaces: released by clause), attack tests.

The same two properties as the English tests (test_stream_guard.py): the released pieces joined
equal the guard's output on the whole answer, and no personal value, or a piece of one, is ever
released that the whole-answer guard removed, whatever the token boundaries. A context-sensitive
fake guard makes the cases exact (a name only before an honorific, a My Number only after its
keyword, one written across clause marks); the real redactor (GiNZA and the Japanese recognizers)
runs over answers with names and honorifics, phone numbers and My Numbers split at every character.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from benchmarks.pii_ja_data import my_number_check_digit
from enclave_core.stream_guard import GuardedStream
from tests.unit._guards import rules_guard
from tests.unit.test_stream_guard import assert_safe, chars, random_tokens, real_guard, stream_all

# A name is a name before さん/様 (right context); twelve digits are a My Number after マイナンバー
# (left context), also when written in groups split by spaces or clause marks; a phone number always.
_RULES = [
    (re.compile(r"(?:山田太郎|佐藤)(?=さん|様)"), "PERSON"),
    (re.compile(r"(?<=マイナンバーは)\d{4}[ 、]?\d{4}[ 、]?\d{4}"), "NATIONAL_ID"),
    (re.compile(r"0\d{1,3}-\d{2,4}-\d{4}"), "PHONE_NUMBER"),
]


ja_guard = rules_guard(_RULES)


SECRETS = ["山田", "太郎", "佐藤", "1234", "5678", "9018", "090-", "1234-5678"]

TEXTS = [
    "申請書は山田太郎さんが保管しています。提出は総務部の窓口で受け付けます［1］。",
    "担当は佐藤様です、連絡先は090-1234-5678です。平日の午前中に電話してください。",
    "マイナンバーは1234、5678、9018です。この番号は本人確認にだけ使われます。",
    "マイナンバーは1234 5678 9018です。書類は人事部が一年間保管します。",
    "佐藤という地名は多く、全国にあります。山田太郎という名前の例もよく使われます。",
    "はい、そうです。\n手続きは三つあります。まず申請書を出し、次に審査を受け、最後に通知を待ちます。",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("split", ["chars", "tokens", "whole"])
def test_streamed_japanese_equals_the_guarded_answer_and_leaks_nothing(text: str, split: str) -> None:
    deltas = {"chars": chars(text), "tokens": random_tokens(text, random.Random(text)), "whole": [text]}[split]
    pieces, stream = stream_all(ja_guard, deltas)
    full, counts = ja_guard(text)
    assert "".join(pieces) == full == stream.text
    assert stream.counts == counts
    assert not stream.diverged
    assert_safe(pieces, full, SECRETS)


LONG = TEXTS[5] + "審査には通常二週間ほどかかりますので、早めに申請書を出してください。結果は書面で本人に通知されます。"


def test_japanese_clauses_leave_before_the_answer_ends() -> None:
    stream = GuardedStream(ja_guard)
    deltas = chars(LONG)
    first_at = next(i for i, d in enumerate(deltas) if list(stream.feed(d)))
    assert first_at < len(deltas) - 20  # released while the model is still writing
    pieces, _ = stream_all(ja_guard, chars(LONG))
    assert len(pieces) >= 3  # clause by clause, not one block at the end
    assert "".join(pieces) == LONG


def test_a_clause_waits_for_its_right_context() -> None:
    stream = GuardedStream(ja_guard)
    released = [p for d in chars("申請書は山田太郎") for p in stream.feed(d)]
    released += [p for d in chars("さんが保管し、") for p in stream.feed(d)]
    released += [p for d in chars("提出は総務部の窓口で受け付けます。") for p in stream.feed(d)]
    assert released == []  # the cut's sentence has no whole sentence of right context after it yet
    released += [
        p
        for d in chars("受付の時間は平日の午前九時から午後五時までとなっており、土日は休みです。")
        for p in stream.feed(d)
    ]
    assert "".join(released) == "申請書は<PERSON>さんが保管し、提出は総務部の窓口で受け付けます。"


def gate_like_guard(text: str) -> tuple[str, dict[str, int]]:
    """Like the Japanese engine's NER gate: a name is found only in a sentence that holds an
    honorific anywhere (GiNZA reads only such sentences)."""
    out, n = [], 0
    for sentence in re.findall(r"[^。！？!?\n]*(?:[。！？!?]+|\n|$)", text):
        if "様" in sentence:
            sentence, k = re.subn("田中花子", "<PERSON>", sentence)
            n += k
        out.append(sentence)
    return "".join(out), ({"PERSON": n} if n else {})


def test_a_name_whose_sign_comes_later_in_its_sentence_is_never_released() -> None:
    """Attack (review finding): a cut at 、 with only a clause of right context read the name's
    sentence in part, without the honorific later in it, and released the name."""
    text = (
        "担当の田中花子は、今月から本社の総務部で窓口の責任者を務めています、前任は鈴木様です。"
        "次の説明では申請の手順と必要な書類を順番に確認していきます。以上です。"
    )
    full, counts = gate_like_guard(text)
    assert "田中花子" not in full
    for deltas in (chars(text), random_tokens(text, random.Random(7)), [text]):
        pieces, stream = stream_all(gate_like_guard, deltas)
        assert "".join(pieces) == full and stream.counts == counts
        assert_safe(pieces, full, ["田中花子", "田中", "花子"])


@pytest.mark.parametrize("text", [TEXTS[2], TEXTS[1]])
def test_a_value_across_clause_marks_is_never_released_in_part(text: str) -> None:
    full, counts = ja_guard(text)
    for cut in range(1, len(text)):
        pieces, stream = stream_all(ja_guard, [*random_tokens(text[:cut], random.Random(cut)), text[cut:]])
        assert "".join(pieces) == full and stream.counts == counts, cut
        assert_safe(pieces, full, SECRETS)
        pieces, stream = stream_all(ja_guard, chars(text[:cut]) + random_tokens(text[cut:], random.Random(-cut)))
        assert "".join(pieces) == full and stream.counts == counts, cut
        assert_safe(pieces, full, SECRETS)


def test_english_answers_are_not_cut_at_their_question_marks() -> None:
    # "?" and "!" end clauses only in Japanese text; an English answer keeps the word rules.
    def whole_only(text: str) -> tuple[str, dict[str, int]]:
        return text.replace("it? Yes! Smith", "<X>"), {}

    pieces, _ = stream_all(whole_only, chars("Is it? Yes! Smith"))
    assert pieces == ["Is ", "<X>"]  # "Is" is a function word before a lowercase one; the rest as a whole


# -- the real redactor -----------------------------------------------------------------------------

MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))
MY_NUMBER_SPACED = f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}"

ANSWERS = [
    (
        "申請書は山田太郎さんが保管しています。提出は総務部の窓口で受け付けます［1］。受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。",
        "山田太郎",
    ),
    (
        "担当者は鈴木花子様です、平日の午前中に窓口へお越しください。詳しくは規程を参照してください。受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。",
        "鈴木花子",
    ),
    (
        "連絡先の携帯電話は090-1234-5678です、平日の日中につながります。夜間は留守番電話です。受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。",
        "090-1234-5678",
    ),
    (
        f"本人のマイナンバーは{MY_NUMBER_SPACED}です。この番号は本人確認にだけ使われます。受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。",
        MY_NUMBER_SPACED,
    ),
]


@pytest.mark.parametrize(("text", "value"), ANSWERS, ids=[v for _, v in ANSWERS])
def test_a_japanese_value_split_at_every_character_is_never_released(redactor: Any, text: str, value: str) -> None:
    guard = real_guard(redactor)
    full, counts = guard(text)
    assert value not in full  # the whole-answer guard removes it
    start = text.index(value)
    rng = random.Random(value)
    released_early = False
    for k in range(1, len(value)):
        cut = start + k
        deltas = random_tokens(text[:cut], rng) + random_tokens(text[cut:], rng)
        pieces, stream = stream_all(guard, deltas)
        assert "".join(pieces) == full and stream.counts == counts and not stream.diverged, k
        assert_safe(pieces, full, [value, value[: len(value) // 2 + 1], value[len(value) // 2 :]])
        released_early = released_early or len(pieces) > 1
    assert released_early  # clauses leave before the end of the answer
