"""The evidence step of a streamed or plain answer reuses the question vector retrieval searched with
(same pseudonymised text, same model object) instead of embedding the question a second time while
vLLM reads its prompt. Real Core: embedder, store, retriever, query vectors. No LLM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enclave_core.embedding.registry import variant_of
from enclave_core.identity import Principal
from enclave_core.runtime import Core
from enclave_core.service import RagService
from ingest import Ingestor, SourceFile
from tests.conftest import make_settings

TEXT = "# Leave\n\nEmployees get sixteen weeks of fully paid parental leave. The leave can be split in two parts.\n"


@pytest.fixture
def core(tmp_path: Path, embedder: Any, redactor: Any) -> Iterator[Core]:
    c = Core(make_settings(tmp_path / "data", ENCLAVE_ANSWERS__CHECK_EVIDENCE="true"))
    c.__dict__["embedder"] = embedder
    c.__dict__["redactor"] = redactor
    yield c
    c.close()


def test_the_evidence_step_reuses_the_retrieval_vector(core: Core) -> None:
    report = Ingestor(core).ingest([SourceFile("leave.md", data=TEXT.encode())], "handbook", ["staff"], redact=False)
    assert not report.failed
    rag = RagService(core, via="test")
    principal = Principal("alice", frozenset({"staff"}), frozenset(), auth="api-key")
    embedder = core.embedders.embedder_for("handbook")
    calls: list[str] = []
    embed_query = embedder.embed_query

    def counting(text: str) -> Any:
        calls.append(text)
        return embed_query(text)

    embedder.embed_query = counting  # type: ignore[method-assign]  # the evidence scorer's only way to embed the question
    try:
        found, evidence = rag.retrieval_evidence(principal, "handbook", "How many weeks of parental leave?")
    finally:
        del embedder.embed_query
    assert found.vector is not None and found.vector.text == found.question
    assert found.vector.embedder is embedder and evidence is not None
    # Retrieval embeds float32 questions in a batch (embed_documents) and int8 ones alone (embed_query,
    # enclave_core/query_vectors.py); either way the evidence step does not embed the question again.
    expected = [] if variant_of(embedder) == "float32" else [found.question]
    assert calls == expected  # scored with retrieval's vector, not embedded again
    assert evidence.best_score > 0.3
