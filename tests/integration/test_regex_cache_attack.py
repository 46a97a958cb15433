"""Attack (review finding 7): someone who can write the data directory, but holds no key, swaps the
compiled byte code of the recognizers that find an e-mail address in the regex cache for a program
that never matches, and re-seals the file with a plain SHA-256 (what the old check was). The next
`enclave ingest` must still pseudonymize a planted address: it is nowhere in plaintext under the data
directory (store segments and WAL, manifest, vault, audit, caches).

Runs the `enclave` command line as the user does, in fresh interpreters, with the real Presidio
analyzer, ONNX embedder and embedded store. Before the fix the planted address reached the store.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import subprocess
import sys
import zlib
from pathlib import Path

import regex

from enclave_core.regex_cache import regex_cache_path
from ingest.erasure import find_plaintext
from tests.conftest import REPO

PLANTED = "quilla.vantreeck@corvid-holdings.example"
DOCUMENT = f"Supplier contact sheet.\n\nFor invoices about the roof repair write to {PLANTED} before Friday.\n"
NEVER = r"(?!)"  # a program that matches nothing


def _enclave(data: Path, *argv: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ENCLAVE_DATA_DIR": str(data), "ENCLAVE_ENV": "test"}
    code = f"import sys\nfrom enclave_cli.main import main\nsys.exit(main({list(argv)!r}))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def _swap_email_recognizers(cache: Path) -> int:
    """Replace every cached program that finds the planted address by one that never matches, keeping
    the entry's pattern text and flags; re-seal with SHA-256 under the file's own header."""
    blob = cache.read_bytes()
    header = blob[: blob.index(b"\n") + 1]
    stamp, entries = marshal.loads(zlib.decompress(blob[len(header) + 32 :]))
    swapped = []
    for pattern, flags, version, data in entries:
        if regex.compile(pattern, flags).search(PLANTED):
            never = list(regex.compile(NEVER, flags)._pickled_data)
            never[0] = pattern
            data = tuple(never)
        swapped.append((pattern, flags, version, data))
    regex.purge()
    count = sum(new is not old for new, old in zip(swapped, entries, strict=True))
    payload = zlib.compress(marshal.dumps((stamp, swapped)), 1)
    cache.write_bytes(header + hashlib.sha256(payload).digest() + payload)
    return count


def test_a_swapped_recognizer_program_in_the_regex_cache_does_not_let_an_email_reach_the_store(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "welcome.txt").write_text("Welcome to the supplier portal. Invoices are paid monthly.\n")
    (second / "contacts.txt").write_text(DOCUMENT)

    _enclave(data, "ingest", str(first / "welcome.txt"), "--collection", "suppliers", "--json", "--quiet")
    cache = regex_cache_path(data)
    assert cache.exists()  # the first command wrote the compiled recognizers
    assert _swap_email_recognizers(cache) >= 1  # the e-mail recognizer's program, at least

    report = _enclave(data, "ingest", str(second / "contacts.txt"), "--collection", "suppliers", "--json", "--quiet")
    assert (report["ingested"], report["failed"]) == (1, 0), report
    assert find_plaintext(data, ["the roof repair"])  # the chunk's text is on disk: the scan is not vacuous
    assert find_plaintext(data, [PLANTED, PLANTED.split("@")[0]]) == []
