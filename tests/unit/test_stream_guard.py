"""The streaming output guard (enclave_core.stream_guard): attack tests.

Two properties on every stream: the released pieces joined equal the guard's output on the whole
answer (same redactions, same counts), and no personal value, or a piece of one, is ever released
that the whole-answer guard would have removed - whatever the token boundaries. A context-sensitive
fake guard makes the cases exact; the real redactor runs over the hand-written PII passages
(benchmarks/data/pii_genres) and answer-like sentences split at every character of their values.
The API tests at the end stream through ``POST /v1/query`` and ``/v1/chat/completions`` with the real
redactor and the real LLM client, whose HTTP transport replays a scripted vLLM stream.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.pii_genres import load_passages
from enclave_core.stream_guard import GuardedStream
from tests.conftest import REPO
from tests.unit._guards import rules_guard

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)

# A guard whose decisions depend on context on both sides, like the real one: "Smith" is a name,
# "Parkinson" is one unless "disease" follows, a number is a phone number after "call" (left
# context), an e-mail address is always personal.
_RULES = [
    (re.compile(r"\b(?:Dr\. )?(?:Jane )?Smith\b"), "PERSON"),
    (re.compile(r"\bParkinson\b(?! disease)"), "PERSON"),
    (re.compile(r"(?<=call )\+?\d[\d ]{4,}\d"), "PHONE_NUMBER"),
    (re.compile(r"[\w.]+@[\w.]+\.\w+"), "EMAIL_ADDRESS"),
]


context_guard = rules_guard(_RULES)


SECRETS = ["Smith", "Parkinson", "0143", "934 12", "jane.roe@example.com", "roe@", "+47 934"]


def stream_all(
    guard: Callable[[str], tuple[str, dict[str, int]]], deltas: list[str]
) -> tuple[list[str], GuardedStream]:
    stream = GuardedStream(guard)
    out = [piece for d in deltas for piece in stream.feed(d)]
    out += list(stream.flush())
    assert list(stream.flush()) == []  # flushing twice releases nothing more
    return out, stream


def assert_safe(pieces: list[str], full: str, values: list[str]) -> None:
    """No released prefix ever holds a value (or a value's part) the whole-answer guard removed."""
    released = ""
    for piece in pieces:
        released += piece
        for value in values:
            if value not in full:
                assert value not in released, f"{value!r} released in {released!r}"


def chars(text: str) -> list[str]:
    return list(text)


# -- table-driven ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The patient Smith was seen on Monday [1].",
        "Parkinson disease is common in older patients [2].",
        "The form was signed by Parkinson himself in the end.",
        "Please call +47 934 12 877 or write to jane.roe@example.com for the form [1].",
        "Ask Dr. Jane Smith, who keeps the ledger [1][2].",
        "Forms are kept by <PERSON_7> in HR and by Smith in finance.",
        "The answer is short.",
        "Smith",
        "call 555 0143",
        "  leading and trailing spaces  ",
        "one\n\ntwo paragraphs with Smith in the second one\n",
    ],
)
@pytest.mark.parametrize("split", ["chars", "words", "whole"])
def test_streamed_text_equals_the_guarded_answer_and_leaks_nothing(text: str, split: str) -> None:
    deltas = {"chars": chars(text), "words": re.findall(r"\s*\S+|\s+", text), "whole": [text]}[split]
    pieces, stream = stream_all(context_guard, deltas)
    full, counts = context_guard(text.strip())
    assert "".join(pieces).strip() == full.strip() == stream.text.strip()
    assert stream.counts == counts
    assert not stream.diverged
    assert_safe(pieces, full, SECRETS)


def test_first_words_leave_with_the_models_first_tokens() -> None:
    stream = GuardedStream(context_guard)
    assert list(stream.feed("The")) == []  # unfinished word
    assert list(stream.feed(" p")) == ["The "]  # a function word, a lowercase word begins
    assert list(stream.feed("atient of Dr")) == []  # "patient" waits for four words to its right
    assert stream.text == "The "


