"""Erasure ("right to be forgotten"): remove a document, or every trace of one value, then prove
that no plaintext of it remains under the data directory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from enclave_core.errors import NotFoundError
from enclave_core.vault import PLACEHOLDER
from enclave_core.vectorstore import payload
from ingest.jobs import JobJournal
from ingest.pipeline import Ingestor

__all__ = ["Eraser", "ErasureReport", "find_plaintext"]


# Shorter values ("45", "OH") occur by chance in any binary file; scanning for them proves nothing.
MIN_SCAN_LENGTH = 5


def find_plaintext(root: Path, values: list[str]) -> list[str]:
    """Files under root holding any of the values as UTF-8 or JSON-escaped text (relative paths)."""
    values = [v for v in values if len(v.strip()) >= MIN_SCAN_LENGTH]
    forms = [f for v in values for f in {v.encode(), json.dumps(v)[1:-1].encode(), v.casefold().encode()}]
    hits: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        if any(f in blob for f in forms):
            hits.append(str(path.relative_to(root)))
    return hits


@dataclass
class ErasureReport:
    collection: str
    documents: list[str] = field(default_factory=list)
    chunks_removed: int = 0
    vault_entries_removed: list[str] = field(default_factory=list)  # placeholders, never values
    remaining_plaintext: list[str] = field(default_factory=list)  # files that still hold it

    @property
    def clean(self) -> bool:
        return not self.remaining_plaintext


class Eraser:
    """Erasure across every store: vector store, manifest, vault and, when given, the job journal."""

    def __init__(self, ingestor: Ingestor, journal: JobJournal | None = None) -> None:
        self.ingestor = ingestor
        self.core = ingestor.core
        self.journal = journal

    def forget_document(self, collection: str, doc_id: str) -> ErasureReport:
        if self.ingestor.manifest.get(collection, doc_id) is None:
            raise NotFoundError(f"no document '{doc_id}' in collection '{collection}'")
        removed_entries = self.core.vault.forget_document(collection, doc_id)
        chunks = self.ingestor.delete_document(collection, doc_id)
        if self.journal is not None:
            self.journal.forget_document(doc_id)
        self.ingestor.manifest.vacuum()
        self.core.store.compact(collection)
        report = ErasureReport(collection, [doc_id], chunks, sorted(e.placeholder for e in removed_entries))
        report.remaining_plaintext = find_plaintext(self.core.settings.data_dir, [e.value for e in removed_entries])
        return report

    def forget_value(self, collection: str, value: str) -> ErasureReport:
        """Remove the value's vault entries and every chunk that holds its placeholder, or the value
        itself in clear (a detection the redactor missed)."""
        entries = self.core.vault.forget_value(collection, value)
        placeholders = {e.placeholder for e in entries}
        needle = value.casefold()
        doomed: dict[str, set[str]] = {}
        for point in self.core.store.iter_points(collection):
            text = str(point.payload.get(payload.TEXT, "")) + "\n" + str(point.payload.get(payload.TITLE, ""))
            mentions = {m.group(0) for m in PLACEHOLDER.finditer(text)} & placeholders
            if mentions or needle in text.casefold():
                doomed.setdefault(str(point.payload.get(payload.DOC_ID, "")), set()).add(point.id)
        ids = sorted(i for group in doomed.values() for i in group)
        self.core.store.delete_points(collection, ids)
        for doc_id, gone in doomed.items():
            record = self.ingestor.manifest.get(collection, doc_id)
            if record is not None:
                kept = [c for c in record.chunk_ids if c not in gone]
                self.ingestor.manifest.put(
                    collection, doc_id, record.source, record.content_sha256, kept, list(record.acl)
                )
        if self.journal is not None:
            self.journal.forget_text(value)
        self.ingestor.manifest.vacuum()
        self.core.store.compact(collection)
        report = ErasureReport(collection, sorted(doomed), len(ids), sorted(placeholders))
        report.remaining_plaintext = find_plaintext(self.core.settings.data_dir, [value])
        return report
