"""RagService writes the same audit records whether an answer is returned whole or streamed:
the query record (pseudonymized question, cited chunks, guard counts) and, when the output guard
redacted something, a separate ``guard.redacted`` record. Retrieval and the LLM are small fakes;
the audit log is the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from enclave_core.audit import AuditLog
from enclave_core.identity import Principal
from enclave_core.llm import ChatMessage, Completion
from enclave_core.retrieval import Citation
from enclave_core.service import RagService, SearchOutcome
from enclave_core.settings import LLMSettings

ANSWER = "Call 555-0100 for the ledger [1]."


class FakeLLM:
    model = "fake-model"

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion:
        return Completion(ANSWER, "fake-model", 10, 5)

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        yield from (ANSWER[:10], ANSWER[10:])


def guard(text: str) -> tuple[str, dict[str, int]]:
    n = text.count("555-0100")
    return text.replace("555-0100", "<PHONE_NUMBER>"), ({"PHONE_NUMBER": n} if n else {})


CITATION = Citation("fin/ledger.md", "c-1", 0.9, "The ledger.", "d-1", "Ledger", None, None, 1, 2)


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RagService, Path]:
    audit = AuditLog(tmp_path / "audit", tmp_path / "audit-signing.key")
    path = audit.path
    core = SimpleNamespace(
        audit=audit,
        access=SimpleNamespace(version="1", allows=lambda *a: True),
        llm=FakeLLM(),
        guard=guard,
        embedder=None,  # evidence checks are off here: the audit records are under test
        settings=SimpleNamespace(llm=LLMSettings(), answers=SimpleNamespace(check_evidence=False)),
    )
    svc = RagService(core)  # type: ignore[arg-type]
    monkeypatch.setattr(svc, "_retrieve", lambda *a: SearchOutcome("Who keeps <PERSON_1>'s ledger?", [CITATION]))
    return svc, path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_whole_and_streamed_answers_are_audited_alike(service: tuple[RagService, Path]) -> None:
    svc, path = service
    alice = Principal("alice", frozenset({"fin"}))
    whole = svc.answer(alice, "fin", "Who keeps Jane's ledger?")
    events = list(svc.stream(alice, "fin", "Who keeps Jane's ledger?"))
    assert whole["answer"] == events[-1]["answer"] == "Call <PHONE_NUMBER> for the ledger [1]."
    got = records(path)
    # The stream records the passages before they leave (query.sources), then the answer.
    assert [r["action"] for r in got] == ["query", "guard.redacted", "query.sources", "query", "guard.redacted"]
    assert got[2]["question"] == "Who keeps <PERSON_1>'s ledger?" and got[2]["chunks"] == got[0]["chunks"]
    first, second = got[0], got[3]
    for record in (first, second):
        assert record["question"] == "Who keeps <PERSON_1>'s ledger?"
        assert record["chunks"] == [{"id": "c-1", "doc_id": "d-1", "score": 0.9}]
        assert record["guard_redactions"] == {"PHONE_NUMBER": 1}
        assert "Jane" not in json.dumps(record) and "555-0100" not in json.dumps(record)
    assert "stream" not in first and second["stream"] is True
    assert got[1]["counts"] == got[4]["counts"] == {"PHONE_NUMBER": 1}


class ThinkingLLM(FakeLLM):
    """A reasoning model without a reasoning parser: its thinking arrives in <think> tags."""

    THOUGHT = "<think>The ledger belongs to Jane Roe, whose phone is 555-0100.</think>"

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion:
        return Completion(self.THOUGHT + ANSWER, "fake-model", 10, 5)

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        text = self.THOUGHT + ANSWER
        yield from (text[:17], text[17:40], text[40:])


def test_reasoning_is_noted_in_the_audit_by_length_and_hash_never_its_text(service: tuple[RagService, Path]) -> None:
    import hashlib

    svc, path = service
    svc.core.llm = ThinkingLLM()
    alice = Principal("alice", frozenset({"fin"}))
    whole = svc.answer(alice, "fin", "Who keeps Jane's ledger?")
    events = list(svc.stream(alice, "fin", "Who keeps Jane's ledger?"))
    assert "Jane Roe" not in whole["answer"] and "Jane Roe" not in json.dumps(events)
    assert all("reasoning_trace" not in e for e in events)  # the client never gets the digest
    thought = "The ledger belongs to Jane Roe, whose phone is 555-0100."
    expected = {"chars": len(thought), "sha256": hashlib.sha256(thought.encode()).hexdigest()}
    answered = [r for r in records(path) if r["action"] == "query"]
    assert [r["reasoning"] for r in answered] == [expected, expected]
    assert "Jane Roe" not in path.read_text(encoding="utf-8")


def test_no_reasoning_field_without_reasoning(service: tuple[RagService, Path]) -> None:
    svc, path = service
    svc.answer(Principal("alice", frozenset({"fin"})), "fin", "Who keeps Jane's ledger?")
    assert all("reasoning" not in r for r in records(path))
