"""Evidence for an answer, from the embedding model already loaded - never from the LLM.

A 135M model neither refuses nor knows when it invents, so both decisions are taken here:

* retrieval evidence: how well the best retrieved sentence matches the question. Below a
  threshold calibrated on the dev questions (``enclave bench answers --calibrate``) the documents
  are taken not to answer, whatever the model would say;
* answer support: how well each answer sentence is backed by a retrieved sentence (cosine), and
  whether the answer's numbers and words occur in the sources at all. An unsupported answer is
  flagged; the read path then shows the best-matching source sentence as a quote instead.

Per citation the sentences that best support the answer are returned with their character spans,
so clients can highlight them in the source text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from enclave_core.embedding.base import Embedder, Vectors
from enclave_core.retrieval import Citation
from enclave_core.sentence_cache import ChunkSentences, SentenceVectorCache, text_key
from enclave_core.stopwords import STOP_WORDS

__all__ = [
    "AnswerSupport",
    "EvidenceScorer",
    "QuestionVector",
    "RecordingEmbed",
    "RetrievalEvidence",
    "SourceSentence",
    "best_answer_sentences",
    "content_terms",
    "sentence_spans",
    "unsupported_numbers",
]

# Sentence ends: Latin punctuation followed by space, CJK full stops (no space follows them), line breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？])|\n+")
_MIN_SENTENCE_CHARS = 8
_MAX_SENTENCE_CHARS = 400
_NUMBER_CONTEXT = 3  # source sentences closest to an answer sentence that may back its numbers
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"\w+")
_PLACEHOLDER = re.compile(r"<[A-Z_]+(?:_\d+)?>")
# Words about answering itself: an answer that says "the document says" has not said anything yet.
_ANSWER_WORDS = frozenset(
    ["answer", "question", "source", "sources", "document", "documents", "text", "according", "says", "said"]
)
_IGNORED = STOP_WORDS | _ANSWER_WORDS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (stripped; very short ones dropped, very long
    ones - tables, run-on lists - cut into pieces so one sentence cannot match everything)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        s, e = start + lead, start + len(piece.rstrip())
        while e - s > _MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", s, s + _MAX_SENTENCE_CHARS)
            cut = cut if cut > s else s + _MAX_SENTENCE_CHARS
            spans.append((s, cut))
            s = cut + 1 if text[cut : cut + 1] == " " else cut
        if e - s >= _MIN_SENTENCE_CHARS:
            spans.append((s, e))
        if m is not None:
            start = m.end()
    return spans


def content_terms(text: str) -> set[str]:
    """Lower-cased words minus stop words and placeholders (for Japanese: single characters)."""
    text = _PLACEHOLDER.sub(" ", text)
    out: set[str] = set()
    for w in (m.group(0).lower() for m in _WORD.finditer(text)):
        if _JAPANESE.search(w):
            out.update(ch for ch in w if _JAPANESE.match(ch))
        elif w not in _IGNORED and len(w) > 1:
            out.add(w)
    return out


def _numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "").rstrip(".:") for m in _NUMBER.finditer(_PLACEHOLDER.sub(" ", text))}


def unsupported_numbers(answer: str, sources: Sequence[str], question: str = "") -> set[str]:
    """Numbers in ``answer`` found neither in any source nor in the question: invented figures."""
    known: set[str] = _numbers(question)
    for s in sources:
        known |= _numbers(s)
    return _numbers(answer) - known


class QuestionVector(NamedTuple):
    """The question's vector as retrieval searched with it (text and model included), so that the
    evidence step does not embed the same text with the same model a second time."""

    embedder: Embedder
    text: str
    vector: Vectors


class RecordingEmbed:
    """``Retriever.search``'s ``embed`` hook, passed through, keeping the last vector it returned."""

    def __init__(self, embed: Callable[[Embedder, str], Vectors]) -> None:
        self._embed = embed
        self.last: QuestionVector | None = None

    def __call__(self, embedder: Embedder, text: str) -> Vectors:
        vector = self._embed(embedder, text)
        self.last = QuestionVector(embedder, text, vector)
        return vector