def test_a_name_waits_for_its_right_context_then_goes_out_guarded() -> None:
    stream = GuardedStream(context_guard)
    released = [p for d in ["The ", "form ", "was ", "signed ", "by ", "Parkinson "] for p in stream.feed(d)]
    assert "Parkinson" not in "".join(released)
    for word in ["himself ", "in ", "the ", "end. "]:
        released += list(stream.feed(word))
    assert "<PERSON> " in "".join(released)  # decided with four words to its right


def test_a_value_the_right_context_clears_is_not_redacted_early() -> None:
    pieces, _ = stream_all(context_guard, chars("Parkinson disease affects movement and speech [1]."))
    assert "<PERSON>" not in "".join(pieces)


def test_partial_placeholders_and_half_addresses_are_held() -> None:
    stream = GuardedStream(context_guard)
    for d in ["Kept by <PERS", "ON_7> and mail jane.", "roe@exa", "mple.com"]:
        for piece in stream.feed(d):
            assert "<PERS" not in piece or "<PERSON_7>" in piece
            assert "jane." not in piece and "roe@" not in piece
    assert "".join(stream.flush()).endswith("<EMAIL_ADDRESS>")


def test_a_run_of_name_like_words_is_never_cut() -> None:
    # With a guard that redacts the whole run only when it sees all of it, a cut inside would leak.
    def whole_run(text: str) -> tuple[str, dict[str, int]]:
        n = text.count("Calle de la Reforma 222, Col. Juárez")
        return text.replace("Calle de la Reforma 222, Col. Juárez", "<STREET_ADDRESS>"), (
            {"STREET_ADDRESS": n} if n else {}
        )

    text = "The office is at Calle de la Reforma 222, Col. Juárez near the park on the corner."
    pieces, _ = stream_all(whole_run, chars(text))
    assert "".join(pieces) == whole_run(text)[0]
    assert_safe(pieces, whole_run(text)[0], ["Reforma", "222", "Juárez"])


def test_a_guard_that_trims_whitespace_keeps_the_words_apart() -> None:
    def trimming(text: str) -> tuple[str, dict[str, int]]:
        clean, counts = context_guard(text)
        return clean.strip(), counts

    text = "First Smith said so.\nThen Parkinson left the room and the building."
    pieces, _ = stream_all(trimming, chars(text))
    assert "".join(pieces) == context_guard(text)[0]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        GuardedStream(context_guard, right_words=0)


# -- randomised ------------------------------------------------------------------------------------

VOCABULARY = [
    "the", "of", "and", "is", "The", "patient", "form", "was", "signed", "by", "Smith", "Jane", "Dr.",
    "Parkinson", "disease", "call", "+47", "934", "12", "877", "555", "0143", "jane.roe@example.com",
    "[1]", "[2].", "<PERSON_3>", "HR.", "in", "Monday,", "\n", "-", "Ltd",
]  # fmt: skip


@FUZZ
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=30),
    seps=st.lists(st.sampled_from([" ", " ", " ", "\n", "  "]), min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 9), min_size=1, max_size=20),
)
def test_random_answers_in_random_tokens(words: list[str], seps: list[str], cuts: list[int]) -> None:
    text = "".join(w + seps[i % len(seps)] for i, w in enumerate(words)).strip()
    deltas: list[str] = []
    i = 0
    while i < len(text):
        step = cuts[len(deltas) % len(cuts)]
        deltas.append(text[i : i + step])
        i += step
    pieces, stream = stream_all(context_guard, deltas)
    full, counts = context_guard(text)
    assert "".join(pieces) == full
    assert stream.counts == counts
    assert_safe(pieces, full, SECRETS)


# -- the real redactor -----------------------------------------------------------------------------

PASSAGES = [
    p
    for name in ("dev.txt", "unseen.txt")
    for p in load_passages(REPO / "benchmarks" / "data" / "pii_genres" / name)
    if p["spans"]
]


