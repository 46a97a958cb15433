"""Reasoning models: keep their thinking out of the answer, the citations and the OpenAI ``content``.

Reasoning models (DeepSeek-R1 distills, QwQ, Qwen3 ...) served by vLLM hand their chain of
thought back in one of two ways:

* inside the text, between ``<think>`` and ``</think>``. The DeepSeek-R1 chat templates
  put the opening ``<think>`` into the prompt, so the output starts *inside* the reasoning
  and only the closing tag appears (``starts_inside``);
* in a separate ``reasoning_content`` field, when vLLM runs with ``--reasoning-parser``.

:class:`ReasoningFilter` separates the two streams, incrementally: tags split across
streamed chunks, several blocks, an unterminated block (everything after it is reasoning)
and a separate ``reasoning_content`` are all handled. :class:`ReasonedStream` adds the
output PII guard to both streams (reasoning is guarded exactly like an answer before it is
shown; in ``strip`` mode it is dropped and never leaves the process). The two answer
functions at the bottom are what the read path (``RagService``) answers with, for reasoning
and plain models alike: a grounded prompt from ``answering.build_messages``, the model's
output through the guard, ``reasoning`` events only in ``show`` mode.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from enclave_core.answering import NO_SOURCES_ANSWER, PROMPT_PROFILES, Guard, GuardedStream, build_messages
from enclave_core.errors import EnclaveError
from enclave_core.llm import ChatMessage, Completion
from enclave_core.retrieval import Citation

__all__ = [
    "ChatLLM",
    "OpenAnswer",
    "ReasonedAnswer",
    "ReasonedStream",
    "ReasoningFilter",
    "ReasoningMode",
    "ReasoningProfile",
    "Split",
    "answer_messages",
    "filter_answer_events",
    "generate_reasoned_answer",
    "llm_parts",
    "no_sources_events",
    "open_llm_parts",
    "profile_for_model",
    "profile_for_settings",
    "prompt_for_model",
    "reasoned_events",
    "split_reasoning",
    "stream_reasoned_answer",
]

ReasoningMode = Literal["strip", "show"]


class ChatLLM(Protocol):
    """What the answer functions need from an LLM client (``enclave_core.llm.LLMClient`` fits)."""

    @property
    def model(self) -> str: ...

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion: ...

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]: ...


# Served-model names whose chat template opens the think block in the prompt.
_PROFILE_KEYS = ("mode", "open_tag", "close_tag", "starts_inside", "prompt")
_STARTS_INSIDE = re.compile(r"deepseek[-_]?r1|r1[-_]distill", re.IGNORECASE)
# Prompt profiles (enclave_core.answering.PROMPT_PROFILES) by model family, when settings say "auto".
_SMALL_MODEL = re.compile(r"smollm|[-_](135|360)m\b|[-_]0\.[1-5]b\b|tinyllama", re.IGNORECASE)
_REASONING_MODEL = re.compile(r"deepseek[-_]?r1|r1[-_]distill|qwq|[-_]think|reason", re.IGNORECASE)


def prompt_for_model(model: str) -> str:
    """The prompt profile a served model gets by default: ``small`` for tiny CPU models,
    ``reasoning`` for reasoning models, ``instruct`` for everything else."""
    if _SMALL_MODEL.search(model):
        return "small"
    if _REASONING_MODEL.search(model):
        return "reasoning"
    return "instruct"


@dataclass(frozen=True)
class ReasoningProfile:
    """How one served model marks its reasoning, and what to do with it.

    ``strip``: the reasoning is dropped. ``show``: it is guarded and returned separately
    (UI: collapsed; OpenAI API: ``reasoning_content``), never inside the answer.
    """

    mode: ReasoningMode = "strip"
    open_tag: str = "<think>"
    close_tag: str = "</think>"
    starts_inside: bool = False
    prompt: str = "default"  # the prompt profile (enclave_core.answering.PROMPT_PROFILES)

    def __post_init__(self) -> None:
        if self.prompt not in PROMPT_PROFILES:
            raise ValueError(f"unknown prompt profile {self.prompt!r}; known: {', '.join(sorted(PROMPT_PROFILES))}")
        if self.mode not in ("strip", "show"):
            raise ValueError(f"reasoning mode must be 'strip' or 'show', not {self.mode!r}")
        if not self.open_tag or not self.close_tag or self.open_tag.lower() == self.close_tag.lower():
            raise ValueError("reasoning tags must be two different, non-empty strings")


def profile_for_model(
    model: str,
    mode: str = "strip",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    prompt: str = "auto",
) -> ReasoningProfile:
    """The profile for a served model: the global ``mode``, known defaults for its family, then
    per-model ``overrides`` (keys are model names or fnmatch patterns; values are any of
    ``mode``, ``open_tag``, ``close_tag``, ``starts_inside``, ``prompt``). ``prompt``: the prompt
    profile, ``auto`` = by model family (:func:`prompt_for_model`)."""
    profile = ReasoningProfile(
        mode="show" if mode == "show" else "strip",
        starts_inside=bool(_STARTS_INSIDE.search(model)),
        prompt=prompt_for_model(model) if prompt in ("", "auto") else prompt,
    )
    for pattern, values in (overrides or {}).items():
        if pattern == model or fnmatch.fnmatchcase(model, pattern):
            allowed = {k: v for k, v in values.items() if k in _PROFILE_KEYS}
            profile = replace(profile, **allowed)
    return profile


def profile_for_settings(llm_settings: Any) -> ReasoningProfile:
    """The profile for ``settings.llm``: reads ``reasoning`` (strip | show) and ``reasoning_models``
    (per-model overrides) when the settings have them; defaults otherwise."""
    return profile_for_model(
        str(getattr(llm_settings, "model", "")),
        str(getattr(llm_settings, "reasoning", "strip") or "strip"),
        getattr(llm_settings, "reasoning_models", None),
        str(getattr(llm_settings, "prompt_profile", "auto") or "auto"),
    )


@dataclass
class Split:
    """What one piece of model output contained: answer text and reasoning text."""

    answer: str = ""
    reasoning: str = ""

    def __bool__(self) -> bool:
        return bool(self.answer or self.reasoning)


class ReasoningTrace:
    """What the audit keeps of a model's reasoning: that there was some, its length and its
    SHA-256 - never the text, which may repeat personal data from the sources."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._chars = 0

    def add(self, text: str) -> None:
        self._digest.update(text.encode())
        self._chars += len(text)

    def summary(self) -> dict[str, Any] | None:
        return {"chars": self._chars, "sha256": self._digest.hexdigest()} if self._chars else None


