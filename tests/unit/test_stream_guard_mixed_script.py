"""Attack tests: a streamed answer that begins in Japanese and turns mostly English part-way.

The guard over the whole answer reads it with one engine, chosen by the whole answer's script: a
mostly-English answer gets the English engine, also for its Japanese sentences. The stream sees the
answer grow: while it is Japanese its clauses are checked with the Japanese engine, and English words
that follow Japanese text sit in windows that still read as Japanese. The Japanese engine misses
English names and American phone numbers that the English one finds (review finding 6), so the
stream released "John Miller" and "(415) 555-0132" that the whole-answer guard redacts. No released
piece may hold a value the whole-answer guard removes, whatever the token boundaries; the pieces
joined equal the guarded whole answer.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from enclave_core.stream_guard import RedactorGuard
from tests.unit.test_stream_guard import assert_safe, chars, random_tokens, stream_all
from tests.unit.test_stream_guard_api import (  # noqa: F401 (gateway: a fixture)
    Gateway,
    assert_never_released,
    gateway,
    query_stream,
    tokens_split_at,
)

JAPANESE = (
    "申請書は総務部の窓口で受け付けます。受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。"
)
TURNS_ENGLISH = (
    JAPANESE + " For questions in English, please contact our coordinator John Miller by phone at (415) 555-0132"
    " or by email. He answers requests from the overseas offices and explains the forms in detail for everyone."
)
VALUES = ["John Miller", "Miller", "(415) 555-0132", "555-0132"]


def test_the_premise_a_japanese_window_of_an_english_answer(redactor: Any) -> None:
    """The premise: the whole answer reads as English and its guard removes the values; a window that
    still reads as Japanese goes the Japanese route, whose engine alone knows no English name. Since
    review F1 that route also reads the window's Latin runs in English, so it removes them too; the
    stream tests below stay as the regression tests."""
    full = redactor.redact(TURNS_ENGLISH).text
    assert all(v not in full for v in VALUES)
    window = JAPANESE[-40:] + TURNS_ENGLISH[len(JAPANESE) : len(JAPANESE) + 100]
    assert redactor.language_of(window) == "ja"
    assert "John Miller" not in redactor.redact(window, language="ja").text


@pytest.mark.parametrize("split", ["chars", "tokens"])
def test_a_japanese_answer_that_turns_english_never_releases_what_the_whole_answer_guard_removes(
    redactor: Any, split: str
) -> None:
    guard = RedactorGuard(redactor)  # the guard the service streams with
    full, counts = guard(TURNS_ENGLISH)
    deltas = chars(TURNS_ENGLISH) if split == "chars" else random_tokens(TURNS_ENGLISH, random.Random(21))
    pieces, stream = stream_all(guard, deltas)
    assert_safe(pieces, full, VALUES)
    assert "".join(pieces) == full == stream.text
    assert stream.counts == counts
    assert not stream.diverged
    assert len(pieces) > 1  # the Japanese start still leaves before the end


def test_query_stream_never_sends_the_english_values_of_a_japanese_answer(gateway: Gateway, redactor: Any) -> None:  # noqa: F811
    whole = redactor.redact(TURNS_ENGLISH).text
    start = TURNS_ENGLISH.index("John")
    for cut in (start, start + 5, TURNS_ENGLISH.index("(415)") + 3):
        gateway.tokens = tokens_split_at(TURNS_ENGLISH, cut)
        events = query_stream(gateway, "申請書はどこに出しますか？")
        deltas = [e["text"] for e in events if isinstance(e, dict) and e.get("type") == "delta"]
        assert_never_released(deltas, VALUES)
        done = next(e for e in events if isinstance(e, dict) and e.get("type") == "done")
        assert "".join(deltas).strip() == done["answer"] == whole, cut
        assert len(deltas) > 1


def test_an_engine_the_policy_does_not_cover_is_refused(redactor: Any) -> None:
    with pytest.raises(ValueError, match="does not cover"):
        redactor.redact("text", language="fr")
    with pytest.raises(ValueError, match="does not cover"):
        redactor.detect_many(["text"], language="fr")
