"""The file-share connector end to end on the real pipeline (Presidio, embeddings, embedded
Qdrant) and the real retriever: create, change, move, delete, change group or POSIX ACL,
unreadable and corrupt files, and a sync killed midway that resumes.

Readers come from real file ownership and real ACL xattrs (the kernel validates them), so the
test needs root to chgrp files to other groups; it is skipped otherwise.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest

from enclave_core.errors import UnknownCollection
from enclave_core.identity import Principal
from enclave_core.service import RagService
from ingest import Ingestor
from ingest.connectors import Syncer, SyncState
from ingest.connectors.fileshare import FileShareConnector
from ingest.erasure import find_plaintext

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files other groups")

COLLECTION = "share"
HR_GID, ENG_GID, UNMAPPED_GID, FINANCE_GID = 29, 25, 26, 21  # audio, floppy, tape, fax (Debian base)
GROUP_MAP = {"audio": ["hr"], "floppy": ["eng"], "fax": ["finance"]}
NAME = "Rebecca Thornton"


class Crash(BaseException):
    """Stands in for a kill: not an Exception, so nothing in the sync may swallow it."""


def _write(path: Path, text: str, gid: int, mode: int = 0o640) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chown(path, -1, gid)
    os.chmod(path, mode)


def _grant_acl_read(path: Path, gid: int) -> None:
    """A POSIX access ACL (as setfacl -m g:<gid>:r writes it) in the kernel's xattr format."""
    entries = [
        (0x01, 6, 0xFFFFFFFF),
        (0x04, 4, 0xFFFFFFFF),
        (0x08, 4, gid),
        (0x10, 4, 0xFFFFFFFF),
        (0x20, 0, 0xFFFFFFFF),
    ]
    os.setxattr(
        path, "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)
    )


def _who(groups: list[str]) -> Principal:
    return Principal(name="u", groups=frozenset(groups), auth="api-key", subject="u-" + "-".join(groups))


def _sources(core: Any, groups: list[str], question: str) -> set[str]:
    try:
        return {h.source for h in RagService(core).search(_who(groups), COLLECTION, question, top_k=10)}
    except UnknownCollection:  # nothing in the collection is visible to them
        return set()


