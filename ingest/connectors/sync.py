"""Incremental sync of one connector into one collection.

Per item: unchanged version -> nothing read (readers re-checked: a change is a payload update,
no re-embedding); changed bytes -> re-ingested under the same document id; gone -> its chunks,
vectors and the vault entries no other document uses are deleted. A move is a delete plus an
add (detected by content hash and reported as such). Each item succeeds or fails alone; a
sync killed midway resumes by running again, since state is written only after each commit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from enclave_core.errors import EnclaveError
from ingest.pipeline import Ingestor, SourceFile, document_id

from .base import Connector, Item
from .state import SyncRecord, SyncState

__all__ = ["SyncReport", "Syncer"]


@dataclass
class SyncReport:
    collection: str
    connector: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    readers_changed: int = 0
    moved: int = 0
    deleted: int = 0
    without_readers: int = 0
    failed: list[str] = field(default_factory=list)
    deletions_skipped: bool = False  # the listing was incomplete

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Syncer:
    """Runs a connector's listing against the collection's stored state."""

    def __init__(self, ingestor: Ingestor, state: SyncState, on_item: Callable[[str], None] | None = None) -> None:
        self.ingestor = ingestor
        self.state = state
        self.on_item = on_item  # called with each item's key before it is processed (tests inject crashes)

    def item_doc_id(self, collection: str, connector: str, key: str) -> str:
        """Stable across reader changes (unlike uploads, whose id includes the readers), so a
        permission change is a payload update of the same document."""
        return document_id(collection, f"connector\x00{connector}\x00{key}", [], self.ingestor.core.data_key)

    def state_key(self, collection: str, connector: str, key: str) -> str:
        """An item's key as the sync state stores it: keys are paths, URLs and message ids, which
        hold names ("reviews/Jane Doe.txt"), and the state file must hold no personal data; a
        keyed hash still finds the item again on the next listing."""
        message = f"sync\x00{collection}\x00{connector}\x00{key}".encode()
        return hmac.new(self.ingestor.core.data_key, message, hashlib.sha256).hexdigest()

    def sync(self, collection: str, connector: Connector) -> SyncReport:
        try:
            return self._sync(collection, connector)
        finally:
            close = getattr(connector, "close", None)  # connectors holding a connection (IMAP)
            if close is not None:
                close()

    def _sync(self, collection: str, connector: Connector) -> SyncReport:
        report = SyncReport(collection, connector.name)
        listing = connector.list_items()
        report.failed.extend(listing.errors)
        known = self.state.records(collection, connector.name)
        seen: set[str] = set()
        added_shas: set[str] = set()
        for item in listing.items:
            if not item.readers:
                report.without_readers += 1  # nobody may read it: stored nowhere, removed if it was
                continue
            stored_key = self.state_key(collection, connector.name, item.key)
            seen.add(stored_key)
            if self.on_item is not None:
                self.on_item(item.key)
            try:
                self._sync_item(collection, connector.name, item, stored_key, known.get(stored_key), report, added_shas)
            except (EnclaveError, OSError) as exc:
                report.failed.append(f"{item.source}: {exc}")
        if listing.complete:
            for key, record in known.items():
                if key in seen:
                    continue
                for doc_id in (record.doc_id, *record.children):
                    self.ingestor.delete_document(collection, doc_id)
                self.state.delete(collection, connector.name, key)
                if record.sha in added_shas:
                    report.moved += 1
                    report.added -= 1
                else:
                    report.deleted += 1
        else:
            report.deletions_skipped = True
        self.state.finished(collection, connector.name, _now())
        return report

    def _sync_item(
        self,
        collection: str,
        connector: str,
        item: Item,
        stored_key: str,
        previous: SyncRecord | None,
        report: SyncReport,
        added_shas: set[str],
    ) -> None:
        readers = tuple(sorted(set(item.readers)))
        if previous is not None and previous.version == item.version:
            self._update_readers(collection, connector, previous, readers, item.version, report)
            return
        data = item.fetch()
        sha = hashlib.sha256(data).hexdigest()
        if previous is not None and previous.sha == sha:
            self._update_readers(collection, connector, previous, readers, item.version, report)
            return
        doc_id = self.item_doc_id(collection, connector, item.key)
        result = self.ingestor.ingest(
            [SourceFile(item.source, data=data, doc_id=doc_id)], collection, readers, attachments=True
        )
        parent, children = result.outcomes[0], result.outcomes[1:]
        report.failed.extend(o.error or o.source for o in result.outcomes if o.status == "failed")
        if parent.status == "failed":
            return  # the stored version, if any, stays until a readable one arrives
        child_ids = tuple(o.doc_id for o in children if o.status != "failed" and o.doc_id)
        if previous is not None:
            for stale in set(previous.children) - set(child_ids):
                self.ingestor.delete_document(collection, stale)
        self.state.put(
            collection, connector, SyncRecord(stored_key, doc_id, child_ids, item.version, sha, readers), _now()
        )
        if previous is None:
            report.added += 1
            added_shas.add(sha)
        else:
            report.updated += 1

    def _update_readers(
        self,
        collection: str,
        connector: str,
        previous: SyncRecord,
        readers: tuple[str, ...],
        version: str,
        report: SyncReport,
    ) -> None:
        if previous.readers == readers and previous.version == version:
            report.unchanged += 1
            return
        if previous.readers != readers:
            for doc_id in (previous.doc_id, *previous.children):
                self.ingestor.set_acl(collection, doc_id, readers)
            report.readers_changed += 1
        else:
            report.unchanged += 1
        record = SyncRecord(previous.key, previous.doc_id, previous.children, version, previous.sha, readers)
        self.state.put(collection, connector, record, _now())
