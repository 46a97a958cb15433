"""The read path as one service used by the gateway routes and the CLI alike:
identity -> access check -> question pseudonymized -> ACL-filtered hybrid retrieval ->
grounded answer -> output guard -> optional audited reveal -> audit record."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from enclave_core.answering import Guard
from enclave_core.audit import AuditEvent, write_event
from enclave_core.errors import AccessDenied, EnclaveError, InputError, UnknownCollection
from enclave_core.evidence import QuestionVector, RecordingEmbed, RetrievalEvidence
from enclave_core.grounding import Grounder, answer_grounded, build_grounder, stream_grounded
from enclave_core.identity import REVEAL_ROLE, Principal
from enclave_core.llm import ChatMessage
from enclave_core.reasoning import generate_reasoned_answer, profile_for_settings, stream_reasoned_answer
from enclave_core.retrieval import Citation
from enclave_core.runtime import Core
from enclave_core.stream_guard import RedactorGuard
from enclave_core.vault import PLACEHOLDER
from enclave_core.vectorstore.base import AccessScope, any_readable

__all__ = ["RagService", "SearchOutcome", "delivered_sha256"]


def _require_unicode(*texts: str) -> None:
    """Lone surrogates survive JSON decoding but break every encoder downstream (spaCy, HTTP)."""
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError("the text is not valid Unicode") from exc


def _chunks(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": c["chunk_id"], "doc_id": c["doc_id"], "score": c["score"]} for c in citations]


def delivered_sha256(text: str) -> str:
    """SHA-256 of an answer (or shown reasoning) as the client receives it: the guarded text,
    UTF-8, without surrounding whitespace (a stream's deltas joined and stripped give the same)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


@dataclass
class SearchOutcome:
    question: str  # pseudonymized: what retrieval and the LLM see, and what the audit keeps
    citations: list[Citation]
    vector: QuestionVector | None = None  # the question's vector retrieval used (for the evidence step)


class RagService:
    def __init__(self, core: Core, via: str = "api") -> None:
        self.core = core
        self.via = via

    def _audit(
        self,
        action: str,
        principal: Principal,
        collection: str,
        *,
        outcome: str,
        decision: str | None = None,
        **details: Any,
    ) -> None:
        event = AuditEvent.by(
            principal,
            action,
            outcome,
            via=self.via,
            collection=collection,
            decision=decision,
            policy_version=self.core.access.version,
            **details,
        )
        write_event(self.core.audit, event)

    def deny(self, principal: Principal, collection: str, action: str, why: str, **fields: Any) -> AccessDenied:
        self._audit(
            "access.denied",
            principal,
            collection,
            action_requested=action,
            decision="deny",
            outcome="denied",
            **fields,
        )
        return AccessDenied(why)

    def authorize_upload(self, principal: Principal, collection: str, acl: list[str], path: str) -> bool:
        """The rules of a write beyond the collection's ``write`` permission, which the caller
        already holds. A writer gives documents only to groups they belong to ("*": everyone):
        granting others (putting text in front of HR) is for those who may re-permission documents
        anyway. Returns whether the caller may replace existing documents (the collection's
        ``admin``, the right deleting and re-permissioning need)."""
        may_replace = self.core.access.allows(principal, "admin", collection)
        foreign = sorted(set(acl) - principal.groups - {"*"})
        if foreign and not may_replace:
            raise self.deny(
                principal,
                collection,
                "write",
                f"'{principal.name}' may not make documents readable by groups they are not in: {', '.join(foreign)}",
                path=path,
                acl=acl,
            )
        return may_replace

    def require_role(self, principal: Principal, role: str, why: str, path: str) -> None:
        """A role-gated operation (the audit trail, the planner): a refusal is audited, then 403."""
        if role in principal.roles:
            return
        event = AuditEvent.by(principal, "access.denied", "denied", via=self.via, decision="deny", path=path)
        write_event(self.core.audit, event)
        raise AccessDenied(why)

    def authorize(self, principal: Principal, action: str, collection: str, **fields: Any) -> None:
        if not self.core.access.allows(principal, action, collection):  # type: ignore[arg-type]
            raise self.deny(
                principal,
                collection,
                action,
                f"'{principal.name}' may not {action} collection '{collection}'",
                **fields,
            )

    def _retrieve(
        self, principal: Principal, collection: str, question: str, top_k: int | None, mode: str | None
    ) -> SearchOutcome:
        self.authorize(principal, "read", collection)
        _require_unicode(question)
        scope = principal.scope()
        self._require_visible(collection, scope)
        # The question's embedding may start now, on the text as typed (the model runs while the NER
        # does); retrieval takes that vector only if pseudonymisation leaves the text unchanged.
        queries = getattr(self.core, "query_vectors", None)  # None: a test double's core
        embed = RecordingEmbed(queries.start(collection, question, mode)) if queries is not None else None
        early = {"embed": embed} if embed is not None else {}
        safe = self.core.pii.pseudonymize_query(collection, question, self._reader(collection, scope)).text
        citations = self.core.retriever.search(collection, safe, scope, top_k=top_k, mode=mode, **early)
        return SearchOutcome(safe, citations, embed.last if embed is not None else None)

    def _require_visible(self, collection: str, scope: AccessScope) -> None:
        """A collection of which the caller can read nothing answers exactly as one that does not
        exist (404), so that collection names cannot be probed; ``GET /v1/collections`` does not
        list it either. Administrators see every collection."""
        if scope.groups is None:
            return
        store = self.core.store
        if not store.collection_exists(collection) or not any_readable(store, collection, scope):
            raise UnknownCollection(collection)

    def _reader(self, collection: str, scope: AccessScope) -> Callable[[frozenset[str]], bool] | None:
        """Whether the scope may read any chunk of some documents, asked of the store with the same
        ACL filter as retrieval (so a question's pseudonyms depend only on what the caller can read)."""
        if scope.groups is None:
            return None
        store = self.core.store

        def can_read(doc_ids: frozenset[str]) -> bool:
            if not doc_ids or not store.collection_exists(collection):
                return False
            return any_readable(store, collection, AccessScope(scope.groups, doc_ids))

        return can_read

    def search(
        self,
        principal: Principal,
        collection: str,
        question: str,
        top_k: int | None = None,
        mode: str | None = None,
    ) -> list[Citation]:
        started = time.perf_counter()
        try:
            found = self._retrieve(principal, collection, question, top_k, mode)
        except AccessDenied:
            raise
        except Exception as exc:  # foreseen or not (a store or model fault): the trail shows the attempt
            self._audit("search", principal, collection, outcome="error", error=exc.__class__.__name__)
            raise
        out = [c.to_json() for c in found.citations]
        self._audit(
            "search",
            principal,
            collection,
            question=found.question,
            decision="allow",
            outcome="ok",
            chunks=_chunks(out),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return found.citations

    def retrieval_evidence(
        self, principal: Principal, collection: str, question: str
    ) -> tuple[SearchOutcome, RetrievalEvidence | None]:
        """What ``answer`` decides a refusal on, computed the same way (the pseudonymized question,
        the collection's embedder, the same citations), without asking the model or auditing: for
        calibrating the thresholds (benchmarks/answer_calibration.py). None: evidence checks off."""
        found = self._retrieve(principal, collection, question, None, None)
        grounder = self._grounder(collection)
        if grounder is None or not found.citations:
            return found, None
        return found, grounder.retrieval(found.question, found.citations, found.vector)

    def _check_reveal(self, principal: Principal, collection: str, reveal: bool, reason: str | None) -> None:
        if not reveal:
            return
        if REVEAL_ROLE not in principal.roles:
            raise self.deny(principal, collection, "reveal", "revealing personal data needs the 'pii:reveal' role")
        if not (reason or "").strip():
            raise InputError("say why personal data should be revealed (reveal_reason)")

    def _reveal(
        self, principal: Principal, collection: str, text: str, reason: str | None, citations: list[dict[str, Any]]
    ) -> str:
        """Replace only placeholders that occur in the passages cited with this answer: those the
        caller could read. A placeholder typed into the question, or one the model made up, stays
        as it is, whatever the vault knows."""
        sources: dict[str, set[str]] = {}
        for c in citations:
            for field in ("text", "title", "heading", "source"):
                for match in PLACEHOLDER.finditer(str(c.get(field) or "")):
                    sources.setdefault(match.group(0), set()).add(str(c["doc_id"]))
        revealed, placeholders = self.core.vault.reveal(collection, text, allowed=set(sources))
        withheld = {m.group(0) for m in PLACEHOLDER.finditer(text)} - set(sources)
        self._audit(
            "pii.reveal",
            principal,
            collection,
            placeholders=sorted(set(placeholders)),
            documents=sorted({d for p in set(placeholders) for d in sources.get(p, ())}),
            placeholder_documents={p: sorted(sources.get(p, ())) for p in sorted(set(placeholders))},
            withheld=sorted(withheld),
            reason=self.core.redactor.redact(reason or "").text,
            answer_sha256=delivered_sha256(revealed),  # the answer as delivered, pseudonyms revealed
            decision="allow",
            outcome="ok",
        )
        return revealed

    def answer(
        self,
        principal: Principal,
        collection: str,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        history: list[ChatMessage] | None = None,
        reveal: bool = False,
        reveal_reason: str | None = None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        self._check_reveal(principal, collection, reveal, reveal_reason)
        llm = self.core.settings.llm
        try:
            found = self._retrieve(principal, collection, question, top_k, mode)
        except AccessDenied:
            raise
        except Exception as exc:  # foreseen or not (a store or model fault): the trail shows the attempt
            self._audit("query", principal, collection, outcome="error", error=exc.__class__.__name__)
            raise
        try:
            answer, fields = answer_grounded(
                self._grounder(collection),
                found.question,
                found.citations,
                lambda: generate_reasoned_answer(
                    self.core.llm, self.core.guard, found.question, found.citations, **self._generation(history)
                ),
                found.vector,
            )
        except EnclaveError as exc:
            self._audit_failed(principal, collection, found, exc, stream=False)
            raise
        out: dict[str, Any] = {"answer": answer.answer, **fields}
        if answer.reasoning:
            out["reasoning"] = answer.reasoning
        self._audit_answer(
            principal,
            collection,
            found,
            answer.model or llm.model,
            out["citations"],
            answer.guard_counts,
            started,
            delivered=(answer.answer, answer.reasoning),
            reasoning=answer.reasoning_trace,
        )
        if reveal:
            out["answer"] = self._reveal(principal, collection, out["answer"], reveal_reason, out["citations"])
        return out

    def stream(
        self,
        principal: Principal,
        collection: str,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        history: list[ChatMessage] | None = None,
        reveal: bool = False,
        reveal_reason: str | None = None,
        llm_errors_in_stream: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Checks and retrieval happen before the first event, so errors surface as HTTP statuses.

        The request goes to the LLM as soon as the prompt is built (it needs the retrieved passages
        only); the evidence check and the sources' audit record are written while the model reads
        its prompt, and the answer is released word by word through the streaming output guard."""
        started = time.perf_counter()
        self._check_reveal(principal, collection, reveal, reveal_reason)
        try:
            found = self._retrieve(principal, collection, question, top_k, mode)
        except AccessDenied:
            raise
        except Exception as exc:  # as in answer(): the trail shows the attempt
            self._audit("query", principal, collection, outcome="error", error=exc.__class__.__name__, stream=True)
            raise
        guard = self._stream_guard()
        first: list[dict[str, Any]] = []
        try:
            events = iter(
                stream_grounded(
                    self._grounder(collection),
                    found.question,
                    found.citations,
                    lambda: stream_reasoned_answer(
                        self.core.llm, guard, found.question, found.citations, **self._generation(history)
                    ),
                    found.vector,
                )
            )
            # Reach the LLM before the response starts, so that an LLM that is down is a 503 with
            # Retry-After, not a 200 whose stream carries an error.
            # (The chat UI asks for LLM errors as an event instead, to keep showing the sources.)
            for event in events:
                first.append(event)
                if event["type"] == "citations":
                    self._audit_sources(principal, collection, found, event["citations"])
                if event["type"] != "citations" or llm_errors_in_stream:
                    break
        except EnclaveError as exc:
            self._audit_failed(principal, collection, found, exc)
            raise
        return self._stream_events(
            itertools.chain(first, events), principal, collection, found, started, reveal, reveal_reason
        )

    def _stream_guard(self) -> Guard:
        """The output guard for a streamed answer. The stream re-reads a window of text as the answer
        grows (enclave_core.stream_guard), so the redaction metrics are counted once per answer, from
        its ``done`` event, rather than on every call as ``Core.guard`` would."""
        redactor = getattr(self.core, "redactor", None)
        if redactor is None:  # a test double with a guard only
            return self.core.guard
        # With its engines: a Japanese answer may turn English (stream_guard, point 7).
        return RedactorGuard(redactor)

    def _audit_sources(
        self, principal: Principal, collection: str, found: SearchOutcome, cited: list[dict[str, Any]]
    ) -> None:
        """The passages leave the gateway with the citations event: the trail holds them first,
        whatever happens to the answer after (LLM failure, client gone)."""
        self._audit(
            "query.sources",
            principal,
            collection,
            question=found.question,
            decision="allow",
            outcome="ok",
            stream=True,
            chunks=_chunks(cited),
        )

    def _grounder(self, collection: str) -> Grounder | None:
        """Evidence checks (refusals from retrieval evidence, answer support), per settings.answers, with
        the collection's own embedding model; its thresholds hold only for the model they were calibrated on."""
        answers = self.core.settings.answers
        if not answers.check_evidence:
            return None
        embedders = self.core.embedders
        model = embedders.model_for(collection)
        refuse_below: float | None
        support: float | None
        if model == self.core.settings.embedding.model:
            refuse_below, support = answers.refuse_below, answers.min_answer_support
        elif model in answers.models:
            refuse_below, support = answers.models[model].refuse_below, answers.models[model].min_answer_support
        else:
            refuse_below, support = None, None
        # check(): the variant that built the collection (a float32 collection keeps float32 under int8 settings).
        return build_grounder(embedders.check(collection), self.core.guard, answers, refuse_below, support)

    def _generation(self, history: list[ChatMessage] | None) -> dict[str, Any]:
        """The LLM settings both answer paths generate with."""
        llm = self.core.settings.llm
        return {
            "context_window": llm.context_window,
            "max_tokens": llm.max_tokens,
            "history": history,
            "profile": profile_for_settings(llm),
        }

    def _audit_answer(
        self,
        principal: Principal,
        collection: str,
        found: SearchOutcome,
        model: str | None,
        citations: list[dict[str, Any]],
        guard_counts: dict[str, int],
        started: float,
        *,
        delivered: tuple[str, str],
        stream: bool = False,
        streamed: str | None = None,
        reasoning: dict[str, Any] | None = None,
    ) -> None:
        """The answer record, which links the request id (added by the audit helper), the user, the
        collection, the pseudonymized question, the chunks with scores, the model, the SHA-256 of the
        answer as delivered (after the output guard) and of any reasoning shown, the guard's
        redactions by type and the latency; plus a ``guard.redacted`` record if the guard redacted.

        ``delivered``: (answer, shown reasoning) exactly as released to the client; ``streamed``: the
        answer's deltas joined, as a stream sent them before ``done`` (an OpenAI stream's client gets
        only these), hashed separately: ``done`` may show another text (a quote, revealed values).
        ``reasoning``: a reasoning model's raw thinking as length and SHA-256, never its text."""
        answer, shown = delivered
        extra: dict[str, Any] = {"stream": True} if stream else {}
        if reasoning:
            extra["reasoning"] = reasoning
        if shown.strip():
            extra["reasoning_sha256"] = delivered_sha256(shown)
        if streamed is not None:
            extra["streamed_sha256"] = delivered_sha256(streamed)
        self._audit(
            "query",
            principal,
            collection,
            question=found.question,
            decision="allow",
            outcome="ok",
            **extra,
            model=model,
            chunks=_chunks(citations),
            answer_sha256=delivered_sha256(answer),
            answer_chars=len(answer.strip()),
            guard_redactions=guard_counts,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if guard_counts:
            self._audit("guard.redacted", principal, collection, counts=guard_counts, outcome="ok", **extra)

    def _stream_events(
        self,
        events: Iterator[dict[str, Any]],
        principal: Principal,
        collection: str,
        found: SearchOutcome,
        started: float,
        reveal: bool,
        reveal_reason: str | None,
    ) -> Iterator[dict[str, Any]]:
        cited: list[dict[str, Any]] = []
        streamed: list[str] = []  # the answer deltas as sent
        try:
            for event in events:
                if event["type"] == "citations":
                    cited = event["citations"]  # audited before the stream started (stream())
                elif event["type"] == "delta":
                    streamed.append(str(event.get("text") or ""))
                elif event["type"] == "done":
                    event = dict(event)
                    trace = event.pop("reasoning_trace", None)
                    self._count_redactions(event["guard"])
                    self._audit_answer(
                        principal,
                        collection,
                        found,
                        event.get("model"),
                        cited,
                        event["guard"],
                        started,
                        delivered=(str(event.get("answer") or ""), str(event.get("reasoning") or "")),
                        stream=True,
                        streamed="".join(streamed),
                        reasoning=trace,
                    )
                    if reveal:
                        event = {
                            **event,
                            "answer": self._reveal(principal, collection, event["answer"], reveal_reason, cited),
                        }
                yield event
        except EnclaveError as exc:
            self._audit_failed(principal, collection, found, exc)
            yield {"type": "error", "error": exc.__class__.__name__, "detail": str(exc)}

    def _count_redactions(self, counts: dict[str, int]) -> None:
        metrics = getattr(self.core, "metrics", None)  # the service's test doubles may have none
        if counts and metrics is not None:
            metrics.redacted("answer", counts)

    def _audit_failed(
        self, principal: Principal, collection: str, found: SearchOutcome, exc: EnclaveError, *, stream: bool = True
    ) -> None:
        """A failed answer still records what was asked and which passages were retrieved."""
        extra: dict[str, Any] = {"stream": True} if stream else {}
        self._audit(
            "query",
            principal,
            collection,
            question=found.question,
            decision="allow",
            outcome="error",
            **extra,
            chunks=_chunks([c.to_json() for c in found.citations]),
            error=exc.__class__.__name__,
        )
