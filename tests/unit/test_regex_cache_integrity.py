"""The regex cache file is authenticated (enclave_core/regex_cache.py, review finding 7): a file not
sealed under this data key, damaged, too large, or whose entry was compiled from another pattern is
ignored with a warning that names no pattern, every pattern is compiled afresh, and the file is
rewritten. The attack through `enclave ingest`: tests/integration/test_regex_cache_attack.py."""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import regex

from enclave_core import regex_cache
from enclave_core.regex_cache import RegexCache, read_payload, regex_cache_key, regex_cache_path

KEY = regex_cache_key(b"\x01" * 32)
OTHER_KEY = regex_cache_key(b"\x02" * 32)
EMAIL = r"\b[\w.+-]+@[\w-]+\.[\w.]+\b"
NEVER = r"(?!)"
TEXT = "write to ada@example.org"
MAGIC_LEN = len(b"enclave-regex-cache/3\n")


@pytest.fixture
def cache_file(tmp_path: Path) -> Iterator[Path]:
    yield regex_cache_path(tmp_path / "data")
    regex.purge()


def _use(path: Path, key: bytes = KEY) -> tuple[RegexCache, list[str]]:
    """One command: compile EMAIL through the cache, match TEXT, save."""
    cache = RegexCache(path, lambda pattern: False, key=key).install()
    try:
        found = regex.compile(EMAIL).findall(TEXT)
    finally:
        cache.uninstall()
    cache.save()
    regex.purge()
    return cache, found


def _seal(path: Path, entries: list[tuple[str, int, int, tuple[object, ...]]], key: bytes = KEY) -> None:
    """Write entries the way the cache does, under ``key`` (an attacker without the key cannot)."""
    payload = zlib.compress(marshal.dumps((regex_cache._stamp(), entries)), 1)
    magic = regex_cache._MAGIC
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(magic + hmac.new(key, magic + payload, hashlib.sha256).digest() + payload)


def _rejected(
    path: Path, caplog: pytest.LogCaptureFixture, before_rereading: Callable[[], None] = lambda: None
) -> None:
    """The file is ignored with a warning naming no pattern; the pattern is compiled afresh and matches;
    the rewritten file serves the next command."""
    with caplog.at_level("WARNING", logger="enclave_core.regex_cache"):
        cache, found = _use(path)
    assert (cache.hits, cache.misses) == (0, 1)
    assert found == ["ada@example.org"]
    assert "ignored" in caplog.text
    assert EMAIL not in caplog.text and NEVER not in caplog.text
    before_rereading()
    again, found = _use(path)
    assert (again.hits, found) == (1, ["ada@example.org"])


def test_a_file_sealed_under_another_data_key_is_ignored(cache_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    _use(cache_file, OTHER_KEY)
    _rejected(cache_file, caplog)


def test_a_swapped_entry_resealed_with_plain_sha256_is_ignored(
    cache_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The old check (a SHA-256 anyone can recompute) would have served a never-matching program."""
    _use(cache_file)
    stamp, entries = marshal.loads(read_payload(cache_file))
    never = list(regex.compile(NEVER)._pickled_data)
    never[0] = EMAIL  # the entry still names the e-mail pattern; only the byte code is swapped
    entries = [(p, f, v, tuple(never)) for p, f, v, _ in entries]
    payload = zlib.compress(marshal.dumps((stamp, entries)), 1)
    cache_file.write_bytes(regex_cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    _rejected(cache_file, caplog)


def test_an_entry_compiled_from_another_pattern_is_ignored_even_when_sealed(
    cache_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache entry must never stand in for a different pattern, even in an authentic file."""
    flags = regex.compile(EMAIL).flags
    _seal(cache_file, [(EMAIL, 0, int(regex.DEFAULT_VERSION), tuple(regex.compile(NEVER, flags)._pickled_data))])
    regex.purge()
    _rejected(cache_file, caplog)


def test_an_entry_compiled_with_other_flags_is_ignored_even_when_sealed(
    cache_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The entry for (EMAIL, IGNORECASE) holds EMAIL compiled without IGNORECASE: not served for it."""
    data = tuple(regex.compile(EMAIL)._pickled_data)
    regex.purge()
    _seal(cache_file, [(EMAIL, int(regex.IGNORECASE), int(regex.DEFAULT_VERSION), data)])
    with caplog.at_level("WARNING", logger="enclave_core.regex_cache"):
        cache = RegexCache(cache_file, lambda pattern: False, key=KEY)
    assert cache._entries == {}
    assert "other flags" in caplog.text


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-100],  # truncated payload
        lambda blob: blob[: MAGIC_LEN + 10],  # truncated inside the tag
        lambda blob: blob[:MAGIC_LEN] + bytes(32) + blob[MAGIC_LEN + 32 :],  # tag zeroed
    ],
)
def test_a_truncated_or_untagged_file_is_ignored(
    cache_file: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[bytes], bytes]
) -> None:
    _use(cache_file)
    cache_file.write_bytes(damage(cache_file.read_bytes()))
    _rejected(cache_file, caplog)


def test_an_oversized_file_is_not_read_whole(
    cache_file: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(cache_file)
    monkeypatch.setattr(regex_cache, "_MAX_FILE_BYTES", cache_file.stat().st_size - 1)
    _rejected(cache_file, caplog, monkeypatch.undo)


def test_an_authentic_payload_that_inflates_past_the_cap_is_ignored(
    cache_file: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(cache_file)
    monkeypatch.setattr(regex_cache, "_MAX_PAYLOAD_BYTES", len(read_payload(cache_file)) - 1)
    _rejected(cache_file, caplog, monkeypatch.undo)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        regex_cache_key(b"short")
    with pytest.raises(ValueError):
        RegexCache(Path("unused"), lambda pattern: False, key=b"")


def test_the_cache_key_is_a_derived_sub_key() -> None:
    """Never the data key itself, and different for different data keys."""
    data_key = b"\x01" * 32
    assert data_key != KEY and len(KEY) == 32
    assert KEY == regex_cache_key(data_key) != OTHER_KEY


def test_a_fifo_in_the_files_place_does_not_hang_the_start(cache_file: Path) -> None:
    """Someone who can write the data directory swaps the file for a named pipe with no writer:
    the old ``open()`` blocked the command's start for ever; the cache now starts empty."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(cache_file)
    loaded: list[RegexCache] = []
    starter = threading.Thread(target=lambda: loaded.append(RegexCache(cache_file, lambda p: False, key=KEY)))
    starter.start()
    starter.join(timeout=10)
    if starter.is_alive():  # unblock the stuck open() so the test process can end
        with open(cache_file, "wb"):
            pass
        starter.join(timeout=10)
        pytest.fail("RegexCache blocked on a FIFO in the cache file's place")
    assert loaded and loaded[0].hits == 0
