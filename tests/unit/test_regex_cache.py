"""The on-disk cache of compiled ``regex`` patterns (enclave_core/regex_cache.py): same matches as a
fresh compile, nothing from a deny list in the file, invalidated by a new ``regex``/Python version or a
damaged file, owner-only. Its authentication (HMAC under the data key, size caps, entries bound to
their pattern): tests/unit/test_regex_cache_integrity.py."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import regex
from presidio_analyzer import PatternRecognizer

from enclave_core import regex_cache
from enclave_core.regex_cache import RegexCache, deny_terms_excluded, read_payload, regex_cache_key, regex_cache_path
from ingest.erasure import find_plaintext

PATTERNS = [
    (r"(?<![\w-])\d{1,6}[ \t]+(?:[A-Z][a-z]+[ \t]+){1,3}(?:Street|St\.?|Avenue|Ave\.?)\b", 0),
    (r"\b(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]?\d{4}\b", regex.IGNORECASE | regex.MULTILINE),
    (r"(?i:Flat|Apt)[ \t]+[A-Za-z0-9]{1,5}|\p{Lu}\p{Ll}+", regex.DOTALL),
]
TEXT = "Call (555) 123-4567 or write to 42 Baker Street, Apt 7b, London."
KEY = regex_cache_key(bytes(range(32)))


@pytest.fixture
def cache_file(tmp_path: Path) -> Iterator[Path]:
    yield regex_cache_path(tmp_path / "data")
    regex.purge()  # regex's own in-process cache must not hide what the next test compiles


def _run(path: Path, terms: list[str] | None = None) -> tuple[RegexCache, list[list[str]]]:
    """Compile and use PATTERNS through a cache on ``path`` (as one CLI command does), then save."""
    cache = RegexCache(path, deny_terms_excluded(terms or []), key=KEY).install()
    try:
        found = [regex.compile(p, f).findall(TEXT) for p, f in PATTERNS]
    finally:
        cache.uninstall()
    cache.save()
    regex.purge()
    return cache, found


def test_a_second_process_reads_every_pattern_and_matches_the_same(cache_file: Path) -> None:
    expected = [regex.compile(p, f).findall(TEXT) for p, f in PATTERNS]
    regex.purge()
    first, found = _run(cache_file)
    assert (first.hits, first.misses) == (0, len(PATTERNS))
    assert found == expected
    second, found = _run(cache_file)
    assert (second.hits, second.misses) == (len(PATTERNS), 0)
    assert found == expected


def test_the_file_and_its_folder_are_owner_only(cache_file: Path) -> None:
    _run(cache_file)
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_file.parent.stat().st_mode) == 0o700


def test_nothing_is_written_when_nothing_new_was_compiled(cache_file: Path) -> None:
    _run(cache_file)
    before = cache_file.stat().st_mtime_ns
    second, _ = _run(cache_file)
    assert second.hits == len(PATTERNS)
    assert cache_file.stat().st_mtime_ns == before


def test_deny_list_patterns_never_reach_the_file(cache_file: Path) -> None:
    """Deny-list terms may be people's names: neither Presidio's deny-list regex nor any other pattern
    holding a term (as written or escaped, any case) is stored; the rest still is."""
    terms = ["J. Doe", "Bluebird Cloud"]
    cache = RegexCache(cache_file, deny_terms_excluded(terms), key=KEY).install()
    try:
        recognizer = PatternRecognizer(supported_entity="PERSON", deny_list=terms)
        assert recognizer.analyze("Ask J. Doe about Bluebird Cloud.", ["PERSON"])  # compiled, and it works
        regex.compile(r"(?i)\bbluebird\s+cloud\b|" + regex.escape("j. doe"))
        regex.compile(PATTERNS[0][0])
    finally:
        cache.uninstall()
    assert cache.save()
    blob = read_payload(cache_file).lower()
    for needle in (b"doe", b"bluebird"):
        assert needle not in blob
    assert [key[0] for key in RegexCache(cache_file, deny_terms_excluded([]), key=KEY)._entries] == [PATTERNS[0][0]]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-7],  # a torn write
        lambda blob: blob[:40] + bytes([blob[40] ^ 0xFF]) + blob[41:],  # a flipped byte
        lambda blob: b"",
    ],
)
def test_a_damaged_file_is_ignored_and_rewritten(cache_file: Path, damage: object) -> None:
    _run(cache_file)
    cache_file.write_bytes(damage(cache_file.read_bytes()))  # type: ignore[operator]
    second, found = _run(cache_file)
    assert (second.hits, second.misses) == (0, len(PATTERNS))
    assert found == _run(cache_file)[1]
    third, _ = _run(cache_file)
    assert third.hits == len(PATTERNS)


def test_another_regex_or_python_version_starts_empty(cache_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The byte code is the ``regex`` version's own: after an upgrade every pattern is compiled afresh."""
    _run(cache_file)
    monkeypatch.setattr(regex_cache, "_stamp", lambda: "1/regex-2099.1.1/py-3.99")
    second, _ = _run(cache_file)
    assert (second.hits, second.misses) == (0, len(PATTERNS))


