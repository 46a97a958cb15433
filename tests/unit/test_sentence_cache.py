"""Sentence vectors kept between questions (enclave_core.sentence_cache): the evidence computed
with the cache equals the evidence computed on the fly, cold and warm; a warm question embeds
nothing but itself; the bound holds; a changed chunk text is never served stale vectors; the
quote highlight and the quote's guard cost no extra model runs; calibration sees the question
exactly as the read path does (pseudonymized)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from enclave_core.evidence import EvidenceScorer
from enclave_core.grounding import Grounder, answer_grounded, build_grounder
from enclave_core.identity import LOCAL_ADMIN
from enclave_core.reasoning import ReasonedAnswer
from enclave_core.retrieval import Citation
from enclave_core.sentence_cache import ChunkSentences, SentenceVectorCache, cache_for, text_key
from enclave_core.service import RagService, SearchOutcome
from enclave_core.settings import AnswerSettings
from tests.unit.test_grounding import SOURCES, WordsEmbedder, cite


class CountingEmbedder(WordsEmbedder):
    """Counts the texts it embeds as documents (source and answer sentences)."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


QUESTION = "How many weeks of parental leave do employees get?"


def _same_evidence(a: Any, b: Any) -> None:
    assert a.sentences == b.sentences
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    np.testing.assert_allclose(a.question_scores, b.question_scores, atol=1e-6)
    assert a.best_score == pytest.approx(b.best_score)


def test_cached_evidence_equals_evidence_computed_on_the_fly_cold_and_warm() -> None:
    plain = EvidenceScorer(WordsEmbedder(), 0.5).retrieval(QUESTION, SOURCES)
    embedder = CountingEmbedder()
    cached = EvidenceScorer(embedder, 0.5, cache=SentenceVectorCache(1000))
    cold = cached.retrieval(QUESTION, SOURCES)
    sentences = len(embedder.embedded)
    assert sentences == len(plain.sentences) == 6
    warm = cached.retrieval(QUESTION, SOURCES)
    _same_evidence(cold, plain)
    _same_evidence(warm, plain)
    assert len(embedder.embedded) == sentences  # warm: no source sentence embedded again
    assert cached.cache is not None and cached.cache.hits == 3 and cached.cache.misses == 3
    # The answer's verdict and highlights are the same too.
    answer = "Employees get 16 weeks of fully paid parental leave."
    assert EvidenceScorer(WordsEmbedder(), 0.5).support(plain, answer) == cached.support(warm, answer)


def test_only_chunks_not_seen_before_are_embedded_in_a_new_order() -> None:
    embedder = CountingEmbedder()
    scorer = EvidenceScorer(embedder, 0.5, cache=SentenceVectorCache(1000))
    scorer.retrieval(QUESTION, SOURCES[:2])
    embedder.embedded.clear()
    other = cite(4, "Dogs are welcome on Fridays. Bring a lead.")
    mixed = scorer.retrieval(QUESTION, [other, SOURCES[1], SOURCES[0], SOURCES[0]])
    assert embedder.embedded == ["Dogs are welcome on Fridays.", "Bring a lead."]
    _same_evidence(
        mixed, EvidenceScorer(WordsEmbedder(), 0.5).retrieval(QUESTION, [other, *SOURCES[1::-1], SOURCES[0]])
    )
    assert [s.citation for s in mixed.sentences] == [0, 0, 1, 1, 2, 2, 2, 3, 3, 3]


def test_a_chunk_whose_text_changed_gets_new_vectors_not_stale_ones() -> None:
    scorer = EvidenceScorer(WordsEmbedder(), 0.5, cache=SentenceVectorCache(1000))
    scorer.retrieval(QUESTION, [cite(1, "Employees get 16 weeks of parental leave.")])
    changed = scorer.retrieval(QUESTION, [cite(1, "Employees get 20 weeks of parental leave.")])  # same chunk id
    assert changed.sentences[0].text == "Employees get 20 weeks of parental leave."
    _same_evidence(
        changed,
        EvidenceScorer(WordsEmbedder(), 0.5).retrieval(
            QUESTION, [cite(1, "Employees get 20 weeks of parental leave.")]
        ),
    )


def test_chunks_without_sentences_and_no_citations_still_work() -> None:
    scorer = EvidenceScorer(WordsEmbedder(), 0.5, cache=SentenceVectorCache(1000))
    for _ in range(2):
        assert scorer.retrieval(QUESTION, [cite(1, "Hi.")]).sentences == []
        assert scorer.retrieval(QUESTION, []).best_score == 0.0
    mixed = scorer.retrieval(QUESTION, [cite(1, "Hi."), SOURCES[2]])
    assert [s.citation for s in mixed.sentences] == [1] and mixed.vectors.shape[0] == 1


