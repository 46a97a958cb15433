"""enclave_core.reasoning: reasoning never reaches the answer, however the stream is cut."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enclave_core.answering import NO_SOURCES_ANSWER
from enclave_core.llm import ChatMessage, Completion
from enclave_core.reasoning import (
    ReasonedStream,
    ReasoningFilter,
    ReasoningProfile,
    filter_answer_events,
    generate_reasoned_answer,
    profile_for_model,
    profile_for_settings,
    split_reasoning,
    stream_reasoned_answer,
)
from enclave_core.retrieval import Citation
from enclave_core.settings import LLMSettings

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)
R1 = ReasoningProfile(starts_inside=True)
SHOW = ReasoningProfile(mode="show")


def run(chunks: list[str], profile: ReasoningProfile | None = None) -> tuple[str, str, ReasoningFilter]:
    f = ReasoningFilter(profile)
    answer = reasoning = ""
    for chunk in chunks:
        out = f.feed(chunk)
        answer += out.answer
        reasoning += out.reasoning
    out = f.flush()
    return answer + out.answer, reasoning + out.reasoning, f


def cuts(text: str, positions: list[int]) -> list[str]:
    points = sorted({p % (len(text) + 1) for p in positions})
    pieces, last = [], 0
    for p in points:
        pieces.append(text[last:p])
        last = p
    pieces.append(text[last:])
    return pieces


# --- the filter ------------------------------------------------------------------------------


def test_plain_text_passes_through() -> None:
    answer, reasoning, f = run(["The canteen opens ", "at 11:30 [1]."])
    assert answer == "The canteen opens at 11:30 [1]."
    assert reasoning == ""
    assert not f.saw_reasoning


def test_think_block_is_separated() -> None:
    answer, reasoning, _ = run(["<think>The user asks about leave. Source 1 says 16 weeks.</think>\n\n16 weeks [1]."])
    assert answer == "16 weeks [1]."
    assert reasoning == "The user asks about leave. Source 1 says 16 weeks."


def test_tags_split_across_every_chunk_boundary() -> None:
    text = "<think>secret plan</think>Final answer [2]."
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            answer, reasoning, _ = run([text[:i], text[i:j], text[j:]])
            assert answer == "Final answer [2].", (i, j)
            assert reasoning == "secret plan", (i, j)


def test_one_character_chunks() -> None:
    answer, reasoning, _ = run(list("<think>a < b and c</d></think>Yes, a < b [1]."))
    assert answer == "Yes, a < b [1]."
    assert reasoning == "a < b and c</d>"


def test_unterminated_block_is_all_reasoning() -> None:
    answer, reasoning, f = run(["Sure. <think>let me think about ", "this for a very long time"])
    assert answer == "Sure. "
    assert reasoning == "let me think about this for a very long time"
    assert f.unterminated


def test_partial_tag_at_the_end_of_the_stream_is_released_as_text() -> None:
    answer, reasoning, _ = run(["Values are compared with <thi"])
    assert answer == "Values are compared with <thi"
    assert reasoning == ""


def test_starts_inside_for_r1_templates_that_prefill_the_open_tag() -> None:
    answer, reasoning, _ = run(["Okay, the user wants ", "the notice period.</th", "ink>\n\nThree months [1]."], R1)
    assert answer == "Three months [1]."
    assert reasoning == "Okay, the user wants the notice period."


def test_starts_inside_also_accepts_an_explicit_open_tag() -> None:
    answer, reasoning, _ = run(["<think>\nhmm</think>Done."], R1)
    assert (answer, reasoning) == ("Done.", "hmm")


def test_starts_inside_without_any_tag_keeps_everything_out_of_the_answer() -> None:
    answer, reasoning, f = run(["I never close my thinking"], R1)
    assert answer == ""
    assert reasoning == "I never close my thinking"
    assert f.unterminated


def test_several_blocks_and_case_insensitive_tags() -> None:
    answer, reasoning, _ = run(["<THINK>one</Think>A. <think>two</think>B."])
    assert answer == "A. B."
    assert reasoning == "onetwo"


def test_stray_close_tag_never_appears_in_a_stream() -> None:
    answer, _, f = run(["reasoning leaked</think>", "answer"])
    assert "</think>" not in answer
    assert f.stray_close_tags == 1


def test_separate_reasoning_content_field() -> None:
    f = ReasoningFilter()
    a = f.feed("", "Thinking about it.")
    b = f.feed("The answer.", "")
    assert a.reasoning == "Thinking about it." and a.answer == ""
    assert b.answer == "The answer." and b.reasoning == ""


def test_custom_tags() -> None:
    profile = ReasoningProfile(open_tag="<reasoning>", close_tag="</reasoning>")
    answer, reasoning, _ = run(["<reason", "ing>x</reasoning>y <think>z</think>"], profile)
    assert answer == "y <think>z</think>"
    assert reasoning == "x"


@FUZZ
@given(
    st.lists(st.sampled_from(["a", " ", "<", ">", "/", "think", "<think>", "</think>", "[1]", ".", "\n"]), max_size=30),
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    st.booleans(),
)
def test_chunking_never_changes_the_result(tokens: list[str], positions: list[int], inside: bool) -> None:
    text = "".join(tokens)
    profile = ReasoningProfile(starts_inside=inside)
    whole = run([text], profile)
    pieces = run(cuts(text, positions), profile)
    assert pieces[:2] == whole[:2]


@FUZZ
@given(
    st.text(alphabet="abc <>/[]1.\n", max_size=60),
    st.text(alphabet="abc <>[]1.\n", max_size=60).filter(lambda s: "<think>" not in s and "</think>" not in s),
    st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_reasoning_never_leaks_into_the_answer(thinking: str, answer_text: str, positions: list[int]) -> None:
    secret = "ZQXSECRET"
    thought = thinking.replace("</think>", "") + secret
    text = f"<think>{thought}</think>{answer_text}"
    answer, reasoning, _ = run(cuts(text, positions))
    assert secret not in answer
    assert secret in reasoning
    assert answer == answer_text.lstrip()


# --- complete outputs ------------------------------------------------------------------------


def test_split_reasoning_treats_a_leading_stray_close_tag_as_the_end_of_reasoning() -> None:
    split = split_reasoning("The user wants X.</think>\nX is 3 [1].")
    assert split.answer == "X is 3 [1]."
    assert split.reasoning == "The user wants X."


def test_split_reasoning_with_reasoning_content() -> None:
    split = split_reasoning("Answer.", "Because.")
    assert (split.answer, split.reasoning) == ("Answer.", "Because.")


# --- profiles --------------------------------------------------------------------------------


def test_profiles_per_model() -> None:
    assert profile_for_model("deepseek-r1-distill-qwen-7b").starts_inside
    assert profile_for_model("DeepSeek-R1-Distill-Llama-8B").starts_inside
    assert not profile_for_model("smollm2-135m-instruct").starts_inside
    assert profile_for_model("x", "show").mode == "show"
    assert profile_for_model("x", "nonsense").mode == "strip"
    custom = profile_for_model(
        "qwq-32b", "strip", {"qwq-*": {"starts_inside": True, "mode": "show", "ignored": 1}, "other": {}}
    )
    assert custom == ReasoningProfile(mode="show", starts_inside=True, prompt="reasoning")
    with pytest.raises(ValueError):
        ReasoningProfile(open_tag="<x>", close_tag="<X>")


def test_profile_for_settings_reads_optional_fields() -> None:
    # The CPU default (SmolLM2-135M) gets the small-model prompt; nothing else changes.
    assert profile_for_settings(LLMSettings()) == ReasoningProfile(prompt="small")
    assert profile_for_settings(LLMSettings(prompt_profile="default")) == ReasoningProfile()
    assert profile_for_settings(LLMSettings(model="meta-llama/Llama-3.1-8B-Instruct")).prompt == "instruct"
    assert profile_for_settings(LLMSettings(model="x", reasoning_models={"x": {"prompt": "small"}})).prompt == "small"
    with pytest.raises(ValueError):
        profile_for_settings(LLMSettings(prompt_profile="nonsense"))

    class WithReasoning:
        model = "deepseek-r1-distill-qwen-1.5b"
        reasoning = "show"
        reasoning_models: ClassVar[dict[str, dict[str, str]]] = {"deepseek-*": {"close_tag": "</reason>"}}

    p = profile_for_settings(WithReasoning())
    assert p.mode == "show" and p.starts_inside and p.close_tag == "</reason>" and p.prompt == "reasoning"


# --- guarded streams and answers -------------------------------------------------------------


def secret_guard(text: str) -> tuple[str, dict[str, int]]:
    n = text.count("Alice")
    return text.replace("Alice", "<PERSON>"), ({"PERSON": n} if n else {})


def test_reasoned_stream_strip_mode_drops_reasoning_and_guards_the_answer() -> None:
    stream = ReasonedStream(secret_guard, ReasoningProfile())
    out = []
    for chunk in ["<think>Alice's salary is", " in source 2.</think>", "Ask Alice in HR [1]. ", "Done."]:
        out += list(stream.feed(chunk))
    out += list(stream.flush())
    assert {kind for kind, _ in out} == {"answer"}
    assert "".join(t for _, t in out).strip() == "Ask <PERSON> in HR [1]. Done."
    assert stream.answer == "Ask <PERSON> in HR [1]. Done."
    assert stream.reasoning == ""
    assert stream.counts == {"PERSON": 1}  # the dropped reasoning was never even looked at


def test_reasoned_stream_show_mode_guards_reasoning_and_releases_it_first() -> None:
    stream = ReasonedStream(secret_guard, SHOW)
    out = []
    for chunk in ["<think>Alice is mentioned in the sources", "</think>", "The answer is 42 [1]."]:
        out += list(stream.feed(chunk))
    out += list(stream.flush())
    kinds = [k for k, _ in out]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning")  # all reasoning before the answer
    assert stream.reasoning == "<PERSON> is mentioned in the sources"
    assert stream.answer == "The answer is 42 [1]."
    assert "Alice" not in "".join(t for _, t in out)
    assert stream.counts == {"PERSON": 1}


def cite(n: int) -> Citation:
    return Citation(f"s{n}.md", f"c{n}", 1.0 / n, f"text {n}", f"d{n}", f"T{n}", None, None, n, None)


class FakeLLM:
    model = "fake-r1"

    def __init__(self, text: str, chunks: list[str] | None = None) -> None:
        self.text = text
        self.chunks = chunks or [text]
        self.messages: list[ChatMessage] = []

    def complete(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Completion:
        self.messages = messages
        return Completion(self.text, self.model, 100, 20)

    def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[str]:
        self.messages = messages
        yield from self.chunks


class PartsLLM(FakeLLM):
    """A client that passes vLLM's reasoning_content on (LLMClient.stream_parts)."""

    def stream_parts(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Iterator[tuple[str, str]]:
        self.messages = messages
        yield "", "Thinking about Alice."
        yield "The answer [1].", ""


def test_generate_reasoned_answer() -> None:
    llm = FakeLLM("<think>Alice? source 1.</think>\nFrom source one [1].")
    strip = generate_reasoned_answer(
        llm,
        secret_guard,
        "q",
        [cite(1)],
        context_window=4096,
        max_tokens=64,
    )
    assert strip.answer == "From source one [1]." and strip.reasoning == ""
    assert (strip.prompt_tokens, strip.completion_tokens) == (100, 20)
    show = generate_reasoned_answer(
        llm,
        secret_guard,
        "q",
        [cite(1)],
        context_window=4096,
        max_tokens=64,
        profile=SHOW,
    )
    assert show.reasoning == "<PERSON>? source 1." and show.guard_counts == {"PERSON": 1}
    none = generate_reasoned_answer(
        llm,
        secret_guard,
        "q",
        [],
        context_window=4096,
        max_tokens=64,
    )
    assert none.answer == NO_SOURCES_ANSWER and none.no_sources


def test_stream_reasoned_answer_events() -> None:
    llm = FakeLLM("", ["<thi", "nk>plan</th", "ink>Answer one [1]. ", "Answer two [1]."])
    events = list(
        stream_reasoned_answer(
            llm,
            secret_guard,
            "q",
            [cite(1)],
            context_window=4096,
            max_tokens=64,
            profile=SHOW,
        )
    )
    assert events[0]["type"] == "citations" and events[0]["citations"][0]["chunk_id"] == "c1"
    deltas = "".join(e["text"] for e in events if e["type"] == "delta")
    assert "plan" not in deltas and "<think>" not in deltas
    assert [e["text"] for e in events if e["type"] == "reasoning"] == ["plan"]
    done = events[-1]
    assert done["type"] == "done" and done["answer"] == deltas.strip() == "Answer one [1]. Answer two [1]."
    assert done["reasoning"] == "plan" and done["no_sources"] is False


def test_stream_uses_reasoning_content_when_the_client_provides_it() -> None:
    llm = PartsLLM("")
    events = list(
        stream_reasoned_answer(
            llm,
            secret_guard,
            "q",
            [cite(1)],
            context_window=4096,
            max_tokens=64,
            profile=SHOW,
        )
    )
    assert [e["text"] for e in events if e["type"] == "reasoning"] == ["Thinking about <PERSON>."]
    assert events[-1]["answer"] == "The answer [1]."
    stripped = list(stream_reasoned_answer(llm, secret_guard, "q", [cite(1)], context_window=4096, max_tokens=64))
    assert not [e for e in stripped if e["type"] == "reasoning"]
    assert "Thinking" not in str(stripped)


def test_stream_without_sources_asks_no_llm() -> None:
    llm = FakeLLM("unused")
    events = list(stream_reasoned_answer(llm, secret_guard, "q", [], context_window=4096, max_tokens=64))
    assert [e["type"] for e in events] == ["citations", "delta", "done"]
    assert events[-1]["no_sources"] is True and llm.messages == []


def test_filter_answer_events_on_an_existing_stream() -> None:
    events: list[dict[str, Any]] = [
        {"type": "citations", "citations": [{"chunk_id": "c1"}]},
        {"type": "delta", "text": "<think>plan the "},
        {"type": "delta", "text": "answer</thi"},
        {"type": "delta", "text": "nk>The answer [1]."},
        {"type": "done", "answer": "<think>plan the answer</think>The answer [1].", "guard": {}, "model": "m"},
    ]
    strip = list(filter_answer_events(events))
    assert [e["type"] for e in strip] == ["citations", "delta", "done"]
    assert strip[1]["text"] == "The answer [1]."
    assert strip[-1]["answer"] == "The answer [1]." and strip[-1]["reasoning"] == ""
    assert strip[-1]["no_sources"] is False
    show = list(filter_answer_events(events, SHOW))
    assert "".join(e["text"] for e in show if e["type"] == "reasoning") == "plan the answer"
    assert show[-1]["reasoning"] == "plan the answer"
    no_hits: list[dict[str, Any]] = [{"type": "citations", "citations": []}, {"type": "done", "answer": "x"}]
    empty = list(filter_answer_events(no_hits))
    assert empty[-1]["no_sources"] is True
    error: dict[str, Any] = {"type": "error", "error": "DependencyUnavailable", "detail": "down"}
    assert list(filter_answer_events([error])) == [error]
