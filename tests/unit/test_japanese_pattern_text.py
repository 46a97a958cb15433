"""The Japanese name patterns are the same text in every process (the regex cache is keyed by it)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys

import regex as re

from enclave_core.redaction.japanese import _NAME_RULES, _SURNAME_ALT, KANJI
from enclave_core.redaction.japanese_names import SURNAMES

_CHILD = r"""
import hashlib, json
from enclave_core.redaction.japanese import _NAME_RULES
print(json.dumps([hashlib.sha256(p.encode()).hexdigest() for p, _ in _NAME_RULES]))
"""


def _pattern_digests(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    digests: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return digests


def test_name_patterns_do_not_depend_on_the_hash_seed() -> None:
    # Set iteration order follows the string hash seed, which differs per process unless pinned.
    first, second = _pattern_digests("1"), _pattern_digests("2")
    assert first == second
    assert first == [hashlib.sha256(p.encode()).hexdigest() for p, _ in _NAME_RULES]


def test_sorted_alternation_matches_what_any_longest_first_order_matched() -> None:
    # The old text: longest first, ties in whatever order the set gave. Equal-length literals cannot both
    # match at one position, so every such order matches the same spans; the sorted one must as well.
    rng = random.Random(7)
    text = "、".join(f"{s}{'太郎一'[: 1 + i % 3]}" for i, s in enumerate(sorted(SURNAMES))) + "。佐々木 陽介が来た。"
    new = re.compile(f"(?:{_SURNAME_ALT})[ 　]?{KANJI}{{1,3}}")
    expected = [m.span() for m in new.finditer(text)]
    assert len(expected) > len(SURNAMES) // 2
    for _ in range(5):
        shuffled = list(SURNAMES)
        rng.shuffle(shuffled)
        old_alt = "|".join(sorted(shuffled, key=len, reverse=True))
        assert old_alt != _SURNAME_ALT or len(SURNAMES) < 2
        old = re.compile(f"(?:{old_alt})[ 　]?{KANJI}{{1,3}}")
        assert [m.span() for m in old.finditer(text)] == expected
