"""Gated, lazily compiled patterns (enclave_core/redaction/gated_patterns.py, regex_requirements.py).

Every gate in GATES is proven here for the patterns the analyzer actually holds: the pattern cannot match a
text without a character of the gate's class. The static proof is itself tested on small patterns whose
answer is known, and the laziness (no compile at construction, one compile on first need) is observed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import phonenumbers.phonenumbermatcher as phone_matcher
import pytest
import regex
from presidio_analyzer import PatternRecognizer

from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
from enclave_core.redaction.gated_patterns import (
    AT,
    CJK,
    DIGIT,
    GATES,
    Gate,
    GatedPhoneRecognizer,
    LazyPattern,
    LazyRegex,
    gate_of,
    gate_patterns,
)
from enclave_core.redaction.recognizers import StreetAddressRecognizer
from enclave_core.redaction.regex_requirements import is_cjk, is_digit, requires


def _member(gate: Gate) -> tuple[object, bool]:
    if gate is DIGIT:
        return is_digit, True
    if gate is AT:
        return (lambda c: c == ord("@")), False
    if gate is CJK:
        return is_cjk, False
    raise AssertionError(f"no proof rule for gate {gate.name}")


@pytest.mark.parametrize(
    ("pattern", "needs_digit"),
    [
        (r"\d{3}-\d{4}", True),
        (r"[0-9]+", True),
        (r"a|\d", False),
        (r"(?:\d|x)y", False),
        (r"\d*", False),
        (r"\d?x", False),
        (r"(?=\d)\w+", True),
        (r"(?<=no\. )\w+", False),
        (r"(?!\d)\w+", False),
        (r"[^a-z]", False),
        (r"[\d\w]", False),
        (r"(?i:abc)[ ]?(\d{2,})", True),
        (r"(?:(?:\d)|(?:[5-7]x))", True),
        (r"(a)?(?(1)\d|b)", False),
        (r"\p{L}+\d", True),
        (r"\p{Nd}", False),  # unknown property: nothing proven (conservative)
        (r"(", False),  # unparsable: nothing proven
    ],
)
def test_the_static_proof_on_known_patterns(pattern: str, needs_digit: bool) -> None:
    assert requires(pattern, is_digit, digit_category=True) is needs_digit


def test_cjk_and_at_proofs() -> None:
    assert requires(r"\p{Han}{2,3}県", is_cjk)
    assert requires(r"〒\d{3}", is_cjk)
    assert not requires(r"(?:〒)?\d{3}", is_cjk)
    assert requires(r"[\w.]+@[\w.]+", lambda c: c == ord("@"))
    assert not requires(r"[\w.]+(?:@|\sat\s)[\w.]+", lambda c: c == ord("@"))


def _all_entities_analyzer():  # type: ignore[no-untyped-def]
    redactor = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    return redactor._get_analyzer("en")


@pytest.fixture(scope="module")
def recognizers() -> list[object]:
    return list(_all_entities_analyzer().registry.recognizers)


def test_every_gate_is_proven_for_the_patterns_the_analyzer_holds(recognizers: list[object]) -> None:
    proven = 0
    for recognizer in recognizers:
        if not isinstance(recognizer, PatternRecognizer):
            continue
        assert not recognizer.global_regex_flags & regex.VERBOSE  # the proof parses without VERBOSE
        for pattern in recognizer.patterns:
            gate = gate_of(recognizer.name, pattern.name)
            assert isinstance(pattern.compiled_regex, LazyRegex)
            assert pattern.compiled_regex.gate is gate
            if gate is None:
                continue
            member, digits = _member(gate)
            assert requires(pattern.regex, member, digit_category=digits), (recognizer.name, pattern.name)  # type: ignore[arg-type]
            proven += 1
    assert proven >= 50


def test_every_gates_entry_names_a_pattern_the_analyzer_holds(recognizers: list[object]) -> None:
    held = {(r.name, p.name) for r in recognizers if isinstance(r, PatternRecognizer) for p in r.patterns}
    names = {r for r, _ in held}
    for recognizer_name, table in GATES.items():
        assert recognizer_name in names, recognizer_name
        for pattern_name in table:
            assert pattern_name == "*" or (recognizer_name, pattern_name) in held, (recognizer_name, pattern_name)


def test_phone_numbers_need_a_digit_in_python_phonenumbers() -> None:
    assert requires(phone_matcher._PATTERN.pattern, is_digit, digit_category=True)
    phone = GatedPhoneRecognizer()
    assert phone.name == "PhoneRecognizer"
    assert phone.analyze("no number here, call me", ["PHONE_NUMBER"]) == []
    assert [(r.start, r.end) for r in phone.analyze("call +1 202-555-0143 now", ["PHONE_NUMBER"])] == [(5, 20)]


def test_gates_admit_exactly_their_class() -> None:
    assert DIGIT.admits("room 4") and DIGIT.admits("٣") and not DIGIT.admits("no digits at all")
    assert AT.admits("a@b") and not AT.admits("a at b")
    assert CJK.admits("東京") and CJK.admits("〒") and not CJK.admits("Zürich — café")


def test_lazy_patterns_compile_once_on_first_need_and_a_gated_miss_compiles_nothing() -> None:
    recognizer = StreetAddressRecognizer()
    assert all(isinstance(p, LazyPattern) and p.compiled_regex is None for p in recognizer.patterns)
    gate_patterns(recognizer)
    lazy = {p.name: p.compiled_regex for p in recognizer.patterns}
    assert all(isinstance(r, LazyRegex) and not r.is_compiled for r in lazy.values())
    assert recognizer.analyze("no address in this sentence", ["STREET_ADDRESS"]) == []
    street = lazy["street (US/UK)"]
    assert isinstance(street, LazyRegex) and not street.is_compiled  # gated out: never compiled
    corner = lazy["the corner of A and B"]
    assert isinstance(corner, LazyRegex) and corner.is_compiled  # ungated: compiled on first use
    found = recognizer.analyze("She lives at 12 Baker Street.", ["STREET_ADDRESS"])
    assert street.is_compiled and [r.start for r in found] == [13]
    first = street.compiled()
    recognizer.analyze("He lives at 7 Elm Road.", ["STREET_ADDRESS"])
    assert street.compiled() is first  # once


def test_a_gated_recognizer_finds_what_the_ungated_one_finds() -> None:
    texts = [
        "She lives at 12 Baker Street, London NW1 6XE.",
        "Send it to PO Box 4471, Springfield, IL 62704.",
        "no address, no digits here",
        "東京都新宿区西新宿2丁目8番1号",
        "at the corner of Elm Street and Main Road.",
    ]
    plain, gated = StreetAddressRecognizer(), StreetAddressRecognizer()
    gate_patterns(gated)
    for text in texts:
        want = [(r.start, r.end, r.score) for r in plain.analyze(text, ["STREET_ADDRESS"])]
        assert [(r.start, r.end, r.score) for r in gated.analyze(text, ["STREET_ADDRESS"])] == want, text


def test_pattern_text_is_the_same_in_every_process() -> None:
    """The on-disk regex cache (enclave_core/regex_cache.py) is keyed by pattern text: a set's hash order
    must not leak into it (it did: equal-length place names in the street and country patterns)."""
    code = (
        "import hashlib; from enclave_core.redaction import recognizers as r; "
        "print(hashlib.sha256((r._COUNTRY + r._LOCALITY).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(digests) == 1
