"""Answers checked against their evidence: the read path's wrapper around the answer functions.

* Every retrieved source is returned as a citation, ranked; ``sent_to_model`` marks the ones
  the prompt profile passed to the model (a small model sees one, the user sees all five).
* Retrieval evidence decides refusals: when no retrieved sentence is close enough to the
  question (``answers.refuse_below``, calibrated on the dev questions), the documents do not
  answer - the model is not asked, whatever it would have made up.
* Answer support decides what is shown: an answer not backed by the retrieved sentences is
  flagged (``grounding.supported: false``) and, with ``answers.quote_fallback``, replaced by
  the best-matching source sentence, presented as a quote from that source (``kind: "quote"``),
  never as the model's own statement; the model's text stays available as ``model_answer``.
* Per citation, the sentences that best support the answer (``evidence``: spans into ``text``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from enclave_core.answering import NO_ANSWER, Guard
from enclave_core.errors import EnclaveError
from enclave_core.evidence import (
    EvidenceScorer,
    QuestionVector,
    RetrievalEvidence,
    SourceSentence,
    best_answer_sentences,
)
from enclave_core.language import is_japanese
from enclave_core.reasoning import ReasonedAnswer
from enclave_core.retrieval import Citation
from enclave_core.sentence_cache import cache_for

__all__ = [
    "NO_ANSWER_JA",
    "GroundedAnswer",
    "Grounder",
    "answer_grounded",
    "build_grounder",
    "refusal_text",
    "stream_grounded",
]

NO_ANSWER_JA = "提供された文書には、この質問への回答が見つかりません。"
# An unsupported answer is replaced by the sentences closest to the question, quoted with their sources.
_QUOTE_EN = "The model's answer was not supported by the documents. The closest passages say:"
_QUOTE_JA = "モデルの回答は文書で裏付けられませんでした。最も近い箇所の原文:"
QUOTE_SENTENCES = 2


def refusal_text(question: str) -> str:
    """The refusal in the question's language."""
    return NO_ANSWER_JA if is_japanese(question) else NO_ANSWER


@dataclass
class GroundedAnswer:
    answer: str
    model_answer: str | None  # the model's text when it was replaced (unsupported), else None
    citations: list[dict[str, Any]]  # every retrieved source, ranked, with sent_to_model and evidence
    grounding: dict[str, Any]


class Grounder:
    """Refusal and support decisions for one question (see the module doc)."""

    def __init__(
        self,
        scorer: EvidenceScorer,
        guard: Guard,
        refuse_below: float | None,
        quote_fallback: bool = True,
        *,
        calibrated: bool = True,
    ) -> None:
        self.scorer = scorer
        self._guard = guard
        self.refuse_below = refuse_below
        self.quote_fallback = quote_fallback
        self.calibrated = calibrated

    def retrieval(
        self, question: str, citations: list[Citation], known: QuestionVector | None = None
    ) -> RetrievalEvidence:
        return self.scorer.retrieval(question, citations, known)

    def refuses(self, evidence: RetrievalEvidence) -> bool:
        if self.refuse_below is None:  # no refusal threshold for this model's cosine scale
            return False
        return not evidence.sentences or evidence.best_score < self.refuse_below

    def refusal(self, evidence: RetrievalEvidence) -> GroundedAnswer:
        text = refusal_text(evidence.question)
        grounding = {
            "kind": "refusal",
            "supported": None,
            "support": None,
            "retrieval_support": round(evidence.best_score, 4),
            "reasons": ["no retrieved sentence is close enough to the question"],
        }
        return GroundedAnswer(text, None, _citations_json(evidence.citations, 0, None), grounding)

    def finish(self, evidence: RetrievalEvidence, answer: str, sent: int) -> GroundedAnswer:
        """Score the model's (guarded) ``answer``; ``sent``: how many top citations it saw."""
        support = self.scorer.support(evidence, answer)
        grounding: dict[str, Any] = {
            "kind": "model",
            "supported": support.supported,
            "support": support.score,
            "retrieval_support": round(evidence.best_score, 4),
            "reasons": support.reasons,
        }
        shown, model_answer, per_citation = answer, None, support.per_citation
        if not self.calibrated:  # no verdict on a cosine scale the thresholds were not chosen for
            grounding.update(supported=None, calibrated=False)
        elif not support.supported and self.quote_fallback:
            sentences = best_answer_sentences(evidence, QUOTE_SENTENCES)
            if sentences:
                shown, model_answer = self._quote(evidence, sentences), answer
                grounding["kind"] = "quote"
                # The highlight then shows where the quote comes from (vectors known: nothing embedded).
                per_citation = self.scorer.highlight(evidence, sentences)
        return GroundedAnswer(shown, model_answer, _citations_json(evidence.citations, sent, per_citation), grounding)

    def _quote(self, evidence: RetrievalEvidence, sentences: list[SourceSentence]) -> str:
        """The closest sentences as quotes, each under its source number, in the question's language."""
        japanese = is_japanese(evidence.question)
        lines = [_QUOTE_JA if japanese else _QUOTE_EN]
        for s, text in zip(sentences, self._guarded([s.text.strip() for s in sentences]), strict=True):
            c = evidence.citations[s.citation]
            where = f"[{s.citation + 1}] {c.title or c.source}"
            lines.append(f"{where}:「{text.strip()}」" if japanese else f'{where}: "{text.strip()}"')
        return "\n".join(lines)

    def _guarded(self, texts: list[str]) -> list[str]:
        """The output guard over the quoted sentences in one pass (one NER run, not one per
        sentence); sentences hold no line breaks, so the lines map back unless a redaction
        spanned one - then each sentence is guarded alone."""
        guarded, _ = self._guard("\n".join(texts))
        lines = guarded.split("\n")
        if len(lines) == len(texts):
            return lines
        return [self._guard(t)[0] for t in texts]