class ReasoningFilter:
    """Incremental separator of reasoning and answer text (see the module doc).

    ``feed(content, reasoning)`` returns what can be released now; a suffix that might be
    the start of a tag is held back until the next chunk decides it. ``flush()`` releases
    the rest at the end of the stream: an unterminated block stays reasoning.
    """

    def __init__(self, profile: ReasoningProfile | None = None) -> None:
        p = profile or ReasoningProfile()
        self._open = p.open_tag.lower()
        self._close = p.close_tag.lower()
        self._inside = p.starts_inside
        self._buffer = ""
        self._answer_started = False
        self._reasoning_started = False
        self.saw_reasoning = False
        self._trace = ReasoningTrace()
        self.unterminated = False
        self.stray_close_tags = 0  # a close tag met outside any block (a misconfigured profile)

    @property
    def inside(self) -> bool:
        return self._inside

    @property
    def trace(self) -> dict[str, Any] | None:
        """Length and SHA-256 of the reasoning seen so far (for the audit record), None if none."""
        return self._trace.summary()

    def _hold_back(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a tag."""
        lowered = text.lower()
        best = 0
        for tag in (self._open, self._close):
            for n in range(min(len(tag) - 1, len(lowered)), best, -1):
                if lowered.endswith(tag[:n]):
                    best = n
                    break
        return best

    def _emit(self, out: Split, text: str, reasoning: bool) -> None:
        if not text:
            return
        if reasoning:
            if not self._reasoning_started:
                text = text.lstrip()
                self._reasoning_started = bool(text)
            out.reasoning += text
            if text:
                self.saw_reasoning = True
                self._trace.add(text)
        else:
            if not self._answer_started:
                text = text.lstrip()
                self._answer_started = bool(text)
            out.answer += text

    def feed(self, content: str = "", reasoning: str = "") -> Split:
        out = Split()
        if reasoning:  # a separate reasoning_content field is reasoning by definition
            self._emit(out, reasoning, reasoning=True)
        self._buffer += content
        while self._buffer:
            lowered = self._buffer.lower()
            hits = [(i, tag) for tag in (self._open, self._close) if (i := lowered.find(tag)) >= 0]
            if not hits:
                keep = self._hold_back(self._buffer)
                cut = len(self._buffer) - keep
                self._emit(out, self._buffer[:cut], reasoning=self._inside)
                self._buffer = self._buffer[cut:]
                break
            index, tag = min(hits)
            self._emit(out, self._buffer[:index], reasoning=self._inside)
            self._buffer = self._buffer[index + len(tag) :]
            if tag == self._open:
                self._inside = True  # a repeated open tag inside a block is simply dropped
            elif self._inside:
                self._inside = False
            else:
                self.stray_close_tags += 1
        return out

    def flush(self) -> Split:
        out = Split()
        rest, self._buffer = self._buffer, ""
        self._emit(out, rest, reasoning=self._inside)
        if self._inside and self.saw_reasoning:
            self.unterminated = True
        return out


def split_reasoning(text: str, reasoning_content: str | None = None, profile: ReasoningProfile | None = None) -> Split:
    """Separate a complete output. Unlike a stream, the whole text is known: a close tag with
    no open tag before it marks everything before it as reasoning even without ``starts_inside``."""
    p = profile or ReasoningProfile()
    lowered = text.lower()
    close, open_ = lowered.find(p.close_tag.lower()), lowered.find(p.open_tag.lower())
    if not p.starts_inside and close >= 0 and (open_ < 0 or close < open_):
        p = replace(p, starts_inside=True)
    f = ReasoningFilter(p)
    first = f.feed(text, reasoning_content or "")
    last = f.flush()
    return Split(first.answer + last.answer, first.reasoning + last.reasoning)


class ReasonedStream:
    """ReasoningFilter + the output guard: yields ``("answer" | "reasoning", text)`` segments,
    each passed through the guard first. In ``strip`` mode reasoning is never yielded."""

    def __init__(self, guard: Guard, profile: ReasoningProfile | None = None) -> None:
        self.profile = profile or ReasoningProfile()
        self.filter = ReasoningFilter(self.profile)
        self._answer = GuardedStream(guard)
        self._reasoning = GuardedStream(guard) if self.profile.mode == "show" else None

    @property
    def answer(self) -> str:
        return self._answer.text.strip()

    @property
    def reasoning(self) -> str:
        return self._reasoning.text.strip() if self._reasoning is not None else ""

    @property
    def trace(self) -> dict[str, Any] | None:
        return self.filter.trace

    @property
    def counts(self) -> dict[str, int]:
        total = dict(self._answer.counts)
        if self._reasoning is not None:
            for key, value in self._reasoning.counts.items():
                total[key] = total.get(key, 0) + value
        return total

    def _route(self, split: Split) -> Iterator[tuple[str, str]]:
        if split.reasoning and self._reasoning is not None:
            for segment in self._reasoning.feed(split.reasoning):
                yield "reasoning", segment
        if split.answer:
            if self._reasoning is not None:  # the thinking is over: release its last sentence first
                for segment in self._reasoning.flush():
                    yield "reasoning", segment
            for segment in self._answer.feed(split.answer):
                yield "answer", segment

    def feed(self, content: str = "", reasoning: str = "") -> Iterator[tuple[str, str]]:
        yield from self._route(self.filter.feed(content, reasoning))

    def flush(self) -> Iterator[tuple[str, str]]:
        yield from self._route(self.filter.flush())
        if self._reasoning is not None:
            for segment in self._reasoning.flush():
                yield "reasoning", segment
        for segment in self._answer.flush():
            yield "answer", segment


# --- reasoning-aware answering --------------------------------------------------------------

LLMStreamParts = Callable[..., Iterator[tuple[str, str]]]


def llm_parts(llm: ChatLLM, messages: list[ChatMessage], max_tokens: int) -> Iterator[tuple[str, str]]:
    """``(content, reasoning_content)`` deltas. Uses ``llm.stream_parts`` when the client has it
    (it then also passes on vLLM's ``reasoning_content``), else ``llm.stream`` (content only)."""
    parts: LLMStreamParts | None = getattr(llm, "stream_parts", None)
    if callable(parts):
        yield from parts(messages, max_tokens=max_tokens)
        return
    for delta in llm.stream(messages, max_tokens=max_tokens):
        yield delta, ""


def _budget(context_window: int, max_tokens: int) -> int:
    # Room for the sources after the answer and the prompt (system prompt, history, question).
    return max(512, context_window - max_tokens - 400)


@dataclass
class ReasonedAnswer:
    answer: str
    citations: list[Citation]
    model: str | None
    reasoning: str = ""
    guard_counts: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_trace: dict[str, Any] | None = None  # ReasoningTrace.summary(): for the audit only

    @property
    def no_sources(self) -> bool:
        return not self.citations


def generate_reasoned_answer(
    llm: ChatLLM,
    guard: Guard,
    question: str,
    citations: list[Citation],
    *,
    context_window: int,
    max_tokens: int,
    history: list[ChatMessage] | None = None,
    profile: ReasoningProfile | None = None,
) -> ReasonedAnswer:
    """A grounded, guarded answer (no LLM call without sources); a reasoning model's thinking is
    separated from the answer first, then both parts are guarded."""
    profile = profile or ReasoningProfile()
    if not citations:
        return ReasonedAnswer(NO_SOURCES_ANSWER, [], None)
    messages, used = answer_messages(
        question, citations, history, context_window=context_window, max_tokens=max_tokens, prompt=profile.prompt
    )
    completion = llm.complete(messages, max_tokens=max_tokens)
    split = split_reasoning(completion.text, getattr(completion, "reasoning", None), profile)
    trace = ReasoningTrace()
    if split.reasoning:
        trace.add(split.reasoning)
    answer, counts = guard(split.answer.strip())
    reasoning = ""
    if profile.mode == "show" and split.reasoning.strip():
        reasoning, more = guard(split.reasoning.strip())
        counts = {k: counts.get(k, 0) + more.get(k, 0) for k in {*counts, *more}}
    return ReasonedAnswer(
        answer.strip(),
        used,
        completion.model,
        reasoning.strip(),
        counts,
        completion.prompt_tokens,
        completion.completion_tokens,
        trace.summary(),
    )


def answer_messages(
    question: str,
    citations: list[Citation],
    history: list[ChatMessage] | None,
    *,
    context_window: int,
    max_tokens: int,
    prompt: str = "default",
) -> tuple[list[ChatMessage], list[Citation]]:
    """``answering.build_messages`` with the same source budget as the answering functions."""
    return build_messages(question, citations, history, _budget(context_window, max_tokens), prompt)


def reasoned_events(
    parts: Iterable[tuple[str, str]],
    guard: Guard,
    used: list[Citation],
    model: str | None,
    profile: ReasoningProfile | None = None,
) -> Iterator[dict[str, Any]]:
    """Events for an answer being generated from ``parts`` (``(content, reasoning)`` deltas)."""
    yield {"type": "citations", "citations": [c.to_json() for c in used]}
    stream = ReasonedStream(guard, profile)
    for content, reasoning in parts:
        for kind, text in stream.feed(content, reasoning):
            yield {"type": "delta" if kind == "answer" else "reasoning", "text": text}
    for kind, text in stream.flush():
        yield {"type": "delta" if kind == "answer" else "reasoning", "text": text}
    yield {
        "type": "done",
        "answer": stream.answer,
        "reasoning": stream.reasoning,
        "guard": stream.counts,
        "model": model,
        "no_sources": False,
        "reasoning_trace": stream.trace,  # RagService moves it into the audit record
    }


def no_sources_events() -> Iterator[dict[str, Any]]:
    yield {"type": "citations", "citations": []}
    yield {"type": "delta", "text": NO_SOURCES_ANSWER}
    yield {
        "type": "done",
        "answer": NO_SOURCES_ANSWER,
        "reasoning": "",
        "guard": {},
        "model": None,
        "no_sources": True,
    }


def stream_reasoned_answer(
    llm: ChatLLM,
    guard: Guard,
    question: str,
    citations: list[Citation],
    *,
    context_window: int,
    max_tokens: int,
    history: list[ChatMessage] | None = None,
    profile: ReasoningProfile | None = None,
) -> Iterator[dict[str, Any]]:
    """Answer events: ``citations``, ``delta``..., ``done`` (the full guarded answer), plus
    ``reasoning`` events in ``show`` mode; ``done`` also carries ``reasoning`` and ``no_sources``.
    The request is on its way to the LLM when this returns (see :func:`open_llm_parts`); ``close()``
    the events to abort it."""
    if not citations:
        return no_sources_events()
    profile = profile or ReasoningProfile()
    messages, used = answer_messages(
        question, citations, history, context_window=context_window, max_tokens=max_tokens, prompt=profile.prompt
    )
    try:
        parts = open_llm_parts(llm, messages, max_tokens)
    except EnclaveError as exc:
        # The sources still go first (the chat UI shows them with the error): the failure surfaces
        # where the answer would have begun, as it did when the request was sent lazily.
        parts = _failed_parts(exc)
    return OpenAnswer(reasoned_events(parts, guard, used, llm.model, profile), parts)


def _failed_parts(exc: EnclaveError) -> Iterator[tuple[str, str]]:
    raise exc
    yield  # pragma: no cover  (a generator: raises on the first next())


def open_llm_parts(llm: ChatLLM, messages: list[ChatMessage], max_tokens: int) -> Iterator[tuple[str, str]]:
    """:func:`llm_parts`, with the request sent before this returns when the client can do that
    (``LLMClient.open_stream``): the model reads its prompt while the caller does other work."""
    opener: Callable[..., Iterator[str]] | None = getattr(llm, "open_stream", None)
    if callable(opener) and not callable(getattr(llm, "stream_parts", None)):
        return _content_parts(opener(messages, max_tokens=max_tokens))
    return llm_parts(llm, messages, max_tokens)


def _content_parts(deltas: Iterator[str]) -> Iterator[tuple[str, str]]:
    try:
        for delta in deltas:
            yield delta, ""
    finally:
        _close(deltas)


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


class OpenAnswer(Iterator[dict[str, Any]]):
    """Answer events over an LLM stream that may already be open: ``close()`` ends that stream too (the
    server aborts the generation), even when no event was read (a generator not yet started would not)."""

    def __init__(self, events: Iterator[dict[str, Any]], parts: Iterator[tuple[str, str]]) -> None:
        self._events = events
        self._parts = parts

    def __next__(self) -> dict[str, Any]:
        return next(self._events)

    def close(self) -> None:
        _close(self._events)
        _close(self._parts)


def filter_answer_events(
    events: Iterable[dict[str, Any]], profile: ReasoningProfile | None = None
) -> Iterator[dict[str, Any]]:
    """Apply the profile to an existing answer event stream (``/v1/query``'s contract: ``citations``,
    ``delta``..., ``done``, ``error``), for answers produced without reasoning handling.

    The deltas have already been through the output guard, so reasoning shown in ``show``
    mode is guarded too; in ``strip`` mode it is dropped here. ``done.answer`` is split as a
    complete output. Events that already carry reasoning separately pass through unchanged;
    ``done`` gains ``reasoning`` and ``no_sources``.
    """
    profile = profile or ReasoningProfile()
    show = profile.mode == "show"
    f = ReasoningFilter(profile)
    cited: list[Any] | None = None

    def release(split: Split) -> Iterator[dict[str, Any]]:
        if split.reasoning and show:
            yield {"type": "reasoning", "text": split.reasoning}
        if split.answer:
            yield {"type": "delta", "text": split.answer}

    for event in events:
        kind = event.get("type")
        if kind == "citations":
            cited = list(event.get("citations") or [])
            yield event
        elif kind == "delta":
            yield from release(f.feed(str(event.get("text", ""))))
        elif kind == "done":
            yield from release(f.flush())
            split = split_reasoning(str(event.get("answer", "")), None, profile)
            reasoning = str(event.get("reasoning") or "") or (split.reasoning.strip() if show else "")
            yield {
                **event,
                "answer": split.answer.strip(),
                "reasoning": reasoning if show else "",
                "no_sources": bool(event.get("no_sources", cited is not None and not cited)),
            }
        else:
            yield event
