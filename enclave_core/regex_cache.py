"""On-disk cache of compiled ``regex`` patterns, so a fresh process skips the pure-Python parser.

Why: the third-party ``regex`` package (Presidio's and the redaction recognizers' engine) parses
and compiles every pattern in Python. Building the PII analyzer compiles ~370 patterns, twice
(Presidio validates each at construction and compiles it again on first use with its flags): about
half the CPU of a cold ``enclave search``. A compiled pattern is a small program (``_pickled_data``:
the pattern text, flags and a byte code); ``_regex.compile`` rebuilds the pattern object from it in
microseconds, without parsing.

What is cached: only patterns written in code and in the policy's identifier formats. Never a
pattern built from a deny list (Presidio's deny-list regex, or any pattern containing one of the
policy's deny-list terms): those may be people's names, and nothing personal goes into a file.
Patterns with named lists (``kwargs``), locale-dependent flags or bytes are left to ``regex``.

Where and how: one file under the data directory (owner-only, written atomically), keyed by the
pattern text and flags and stamped with the ``regex`` and Python versions, so a new ``regex``
(whose byte code may differ) or a changed pattern never uses a stale entry. A file that is
corrupt, truncated or from other versions is ignored and rewritten.

Integrity: the byte code goes straight into ``regex``'s C engine, so a swapped entry could make a
PII recognizer never match and let personal data reach the store. The file is therefore
authenticated with HMAC-SHA256 under a key derived from the data key (the vault key, which anyone
who may only write the data directory does not hold) for this purpose alone (:func:`regex_cache_key`),
checked in constant time before anything is decompressed or unmarshalled; its size and the
decompressed size are capped, and an entry is used only for the pattern text it was compiled from.
A file that fails any check is ignored (a warning that names no pattern), and rewritten. Entries the writing process
did not use are kept only while the file stays small (a changed pattern leaves its old text behind).
The file is zlib-compressed: a quarter of the size, and ``enclave forget``'s scan of the data
directory for an erased value does not stop at a place name that is also a person's ("Virginia")
inside a recognizer's pattern.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import marshal
import os
import re
import stat
import sys
import threading
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from enclave_core.keys import atomic_write

__all__ = ["RegexCache", "deny_terms_excluded", "read_payload", "regex_cache_key", "regex_cache_path"]

log = logging.getLogger(__name__)

_FORMAT = 3
_MAGIC = b"enclave-regex-cache/3\n"  # another format (an older or newer release's): start empty, silently
_TAG_BYTES = 32  # HMAC-SHA256 of the compressed payload
_KEY_LABEL = b"enclave/regex-cache/hmac-sha256/v1"
# The analyzers' own patterns come to ~0.3 MB compressed, ~1.5 MB marshalled; anything far larger is
# not this appliance's file, and is never read into memory or decompressed whole.
_MAX_FILE_BYTES = 16 * 1024 * 1024
_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
# Pattern text kept from earlier commands beyond what the writing one used (the analyzers' own come to
# about 1 MB): bounds a file that would otherwise grow with every edited pattern.
_MAX_KEPT_CHARS = 4_000_000
# Presidio's PatternRecognizer._deny_list_to_regex wraps every deny list in exactly this.
_DENY_LIST_PREFIX = r"(?:^|(?<=\W))("


def regex_cache_path(data_dir: Path) -> Path:
    """The cache file of a data directory (its ``cache`` folder is owner-only like the rest)."""
    return data_dir / "cache" / "regex-compiled.bin"


def deny_terms_excluded(terms: Iterable[str]) -> Callable[[str], bool]:
    """A predicate that is true for patterns that must not be cached: Presidio's deny-list regex, and
    any pattern containing one of ``terms`` as written, or escaped by ``re``/``regex`` (any case)."""
    import regex

    needles = set()
    for term in terms:
        for form in (term, re.escape(term), regex.escape(term), regex.escape(term, special_only=True)):
            if form:
                needles.add(form.casefold())

    def excluded(pattern: str) -> bool:
        if pattern.startswith(_DENY_LIST_PREFIX):
            return True
        folded = pattern.casefold()
        return any(n in folded for n in needles)

    return excluded


def regex_cache_key(data_key: bytes) -> bytes:
    """The cache file's HMAC key: derived from the data key for this purpose only (HMAC-SHA256 of a
    label), so the cache never handles the vault key itself, nor a key usable for anything else."""
    if len(data_key) < 16:
        raise ValueError("the regex cache needs a secret key of at least 128 bits")
    return hmac.new(data_key, _KEY_LABEL, hashlib.sha256).digest()


def read_payload(path: Path) -> bytes:
    """The uncompressed content of a cache file (for inspection and tests: what is stored, in clear)."""
    return zlib.decompress(path.read_bytes()[len(_MAGIC) + _TAG_BYTES :])


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _MAGIC + payload, hashlib.sha256).digest()


def _inflate(payload: bytes) -> bytes:
    """Decompress at most _MAX_PAYLOAD_BYTES; a larger or incomplete stream is an error."""
    inflater = zlib.decompressobj()
    raw = inflater.decompress(payload, _MAX_PAYLOAD_BYTES)
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("payload too large or incomplete")
    return raw


def _entry(item: Any) -> tuple[tuple[str, int, int], tuple[Any, ...]]:
    """One entry of an authenticated file, checked to be compiled from exactly its key's pattern text
    and flags (an entry must never stand in for another pattern)."""
    pattern, flags, version, data = item
    if not (isinstance(pattern, str) and isinstance(flags, int) and isinstance(version, int)):
        raise ValueError("malformed entry")
    data = tuple(data)
    if len(data) < 3 or data[0] != pattern or not isinstance(data[1], int) or not isinstance(data[2], bytes):
        raise ValueError("an entry does not belong to its pattern")
    if data[1] & flags != flags:
        raise ValueError("an entry was compiled with other flags")
    return (pattern, flags, version), data


def _stamp() -> str:
    import regex

    return f"{_FORMAT}/regex-{regex.__version__}/py-{sys.version_info[0]}.{sys.version_info[1]}"


class RegexCache:
    """Serve ``regex`` compiles from a file; remember new ones and write them back on :meth:`save`.

    :meth:`install` patches ``regex._main._compile`` for this process (every ``regex.compile``,
    ``regex.search`` ... goes through it); :meth:`uninstall` restores it.
    """

    def __init__(self, path: Path, excluded: Callable[[str], bool], *, key: bytes) -> None:
        """``key``: :func:`regex_cache_key` of the data key (a file sealed under another key is ignored)."""
        if len(key) < 16:
            raise ValueError("the regex cache needs a secret key of at least 128 bits")
        self.path = path
        self._key = key
        self._excluded = excluded
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int, int], tuple[Any, ...]] = self._load()
        self._objects: dict[tuple[str, int, int], Any] = {}
        self._added = 0
        self.hits = 0
        self.misses = 0
        self._original: Any = None

    def _load(self) -> dict[tuple[str, int, int], tuple[Any, ...]]:
        try:
            # Non-blocking open and a regular-file check: a FIFO or device put in the file's place
            # must not hang the command that starts (nor feed it endless bytes).
            with os.fdopen(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
                if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                    raise OSError("not a regular file")
                blob = file.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("regex cache %s unreadable (%s): starting empty", self.path, exc)
            return {}
        if not blob.startswith(_MAGIC):
            return {}
        tag, payload = blob[len(_MAGIC) : len(_MAGIC) + _TAG_BYTES], blob[len(_MAGIC) + _TAG_BYTES :]
        try:
            if len(blob) > _MAX_FILE_BYTES:
                raise ValueError("file too large")
            if not hmac.compare_digest(_tag(self._key, payload), tag):
                raise ValueError("authentication failed: damaged, or not written under this data key")
            stamp, entries = marshal.loads(_inflate(payload))
            if stamp != _stamp():
                return {}  # other regex or Python versions: their byte code may differ
            return dict(_entry(item) for item in entries)
        except (ValueError, EOFError, TypeError, zlib.error) as exc:  # messages name no pattern
            log.warning("regex cache %s ignored (%s): it will be rewritten", self.path, exc)
            return {}

    def install(self) -> RegexCache:
        import regex._main as main

        if self._original is None:
            self._original = main._compile
            main._compile = self._compile
        return self

    def uninstall(self) -> None:
        import regex._main as main

        if self._original is not None:
            main._compile = self._original
            self._original = None

    def _compile(self, pattern: Any, flags: Any, ignore_unused: Any, kwargs: Any, cache_it: Any) -> Any:
        import regex
        import regex._main as main

        original = self._original
        if not isinstance(pattern, str) or kwargs or not cache_it or flags & (regex.LOCALE | regex.DEBUG):
            return original(pattern, flags, ignore_unused, kwargs, cache_it)
        key = (pattern, int(flags), int(regex.DEFAULT_VERSION))
        compiled = self._objects.get(key)
        if compiled is not None:
            return compiled
        data = self._entries.get(key)
        if data is not None:
            try:
                compiled = main._regex.compile(*data)
                self.hits += 1
            except Exception:  # an entry this regex cannot read: compile it afresh
                compiled = None
        if compiled is None:
            compiled = original(pattern, flags, ignore_unused, kwargs, cache_it)
            self.misses += 1
            if not (compiled.flags & regex.LOCALE) and not self._excluded(pattern):
                with self._lock:
                    self._entries[key] = tuple(compiled._pickled_data)
                    self._added += 1
        self._objects[key] = compiled
        return compiled

    def save(self) -> bool:
        """Write the file when this process compiled something new; True when written."""
        with self._lock:
            if not self._added:
                return False
            # What other processes wrote since this one read the file (ingest's detection children
            # start together) is kept, so concurrent writers never drop each other's entries; an
            # entry that now holds a deny-list term (a changed policy) is dropped.
            for key, data in self._load().items():
                self._entries.setdefault(key, data)
            self._entries = {key: data for key, data in self._entries.items() if not self._excluded(key[0])}
            used = {key: data for key, data in self._entries.items() if key in self._objects}
            kept = [(key, data) for key, data in self._entries.items() if key not in used]
            self._added = 0
        budget = _MAX_KEPT_CHARS - sum(len(key[0]) for key in used)
        entries = [(p, f, v, data) for (p, f, v), data in used.items()]
        for (p, f, v), data in kept:
            budget -= len(p)
            if budget < 0:
                break
            entries.append((p, f, v, data))
        payload = zlib.compress(marshal.dumps((_stamp(), entries)), 1)
        try:
            atomic_write(self.path, _MAGIC + _tag(self._key, payload) + payload)
        except OSError as exc:  # a cache that cannot be written costs time, never the command
            log.warning("regex cache %s not written: %s", self.path, exc)
            return False
        return True