def _citations_json(
    citations: list[Citation], sent: int, evidence: list[list[dict[str, Any]]] | None
) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(citations):
        item = c.to_json()
        item["sent_to_model"] = i < sent
        item["evidence"] = evidence[i] if evidence is not None else []
        out.append(item)
    return out


_FROM_SETTINGS: Any = object()


def build_grounder(
    embedder: Any,
    guard: Guard,
    settings: Any,
    refuse_below: float | None = _FROM_SETTINGS,
    min_answer_support: float | None = _FROM_SETTINGS,
) -> Grounder | None:
    """The grounder for ``settings.answers`` (None when evidence checks are off).

    The thresholds default to the settings' (the default model's); another model per collection has
    another cosine scale, so the caller passes its own (``answers.models``), and None for one that was
    not calibrated: no refusal (``refuse_below``) or no supported/unsupported verdict and no quote
    (``min_answer_support``), while evidence is still returned.
    Sentence vectors are cached per embedder (``sentence_vector_cache`` vectors; 0: none)."""
    if not settings.check_evidence:
        return None
    if refuse_below is _FROM_SETTINGS:
        refuse_below = settings.refuse_below
    if min_answer_support is _FROM_SETTINGS:
        min_answer_support = settings.min_answer_support
    cache = cache_for(embedder, settings.sentence_vector_cache)
    calibrated = min_answer_support is not None
    support = min_answer_support if min_answer_support is not None else settings.min_answer_support
    scorer = EvidenceScorer(embedder, support, cache=cache)
    return Grounder(scorer, guard, refuse_below, settings.quote_fallback, calibrated=calibrated)


def answer_grounded(
    grounder: Grounder | None,
    question: str,
    citations: list[Citation],
    generate: Callable[[], ReasonedAnswer],
    known: QuestionVector | None = None,
) -> tuple[ReasonedAnswer, dict[str, Any]]:
    """The answer (its text: what the user is shown) and the response fields that go with it:
    ``citations`` (all retrieved), ``model``, and with evidence checks ``grounding``/``model_answer``.
    ``generate`` is called only when retrieval evidence does not already refuse; ``known``: the
    question's vector from retrieval (not embedded again when it fits)."""
    if grounder is None or not citations:
        answer = generate()
        return answer, {"citations": _citations_json(citations, len(answer.citations), None), "model": answer.model}
    evidence = grounder.retrieval(question, citations, known)
    if grounder.refuses(evidence):
        grounded = grounder.refusal(evidence)
        answer = ReasonedAnswer(grounded.answer, [], None)
    else:
        answer = generate()
        grounded = grounder.finish(evidence, answer.answer, len(answer.citations))
        answer = replace(answer, answer=grounded.answer)
    return answer, {
        "citations": grounded.citations,
        "model": answer.model,
        "model_answer": grounded.model_answer,
        "grounding": grounded.grounding,
    }


def stream_grounded(
    grounder: Grounder | None,
    question: str,
    citations: list[Citation],
    start: Callable[[], Iterator[dict[str, Any]]],
    known: QuestionVector | None = None,
) -> Iterator[dict[str, Any]]:
    """:func:`answer_grounded` for answer events. ``start`` (the model's event stream, which sends
    the request to the LLM) is called first, and the retrieval evidence is computed while the model
    reads its prompt: the evidence is not needed to build the prompt, only to decide what is shown.
    When it refuses, the model's stream is closed unread (the generation is aborted) and an LLM
    that could not be reached does not matter, as before."""
    if not citations:
        return start()
    if grounder is None:
        return _all_citations(citations, start())
    events: Iterator[dict[str, Any]] | None = None
    failure: EnclaveError | None = None
    try:
        events = start()
    except EnclaveError as exc:  # e.g. the LLM is down: raised below unless the evidence refuses
        failure = exc
    evidence = grounder.retrieval(question, citations, known)
    if grounder.refuses(evidence):
        close = getattr(events, "close", None)
        if callable(close):
            close()
        return refusal_events(grounder, evidence)
    if failure is not None:
        raise failure
    assert events is not None
    return grounded_events(grounder, evidence, events)


def _all_citations(citations: list[Citation], events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for event in events:
        if event.get("type") == "citations":
            event = {**event, "citations": _citations_json(citations, len(event["citations"]), None)}
        yield event


def grounded_events(
    grounder: Grounder, evidence: RetrievalEvidence, events: Iterator[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Answer events with every retrieved citation and, on ``done``, the grounding verdict."""
    sent = 0
    for event in events:
        kind = event.get("type")
        if kind == "citations":
            sent = len(event["citations"])
            yield {**event, "citations": _citations_json(evidence.citations, sent, None)}
        elif kind == "done":
            g = grounder.finish(evidence, str(event.get("answer", "")), sent)
            yield {
                **event,
                "answer": g.answer,
                "model_answer": g.model_answer,
                "grounding": {**g.grounding, "shown": g.answer},
                "evidence": [c["evidence"] for c in g.citations],
            }
        else:
            yield event


def refusal_events(grounder: Grounder, evidence: RetrievalEvidence) -> Iterator[dict[str, Any]]:
    g = grounder.refusal(evidence)
    yield {"type": "citations", "citations": g.citations}
    yield {"type": "delta", "text": g.answer}
    yield {
        "type": "done",
        "answer": g.answer,
        "reasoning": "",
        "guard": {},
        "model": None,
        "no_sources": False,
        "model_answer": None,
        "grounding": {**g.grounding, "shown": g.answer},
        "evidence": [[] for _ in g.citations],
    }