def test_a_changed_pattern_is_compiled_afresh(cache_file: Path) -> None:
    _run(cache_file)
    cache = RegexCache(cache_file, deny_terms_excluded([]), key=KEY).install()
    try:
        changed = PATTERNS[0][0].replace("Street", "Road")
        assert regex.compile(changed).findall("7 Abbey Road and 42 Baker Street") == ["7 Abbey Road"]
    finally:
        cache.uninstall()
    assert (cache.hits, cache.misses) == (0, 1)


def test_uninstall_restores_regex(cache_file: Path) -> None:
    import regex._main as main

    original = main._compile
    cache = RegexCache(cache_file, deny_terms_excluded([]), key=KEY).install()
    assert main._compile != original
    cache.uninstall()
    assert main._compile == original


def test_erasure_scans_do_not_stop_at_a_place_name_inside_a_pattern(cache_file: Path) -> None:
    """`enclave forget --value Virginia` scans the data directory for the erased value; the
    recognizers' place lists hold "Virginia" too, and the (compressed) cache must not read as a leak."""
    cache = RegexCache(cache_file, deny_terms_excluded([]), key=KEY).install()
    try:
        regex.compile(r"(?:Virginia|West[ \t]+Virginia|Georgia)[ \t]+\d{5}")
    finally:
        cache.uninstall()
    assert cache.save()
    assert find_plaintext(cache_file.parent.parent, ["Virginia"]) == []


def test_entries_unused_by_the_writer_are_kept_only_within_the_budget(
    cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(cache_file)  # PATTERNS stored
    monkeypatch.setattr(regex_cache, "_MAX_KEPT_CHARS", len(PATTERNS[0][0]) + 50)
    cache = RegexCache(cache_file, deny_terms_excluded([]), key=KEY).install()
    try:
        regex.compile(r"[A-Z]{2}\d{6}")  # the only pattern this "command" uses
    finally:
        cache.uninstall()
    assert cache.save()
    kept = {key[0] for key in RegexCache(cache_file, deny_terms_excluded([]), key=KEY)._entries}
    assert r"[A-Z]{2}\d{6}" in kept
    assert len(kept) == 2  # one unused entry fits the budget, the other two are dropped


def test_another_format_starts_empty_without_a_warning(cache_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A file of another release's format (here: without this one's header) is simply replaced; only a
    damaged file of this format is worth a warning."""
    _run(cache_file)
    cache_file.write_bytes(cache_file.read_bytes()[25:])
    with caplog.at_level("WARNING", logger="enclave_core.regex_cache"):
        second, _ = _run(cache_file)
    assert (second.hits, second.misses) == (0, len(PATTERNS))
    assert not caplog.records
    blob = cache_file.read_bytes()
    cache_file.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with caplog.at_level("WARNING", logger="enclave_core.regex_cache"):
        _run(cache_file)
    assert "ignored" in caplog.text