@dataclass(frozen=True)
class SourceSentence:
    citation: int  # index into the retrieved citations (0-based)
    start: int
    end: int
    text: str


@dataclass
class RetrievalEvidence:
    """The retrieved sources cut into sentences, embedded once, scored against the question."""

    question: str
    citations: list[Citation]
    sentences: list[SourceSentence]
    vectors: np.ndarray  # one unit vector per sentence
    question_scores: np.ndarray  # cosine of each sentence with the question

    @property
    def best_score(self) -> float:
        return float(self.question_scores.max()) if len(self.sentences) else 0.0

    def best_sentences(self, n: int = 1) -> list[tuple[SourceSentence, float]]:
        order = np.argsort(-self.question_scores, kind="stable")[:n]
        return [(self.sentences[i], float(self.question_scores[i])) for i in order]


@dataclass
class AnswerSupport:
    """How well an answer is backed by the retrieved sentences."""

    score: float  # the weakest answer sentence's best cosine with any source sentence
    supported: bool
    reasons: list[str] = field(default_factory=list)  # why not supported (for the API and the audit)
    per_citation: list[list[dict[str, Any]]] = field(default_factory=list)  # evidence sentences per citation


class EvidenceScorer:
    """Scores retrieval and answers with the embedder already loaded for search. With a ``cache``,
    a chunk's sentence vectors are embedded once and reused by every later question that
    retrieves it (``enclave_core.sentence_cache``); the scores are the same either way."""

    def __init__(
        self,
        embedder: Embedder,
        min_answer_support: float,
        max_evidence: int = 2,
        cache: SentenceVectorCache | None = None,
    ) -> None:
        self._embedder = embedder
        self.min_answer_support = min_answer_support
        self._max_evidence = max_evidence
        self.cache = cache

    def retrieval(
        self, question: str, citations: Sequence[Citation], known: QuestionVector | None = None
    ) -> RetrievalEvidence:
        """``known``: the question's vector from retrieval, used when it is this text by this model."""
        chunks = self.chunk_sentences([c.text for c in citations])
        sentences = [
            SourceSentence(i, s, e, c.text[s:e])
            for i, (c, cs) in enumerate(zip(citations, chunks, strict=True))
            for s, e in cs.spans
        ]
        if not sentences:
            empty = np.zeros((0, 1), dtype=np.float32)
            return RetrievalEvidence(question, list(citations), [], empty, np.zeros(0, dtype=np.float32))
        vectors = np.concatenate([cs.vectors for cs in chunks if cs.spans])
        if known is not None and known.embedder is self._embedder and known.text == question:
            q = np.asarray(known.vector, dtype=np.float32).reshape(-1)
        else:
            q = np.asarray(self._embedder.embed_query(question), dtype=np.float32).reshape(-1)
        return RetrievalEvidence(question, list(citations), sentences, vectors, vectors @ q)

    def chunk_sentences(self, texts: Sequence[str]) -> list[ChunkSentences]:
        """Each text's sentence spans and vectors: cached ones reused, all others embedded in one batch."""
        keys = [text_key(t) for t in texts]
        known: dict[bytes, ChunkSentences] = {}
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key in known or key in missing:
                continue
            entry = self.cache.get(key) if self.cache is not None else None
            if entry is None:
                missing[key] = text
            else:
                known[key] = entry
        if missing:
            spans = {key: tuple(sentence_spans(text)) for key, text in missing.items()}
            flat = [text[s:e] for key, text in missing.items() for s, e in spans[key]]
            vectors = np.asarray(self._embedder.embed_documents(flat), dtype=np.float32) if flat else None
            at = 0
            for key in missing:
                n = len(spans[key])
                rows = vectors[at : at + n] if vectors is not None else np.zeros((0, 0), dtype=np.float32)
                known[key] = ChunkSentences(spans[key], rows)
                at += n
                if self.cache is not None:
                    self.cache.put(key, known[key])
        return [known[key] for key in keys]

    def support(self, evidence: RetrievalEvidence, answer: str) -> AnswerSupport:
        """Score ``answer`` against the sources: per citation its best sentences, and a verdict."""
        spans = [answer[s:e] for s, e in sentence_spans(answer)] or ([answer.strip()] if answer.strip() else [])
        spans = [_PLACEHOLDER.sub(" ", s) for s in _strip_markers(spans)]
        spans = [s for s in spans if content_terms(s)]
        if not spans or not evidence.sentences:
            return AnswerSupport(0.0, False, ["nothing to compare"], [[] for _ in evidence.citations])
        a = np.asarray(self._embedder.embed_documents(spans), dtype=np.float32)
        sim = a @ evidence.vectors.T  # answer sentences x source sentences
        score = float(sim.max(axis=1).min())
        per_citation = self._per_citation(evidence, sim.max(axis=0))
        reasons: list[str] = []
        answer = _strip_markers([answer])[0]
        if score < self.min_answer_support:
            reasons.append("no retrieved sentence is close to the answer")
        sources = [c.text for c in evidence.citations]
        # A figure counts as backed only by the few sentences closest to the answer sentence that
        # states it: "$5" is not backed by a "5 years" somewhere else in the passage.
        near = np.argsort(-sim, axis=1, kind="stable")[:, :_NUMBER_CONTEXT]
        if any(
            unsupported_numbers(span, [evidence.sentences[j].text for j in near[i]], evidence.question)
            for i, span in enumerate(spans)
        ):
            reasons.append("the answer has numbers that its closest source sentences do not contain")
        terms = content_terms(answer) - content_terms(evidence.question)
        if not terms:
            reasons.append("the answer only repeats the question")
        elif len(terms - set().union(*(content_terms(s) for s in sources))) > len(terms) / 2:
            reasons.append("most of the answer's words occur in no source")
        return AnswerSupport(round(score, 4), not reasons, reasons, per_citation)

    def highlight(self, evidence: RetrievalEvidence, sentences: Sequence[SourceSentence]) -> list[list[dict[str, Any]]]:
        """Per citation, its sentences closest to some of the retrieved ``sentences`` (a quote):
        their vectors are known already, so nothing is embedded."""
        index = {s: j for j, s in enumerate(evidence.sentences)}
        rows = [index[s] for s in sentences if s in index]
        if not rows:
            return [[] for _ in evidence.citations]
        sim = evidence.vectors[rows] @ evidence.vectors.T
        return self._per_citation(evidence, sim.max(axis=0))

    def _per_citation(self, evidence: RetrievalEvidence, best_for_source: np.ndarray) -> list[list[dict[str, Any]]]:
        """Per citation, its ``max_evidence`` sentences with the highest score, as spans into its text."""
        per_citation: list[list[dict[str, Any]]] = [[] for _ in evidence.citations]
        for i in range(len(evidence.citations)):
            idx = [j for j, s in enumerate(evidence.sentences) if s.citation == i]
            idx.sort(key=lambda j: -best_for_source[j])
            for j in idx[: self._max_evidence]:
                s = evidence.sentences[j]
                per_citation[i].append(
                    {
                        "start": s.start,
                        "end": s.end,
                        "text": s.text,
                        "score": round(float(best_for_source[j]), 4),
                        "supports": bool(best_for_source[j] >= self.min_answer_support),
                    }
                )
        return per_citation


def best_answer_sentences(evidence: RetrievalEvidence, n: int = 2, candidates: int = 8) -> list[SourceSentence]:
    """The ``n`` retrieved sentences closest to the question that say something the question does
    not (a heading that merely repeats the question's words answers nothing), best first."""
    asked = content_terms(evidence.question)
    out: list[SourceSentence] = []
    for sentence, _ in evidence.best_sentences(candidates):
        if content_terms(sentence.text) - asked:
            out.append(sentence)
            if len(out) == n:
                break
    return out


def _strip_markers(texts: list[str]) -> list[str]:
    return [re.sub(r"\[\d{1,2}\]", " ", t).strip() for t in texts]
