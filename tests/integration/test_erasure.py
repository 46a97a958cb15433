"""Erasure end to end on the real pipeline: pseudonymized ingest, reveal, then forget a value and
a document — chunks, vectors and vault entries go, and no plaintext remains on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from enclave_core.identity import LOCAL_ADMIN
from enclave_core.service import RagService
from ingest import Ingestor, SourceFile
from ingest.erasure import Eraser, find_plaintext
from tests.conftest import REPO

EVAL = REPO / "tests" / "fixtures" / "eval_corpus"
LEAVE = "annual-leave-policy.md"
SICK = "sick-leave-and-return-to-work.md"
NAME = "Rebecca Thornton"  # planted in LEAVE only


@pytest.fixture
def ingested(core: Any) -> tuple[Any, Ingestor, dict[str, str]]:
    ingestor = Ingestor(core)
    files = [SourceFile(name, data=(EVAL / name).read_bytes()) for name in (LEAVE, SICK)]
    report = ingestor.ingest(files, "hr", ["*"])
    assert not report.failed
    return core, ingestor, {o.source: o.doc_id or "" for o in report.outcomes}


def _texts(core: Any) -> str:
    return "\n".join(str(p.payload["text"]) for p in core.store.iter_points("hr"))


def test_pseudonyms_are_consistent_and_revealable(ingested: Any) -> None:
    core, ingestor, _ = ingested
    placeholder = core.vault.lookup("hr", "PERSON", NAME)
    assert placeholder and placeholder.startswith("<PERSON_")
    assert placeholder in _texts(core) and NAME not in _texts(core)
    revealed, which = core.vault.reveal("hr", f"Ask {placeholder}.")
    assert revealed == f"Ask {NAME}." and which == [placeholder]
    # A question naming the person retrieves the chunk holding the placeholder.
    hits = RagService(core).search(LOCAL_ADMIN, "hr", f"What does {NAME} approve?", top_k=3)
    assert any(placeholder in c.text for c in hits)
    ingestor.manifest.close()


def test_forget_value_removes_chunks_and_vault_entry(ingested: Any) -> None:
    core, ingestor, _ = ingested
    placeholder = core.vault.lookup("hr", "PERSON", NAME)
    before = core.store.count("hr")
    report = Eraser(ingestor).forget_value("hr", NAME)
    assert report.clean and report.vault_entries_removed == [placeholder] and report.chunks_removed >= 1
    assert core.store.count("hr") == before - report.chunks_removed
    assert placeholder not in _texts(core)
    assert core.vault.lookup("hr", "PERSON", NAME) is None
    assert core.vault.reveal("hr", placeholder) == (placeholder, [])
    assert find_plaintext(core.settings.data_dir, [NAME]) == []
    ingestor.manifest.close()


def test_forget_document_removes_its_points_and_values(ingested: Any, tmp_path: Path) -> None:
    core, ingestor, ids = ingested
    report = Eraser(ingestor).forget_document("hr", ids[LEAVE])
    assert report.clean and report.chunks_removed > 0
    assert {p.payload["doc_id"] for p in core.store.iter_points("hr")} == {ids[SICK]}
    assert core.vault.lookup("hr", "PERSON", NAME) is None
    assert ingestor.manifest.get("hr", ids[LEAVE]) is None
    ingestor.manifest.close()