def random_tokens(text: str, rng: random.Random) -> list[str]:
    deltas, i = [], 0
    while i < len(text):
        step = rng.randint(1, 6)  # vLLM's tokens: 1-6 characters, spaces in front
        deltas.append(text[i : i + step])
        i += step
    return deltas


def real_guard(redactor: Any) -> Callable[[str], tuple[str, dict[str, int]]]:
    def guard(text: str) -> tuple[str, dict[str, int]]:
        result = redactor.redact(text)
        return result.text, result.counts

    return guard


@pytest.mark.slow  # 84 passages of up to 600 characters: 10-40 s on this host
def test_every_hand_written_pii_passage_streams_exactly_as_guarded_whole(redactor: Any) -> None:
    guard = real_guard(redactor)
    rng = random.Random(24)
    failures = []
    for p in PASSAGES:
        text = p["full_text"].strip()
        full, counts = guard(text)
        pieces, stream = stream_all(guard, random_tokens(text, rng))
        if "".join(pieces) != full or stream.counts != counts or stream.diverged:
            failures.append(p["id"])
        assert_safe(pieces, full, [s["entity_value"] for s in p["spans"]])
    assert failures == []


ANSWERS = [
    ("The form is kept by Margit Halvorsen in procurement [1].", "Margit Halvorsen"),
    ("You can reach the desk on +47 934 12 877 during office hours [2].", "+47 934 12 877"),
    ("Send it to margit.halvorsen@nordvik.corp.local before Friday [1].", "margit.halvorsen@nordvik.corp.local"),
    ("Her home address is Calle de Alcalá 214, 28028 Madrid, as the record says [3].", "Calle de Alcalá 214"),
    ("The employee, born 14/03/1987, joined the finance team in 2021 [1].", "14/03/1987"),
]


@pytest.mark.parametrize(("text", "value"), ANSWERS, ids=[v for _, v in ANSWERS])
def test_a_value_split_at_every_character_is_never_released(redactor: Any, text: str, value: str) -> None:
    guard = real_guard(redactor)
    full, counts = guard(text)
    assert value not in full  # the whole-answer guard removes it
    start = text.index(value)
    parts = [w for w in re.findall(r"\w+", value) if len(w) >= 3 and w not in full]
    rng = random.Random(value)
    for k in range(1, len(value)):
        cut = start + k
        deltas = random_tokens(text[:cut], rng) + random_tokens(text[cut:], rng)
        pieces, stream = stream_all(guard, deltas)
        assert "".join(pieces) == full and stream.counts == counts, k
        assert_safe(pieces, full, [value, *parts])


def test_the_stream_guard_reanalyses_a_window_not_the_whole_answer(redactor: Any) -> None:
    calls: list[str] = []
    guard = real_guard(redactor)

    def counting(text: str) -> tuple[str, dict[str, int]]:
        calls.append(text)
        return guard(text)

    sentence = "The team reviewed the access policy and agreed on the changes for the next quarter. "
    pieces, _ = stream_all(counting, re.findall(r"\S+\s*", sentence * 12))
    assert "".join(pieces) == guard((sentence * 12).strip())[0] + " "
    assert max(len(c) for c in calls) < 400  # left context and right words, not everything so far


def test_a_guard_that_reads_arbitrarily_far_ahead_is_flagged_not_hidden(caplog: pytest.LogCaptureFixture) -> None:
    # The limit of the safety argument: a decision that depends on text more than four words later
    # cannot be known when the word goes out. The stream says so instead of pretending.
    def far_sighted(text: str) -> tuple[str, dict[str, int]]:
        if "omega" in text:
            return text.replace("alpha", "<X>"), {"X": text.count("alpha")}
        return text, {}

    pieces, stream = stream_all(
        far_sighted, re.findall(r"\S+\s*", "alpha is one of the first few letters before omega")
    )
    assert "alpha" in "".join(pieces)
    assert stream.diverged
    assert "differs from text already released" in caplog.text
