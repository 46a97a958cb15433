"""Fake answer guards for the stream-guard tests: regex rules that stand in for the PII engine."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["rules_guard"]


def rules_guard(rules: Sequence[tuple[re.Pattern[str], str]]) -> Callable[[str], tuple[str, dict[str, int]]]:
    """A guard that replaces each rule's matches by ``<ENTITY>`` in order and counts them per entity,
    as ``Redactor.guard`` reports: context on either side of a value is the rules' own lookarounds."""

    def guard(text: str) -> tuple[str, dict[str, int]]:
        counts: dict[str, int] = {}
        for pattern, entity in rules:
            text, n = pattern.subn(f"<{entity}>", text)
            if n:
                counts[entity] = counts.get(entity, 0) + n
        return text, counts

    return guard
