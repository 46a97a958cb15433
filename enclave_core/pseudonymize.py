"""Per-collection PII handling on top of the redactor: irreversible redaction or reversible,
consistent pseudonyms (``<PERSON_7>`` is the same person in every document of a collection).

The redactor decides *what* is personal data; this module decides *what replaces it*, per
``policies/pii.yaml``. Questions go through ``pseudonymize_query`` so that a user asking about
a person by name retrieves the chunks that mention that person's placeholder, without the
name ever being stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from enclave_core.policy.loader import load_policy_file
from enclave_core.redaction import Detection, Redacted, Redactor
from enclave_core.vault import Vault

__all__ = ["PiiPolicy", "Pseudonymizer"]

Mode = Literal["pseudonymize", "redact"]


@dataclass(frozen=True)
class CollectionPii:
    mode: Mode = "pseudonymize"
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PiiPolicy:
    default: CollectionPii
    collections: dict[str, CollectionPii]

    @classmethod
    def from_file(cls, path: Path) -> PiiPolicy:
        data = load_policy_file(path, "pii")

        def rule(d: dict[str, Any] | None) -> CollectionPii:
            d = d or {}
            return CollectionPii(d.get("mode", "pseudonymize"), frozenset(d.get("keep", [])))

        return cls(rule(data.get("default")), {k: rule(v) for k, v in (data.get("collections") or {}).items()})

    def rule(self, collection: str) -> CollectionPii:
        return self.collections.get(collection, self.default)


class Pseudonymizer:
    def __init__(
        self,
        redactor: Redactor,
        vault: Vault,
        policy: PiiPolicy,
        detect_query: Callable[[str], list[Detection]] | None = None,
    ) -> None:
        """``detect_query``: the detection of one question (default: the redactor's own, alone); the
        gateway passes one that batches the questions of concurrent requests (enclave_core.batching)."""
        self.redactor = redactor
        self.vault = vault
        self.policy = policy
        self._detect_query = detect_query or (lambda question: redactor.detect_many([question])[0])

    def process_many(self, collection: str, texts: Sequence[str], doc_ids: Sequence[str]) -> list[Redacted]:
        """Ingest path: one batched detection pass, then placeholders per the collection's rule."""
        if not self.needs_detections(collection):
            return self.redactor.redact_many(texts)
        return self.apply_detections(collection, texts, doc_ids, self.redactor.detect_many(texts))

    def needs_detections(self, collection: str) -> bool:
        """Whether ``process_many`` needs the redactor's offsets (``detect_many``, then placeholders
        here) or only its redacted texts (``redact_many``): the split lets ingest run the detection
        elsewhere (another process) and still hand out the collection's pseudonyms here."""
        rule = self.policy.rule(collection)
        return not (rule.mode == "redact" and not rule.keep)

    def apply_detections(
        self, collection: str, texts: Sequence[str], doc_ids: Sequence[str], detections: Sequence[list[Detection]]
    ) -> list[Redacted]:
        """The second half of ``process_many``: placeholders for ``detect_many``'s spans of ``texts``."""
        rule = self.policy.rule(collection)
        requests: list[tuple[str, str, str]] = []
        for text, found, doc_id in zip(texts, detections, doc_ids, strict=True):
            for d in found:
                if d.entity not in rule.keep and rule.mode == "pseudonymize":
                    requests.append((d.entity, text[d.start : d.end], doc_id))
        placeholders = iter(self.vault.assign(collection, requests)) if requests else iter(())
        results: list[Redacted] = []
        for text, found in zip(texts, detections, strict=True):
            out, counts = text, dict[str, int]()
            replacements = []
            for d in found:
                if d.entity in rule.keep:
                    continue
                new = next(placeholders) if rule.mode == "pseudonymize" else self._typed(d.entity)
                replacements.append((d.start, d.end, new))
                counts[d.entity] = counts.get(d.entity, 0) + 1
            for start, end, new in reversed(replacements):
                out = out[:start] + new + out[end:]
            results.append(Redacted(out, dict(sorted(counts.items()))))
        return results

    def _typed(self, entity: str) -> str:
        return self.redactor.policy.rule(entity).placeholder

    def pseudonymize_query(
        self, collection: str, question: str, can_read: Callable[[frozenset[str]], bool] | None = None
    ) -> Redacted:
        """Map PII in a question to the collection's existing placeholders (never creates entries);
        other values become typed placeholders. The result is safe to log.

        ``can_read(doc_ids)`` says whether the caller may read any of those documents. A value
        gets its placeholder only when it occurs in a document the caller can read; otherwise
        the question would tell the caller that the name occurs somewhere they cannot see
        (``<PERSON_1>`` for a known name, ``<PERSON>`` for an unknown one). None: unrestricted."""
        rule = self.policy.rule(collection)
        found = self._detect_query(question)
        out, counts = question, dict[str, int]()
        for d in reversed(found):
            if d.entity in rule.keep:
                continue
            known = None
            if rule.mode == "pseudonymize":
                entry = self.vault.lookup_entry(collection, d.entity, question[d.start : d.end])
                if entry is not None and (can_read is None or can_read(frozenset(entry.docs))):
                    known = entry.placeholder
            new = known or self._typed(d.entity)
            out = out[: d.start] + new + out[d.end :]
            counts[d.entity] = counts.get(d.entity, 0) + 1
        return Redacted(out, dict(sorted(counts.items())))