@pytest.fixture
def share(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    _write(root / "policies" / "leave.md", f"# Leave\n\nAnnual leave requests go to {NAME} in HR.", HR_GID)
    _write(root / "eng" / "deploy.txt", "Deployments happen on Tuesdays after the change board.", ENG_GID)
    _write(root / "eng" / "oncall.csv", "week;engineer\n1;pager rota alpha\n", ENG_GID)
    _write(root / "secret.txt", "Board minutes about the acquisition.", UNMAPPED_GID)
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    os.chown(root / "broken.pdf", -1, HR_GID)
    os.chmod(root / "broken.pdf", 0o640)
    return root


def test_fileshare_sync_keeps_content_and_permissions_true(core: Any, share: Path, tmp_path: Path) -> None:
    ingestor = Ingestor(core)
    state = SyncState(tmp_path / "sync.sqlite")
    connector = FileShareConnector("files", share, GROUP_MAP)
    syncer = Syncer(ingestor, state)

    first = syncer.sync(COLLECTION, connector)
    assert (first.added, first.without_readers) == (3, 1)  # secret.txt: its group is mapped to nobody
    assert len(first.failed) == 1 and first.failed[0].startswith("broken.pdf: ")  # fails alone
    assert "policies/leave.md" in _sources(core, ["hr"], "Who approves annual leave?")
    assert _sources(core, ["eng"], "annual leave requests") <= {"eng/deploy.txt", "eng/oncall.csv"}
    assert core.vault.lookup(COLLECTION, "PERSON", NAME)  # pseudonymized into the vault

    again = syncer.sync(COLLECTION, connector)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)

    # Content change: re-ingested under the same document.
    _write(share / "eng" / "deploy.txt", "Deployments now happen on Thursdays, approved by the release board.", ENG_GID)
    changed = syncer.sync(COLLECTION, connector)
    assert changed.updated == 1 and changed.unchanged == 2
    texts = [str(p.payload["text"]) for p in core.store.iter_points(COLLECTION)]
    assert any("Thursdays" in t for t in texts) and not any("Tuesdays" in t for t in texts)

    # Group change: a payload update (same chunk ids, nothing re-embedded); eng loses it, hr gains it.
    record = next(r for r in ingestor.manifest.documents(COLLECTION) if r.source == "eng/deploy.txt")
    os.chown(share / "eng" / "deploy.txt", -1, HR_GID)
    regrouped = syncer.sync(COLLECTION, connector)
    assert regrouped.readers_changed == 1 and regrouped.updated == 0
    after = ingestor.manifest.get(COLLECTION, record.doc_id)
    assert after is not None and after.chunk_ids == record.chunk_ids and list(after.acl) == ["hr"]
    assert "eng/deploy.txt" not in _sources(core, ["eng"], "When do deployments happen?")
    assert "eng/deploy.txt" in _sources(core, ["hr"], "When do deployments happen?")

    # A named-group POSIX ACL entry adds readers; removing group read removes them all.
    _grant_acl_read(share / "eng" / "oncall.csv", FINANCE_GID)
    assert syncer.sync(COLLECTION, connector).readers_changed == 1
    assert "eng/oncall.csv" in _sources(core, ["finance"], "pager rota")
    os.removexattr(share / "eng" / "oncall.csv", "system.posix_acl_access")
    os.chmod(share / "eng" / "oncall.csv", 0o600)  # only the (unmapped) owner may read it now
    lost = syncer.sync(COLLECTION, connector)
    assert lost.deleted == 1 and lost.without_readers == 2
    assert "eng/oncall.csv" not in _sources(core, ["eng"], "pager rota") | _sources(core, ["finance"], "pager rota")

    # Move: the document follows its file; delete: chunks, vectors and its vault entries go.
    (share / "archive").mkdir()
    os.rename(share / "policies" / "leave.md", share / "archive" / "leave.md")
    moved = syncer.sync(COLLECTION, connector)
    assert (moved.moved, moved.added, moved.deleted) == (1, 0, 0)
    assert _sources(core, ["hr"], "Who approves annual leave?") & {"archive/leave.md", "policies/leave.md"} == {
        "archive/leave.md"
    }
    (share / "archive" / "leave.md").unlink()
    gone = syncer.sync(COLLECTION, connector)
    assert gone.deleted == 1
    assert "archive/leave.md" not in _sources(core, ["hr"], "Who approves annual leave?")
    assert core.vault.lookup(COLLECTION, "PERSON", NAME) is None  # the value occurs nowhere any more
    state.close()
    ingestor.manifest.close()


def test_a_sync_killed_midway_resumes(core: Any, share: Path, tmp_path: Path) -> None:
    ingestor = Ingestor(core)
    state = SyncState(tmp_path / "sync.sqlite")
    connector = FileShareConnector("files", share, GROUP_MAP)
    seen: list[str] = []

    def crash_on_third(key: str) -> None:
        seen.append(key)
        if len(seen) == 3:  # broken.pdf (fails alone), eng/deploy.txt (stored), then the kill
            raise Crash

    with pytest.raises(Crash):
        Syncer(ingestor, state, on_item=crash_on_third).sync(COLLECTION, connector)
    assert len(state.records(COLLECTION, "files")) == 1  # the first item was committed, then the kill
    points_before = core.store.count(COLLECTION)

    resumed = Syncer(ingestor, state).sync(COLLECTION, connector)
    assert (resumed.added, resumed.unchanged) == (2, 1)
    assert len(state.records(COLLECTION, "files")) == 3
    final = core.store.count(COLLECTION)
    assert final > points_before
    assert Syncer(ingestor, state).sync(COLLECTION, connector).unchanged == 3
    assert core.store.count(COLLECTION) == final  # nothing stored twice
    state.close()
    ingestor.manifest.close()


def test_a_name_in_a_file_path_is_stored_nowhere_in_plaintext(core: Any, share: Path) -> None:
    """Paths hold names; the sync state, manifest and store keep only keyed hashes or the
    pseudonymized form (the attack: read <data>/state/connectors.sqlite for who has a review)."""
    _write(share / "reviews" / "Jane Doe - annual review.txt", "Performance review: exceeds expectations.", HR_GID)
    ingestor = Ingestor(core)
    state = SyncState(core.settings.data_dir / "state" / "connectors.sqlite")
    report = Syncer(ingestor, state).sync(COLLECTION, FileShareConnector("files", share, GROUP_MAP))
    assert report.added == 4
    state.close()
    ingestor.manifest.close()
    assert (core.settings.data_dir / "state" / "connectors.sqlite").exists()
    assert find_plaintext(core.settings.data_dir, ["Jane Doe", "Jane Doe - annual review"]) == []