def test_the_cache_holds_at_most_its_bound_of_vectors_least_recently_used_out() -> None:
    cache = SentenceVectorCache(max_vectors=5)

    def entry(n: int) -> ChunkSentences:
        return ChunkSentences(tuple((i, i + 1) for i in range(n)), np.ones((n, 3), dtype=np.float32))

    cache.put(b"a", entry(2))
    cache.put(b"b", entry(2))
    assert cache.get(b"a") is not None  # a is now the most recently used
    cache.put(b"c", entry(2))  # 6 > 5: b goes
    assert cache.get(b"b") is None and cache.get(b"a") is not None and cache.get(b"c") is not None
    assert cache.vectors == 4 and len(cache) == 2
    cache.put(b"huge", entry(6))  # larger than the whole cache: not kept, nothing evicted
    assert cache.get(b"huge") is None and len(cache) == 2
    stored = cache.get(b"a")
    assert stored is not None and not stored.vectors.flags.writeable
    assert text_key("x") == text_key("x") != text_key("y")


def test_one_cache_per_embedder_and_none_when_switched_off() -> None:
    first, second = WordsEmbedder(), WordsEmbedder()
    assert cache_for(first, 100) is cache_for(first, 200) is not cache_for(second, 100)
    cache = cache_for(first, 300)
    assert cache is not None and cache.max_vectors == 300
    assert cache_for(first, 0) is None
    settings = AnswerSettings(sentence_vector_cache=0)
    grounder = build_grounder(first, lambda t: (t, {}), settings)
    assert grounder is not None and grounder.scorer.cache is None
    grounder = build_grounder(first, lambda t: (t, {}), AnswerSettings())
    assert grounder is not None and grounder.scorer.cache is cache_for(first, AnswerSettings().sentence_vector_cache)


def test_a_quote_is_highlighted_and_guarded_without_extra_model_or_guard_runs() -> None:
    embedder = CountingEmbedder()
    guarded: list[str] = []

    def guard(text: str) -> tuple[str, dict[str, int]]:
        guarded.append(text)
        return text, {}

    g = Grounder(EvidenceScorer(embedder, 0.5), guard, 0.3)
    answer, fields = answer_grounded(
        g, QUESTION, SOURCES, lambda: ReasonedAnswer("The sources are data, not instructions.", [SOURCES[0]], "m")
    )
    assert fields["grounding"]["kind"] == "quote"
    # Source sentences once, then the answer's one sentence; the quoted sentences are not embedded again.
    assert embedder.embedded[6:] == ["The sources are data, not instructions."]
    assert len(guarded) == 1 and guarded[0].count("\n") == 1  # both quoted sentences in one guard run
    top = fields["citations"][0]["evidence"][0]
    assert top["text"] == "Employees get 16 weeks of fully paid parental leave." and top["score"] == pytest.approx(1.0)
    assert '[1] Doc 1: "Employees get 16 weeks of fully paid parental leave."' in answer.answer


def test_a_guard_that_merges_lines_falls_back_to_one_run_per_quoted_sentence() -> None:
    calls: list[str] = []

    def guard(text: str) -> tuple[str, dict[str, int]]:
        calls.append(text)
        return text.replace("\n", " "), {}

    g = Grounder(EvidenceScorer(WordsEmbedder(), 0.5), guard, 0.3)
    answer, _ = answer_grounded(g, QUESTION, SOURCES, lambda: ReasonedAnswer("Data, not instructions.", [], "m"))
    assert len(calls) == 3 and '"Employees get 16 weeks of fully paid parental leave."' in answer.answer


def test_calibration_evidence_uses_the_pseudonymized_question_as_the_read_path_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embedder = WordsEmbedder()
    core = SimpleNamespace(
        settings=SimpleNamespace(answers=AnswerSettings(), embedding=SimpleNamespace(model="words")),
        embedders=SimpleNamespace(
            model_for=lambda c: "words", embedder_for=lambda c: embedder, check=lambda c: embedder
        ),
        guard=lambda t: (t, {}),
    )
    service = RagService(core)  # type: ignore[arg-type]
    safe = "How many weeks of parental leave does <PERSON_1> get?"
    citations: list[Citation] = list(SOURCES)
    monkeypatch.setattr(service, "_retrieve", lambda *a: SearchOutcome(safe, citations))
    found, evidence = service.retrieval_evidence(LOCAL_ADMIN, "samples", "How many weeks of leave does Ann Lee get?")
    assert found.question == safe and evidence is not None and evidence.question == safe
    expected = build_grounder(embedder, core.guard, core.settings.answers)
    assert expected is not None
    _same_evidence(evidence, expected.retrieval(safe, citations))
