"""``enclave bench gateway`` part (b): a streamed answer through the gateway against vLLM alone.

The prompt sent "straight to vLLM" is the one the product builds: each question is first answered
once in this process through ``RagService.stream`` on a copy of the gateway's data, with an HTTP
hook on the LLM client that keeps the exact request body it sends to ``/chat/completions``. Then,
interleaved per question, that body is replayed to vLLM (``direct``) and the question is asked
through ``POST /v1/query`` with ``stream: true`` (``gateway``). Both are read as server-sent
events as they arrive: time to the first answer text (TTFT) and to the end of the stream. Through
the gateway, the time to its first event (the citations, sent before the LLM is reached) is kept
too. Greedy decoding (temperature 0 in settings.llm) makes both produce the same tokens.

While vLLM runs, ``/tmp/e2e.lock`` is held (flock): the end-to-end tests start their own CPU vLLM,
and two on this machine starve each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.gateway import COLLECTION, GROUP, QUESTIONS, GatewayProcess, _env, _free_port, prepare_data

__all__ = ["format_stream", "run_stream_bench"]

E2E_LOCK = Path("/tmp/e2e.lock")
# vLLM's first complete word: text followed by whitespace (the earliest an output guard that
# releases whole words could release anything; the next token must have begun).
_WORD_DONE = re.compile(r"\S\s")
# Where the in-process time to the first answer text goes, in the order things happen (_capture_prompts).
SPLIT_MARKS = (
    "authorized",
    "pseudonymised",
    "retrieved",
    "prompt_built",
    "request_sent",
    "headers",
    "evidence_scored",
    "sources_audited",
    "citations_event",
    "first_token",
    "first_text",
    "direct_ttft",
    "vllm_first_token_after_send",
    "guard_cpu_per_answer",
    "guard_calls_per_answer",
    "guard_cpu_per_token",
)


@contextlib.contextmanager
def _vllm(llm_url: str | None, work: Path) -> Iterator[str]:
    """A vLLM to talk to: ``llm_url`` as given, or the CPU vLLM started here (under the e2e lock)."""
    if llm_url:
        yield llm_url
        return
    from enclave_core.settings import load_settings
    from services.llm.launch import start_server, stop_server, wait_until_ready

    url = f"http://127.0.0.1:{_free_port()}/v1"
    settings = load_settings(_env(work / "vllm", url))
    with open(E2E_LOCK, "a") as lock:
        print(f"waiting for {E2E_LOCK} (another vLLM user)", flush=True)
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        print("starting the CPU vLLM (minutes on 2 cores)", flush=True)
        process = start_server(settings, work / "vllm.log")
        try:
            wait_until_ready(settings, process, timeout_s=900)
            yield url
        finally:
            stop_server(process)


def _capture_prompts(
    data_dir: Path, llm_url: str, questions: list[str], rounds: int = 2
) -> tuple[dict[str, bytes], dict[str, float]]:
    """question -> the streaming /chat/completions body the product sends for it, for the questions
    the model answers (a refusal by the evidence step never shows the model's text); and where the
    time to the first answer text goes in-process (p50 over the last round, ms from the call, in
    the order they happen: access checked, question pseudonymised, passages retrieved, prompt built,
    request sent to vLLM, its response headers, retrieval evidence scored, sources audited, the
    citations event out, vLLM's first token, first answer text released; ``direct_ttft``: the same
    body replayed to vLLM right after, alone, for the prefill the gateway's own work slows down)."""
    import httpx

    from enclave_core import reasoning
    from enclave_core.evidence import EvidenceScorer
    from enclave_core.identity import Principal
    from enclave_core.llm import LLMClient
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from enclave_core.settings import load_settings

    bodies: list[bytes] = []
    marks: dict[str, float] = {}
    token_count: list[int] = []

    def marked(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            out = fn(*args, **kwargs)
            marks.setdefault(name, time.perf_counter())
            return out

        return call

    def keep(request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            bodies.append(request.read())
            marks.setdefault("request_sent", time.perf_counter())

    def headers_back(response: httpx.Response) -> None:  # vLLM accepted the request
        marks.setdefault("headers", time.perf_counter())

    core = Core(load_settings(_env(data_dir, llm_url)))
    saved: list[tuple[Any, str, Any]] = []
    try:
        client = httpx.Client(event_hooks={"request": [keep], "response": [headers_back]})
        llm = LLMClient(core.settings.llm, http_client=client)
        opener = llm.open_stream

        def timed_open(*args: Any, **kwargs: Any) -> Iterator[str]:
            deltas = opener(*args, **kwargs)  # sends the request now, as the product does

            def timed() -> Iterator[str]:
                for delta in deltas:
                    marks.setdefault("first_token", time.perf_counter())
                    token_count.append(1)  # one delta per token from vLLM
                    yield delta

            return timed()

        llm.open_stream = timed_open  # type: ignore[method-assign]
        core.__dict__["llm"] = llm  # replaces the cached property
        rag = RagService(core, via="bench")
        make_guard = rag._stream_guard
        guard_s: list[float] = []  # the stream guard's time per call (its CPU beside vLLM's decoding)

        def timed_guard() -> Any:
            guard = make_guard()

            def call(text: str) -> Any:
                start = time.process_time()
                try:
                    return guard(text)
                finally:
                    guard_s.append(time.process_time() - start)

            return call

        rag._stream_guard = timed_guard  # type: ignore[method-assign]
        pii, retriever = core.pii, core.retriever
        pii.pseudonymize_query = marked("pseudonymised", pii.pseudonymize_query)  # type: ignore[method-assign]
        retriever.search = marked("retrieved", retriever.search)  # type: ignore[method-assign]
        rag.authorize = marked("authorized", rag.authorize)  # type: ignore[method-assign]
        rag._audit_sources = marked("sources_audited", rag._audit_sources)  # type: ignore[method-assign]
        patched = [
            (reasoning, "answer_messages", marked("prompt_built", reasoning.answer_messages)),
            (EvidenceScorer, "retrieval", marked("evidence_scored", EvidenceScorer.retrieval)),
        ]
        saved += [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
        for owner, name, fn in patched:
            setattr(owner, name, fn)
        principal = Principal("bench-user", frozenset({GROUP}), frozenset(), auth="api-key")
        prompts: dict[str, bytes] = {}
        timings: list[dict[str, float]] = []
        for round_ in range(rounds):  # the first round warms the caches
            for question in questions:
                bodies.clear()
                marks.clear()
                guard_s.clear()
                started = time.perf_counter()
                kind = None
                token_count.clear()
                for event in rag.stream(principal, COLLECTION, question):
                    if event["type"] == "citations":
                        marks.setdefault("citations_event", time.perf_counter())
                    elif event["type"] == "delta":
                        marks.setdefault("first_text", time.perf_counter())
                    elif event["type"] == "done":
                        kind = (event.get("grounding") or {}).get("kind", "model")
                streamed = [b for b in bodies if json.loads(b).get("stream")]
                if len(streamed) == 1 and kind != "refusal":  # one generation, shown: the one to replay
                    prompts[question] = streamed[0]
                    if round_ == rounds - 1:
                        timing = {k: (v - started) * 1000 for k, v in marks.items()}
                        timing["direct_ttft"] = _direct(llm_url, streamed[0])["ttft_ms"]
                        timing["vllm_first_token_after_send"] = timing["first_token"] - timing["request_sent"]
                        timing["guard_cpu_per_answer"] = sum(guard_s) * 1000
                        timing["guard_calls_per_answer"] = len(guard_s)
                        if token_count:
                            timing["guard_cpu_per_token"] = sum(guard_s) * 1000 / len(token_count)
                        timings.append(timing)
        split = {
            f"{k}_ms_p50": round(statistics.median(t[k] for t in timings if k in t), 1)
            for k in SPLIT_MARKS
            if any(k in t for t in timings)
        }
        return prompts, split
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)
        core.close()


def _sse(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> Iterator[bytes]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status} {response.read()[:300]!r}")
    while line := response.readline():
        if line.startswith(b"data: "):
            yield line[6:].strip()


def _direct(llm_url: str, body: bytes) -> dict[str, float]:
    url = urlparse(llm_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=600)
    started = time.perf_counter()
    first = word = None
    text = ""
    try:
        for data in _sse(conn, f"{url.path.rstrip('/')}/chat/completions", body, {}):
            if data == b"[DONE]":
                break
            choices = json.loads(data).get("choices") or []
            content = (choices[0].get("delta") or {}).get("content") if choices else None
            if content:
                first = first or time.perf_counter()
                text += content
                if word is None and _WORD_DONE.search(text):
                    word = time.perf_counter()
    finally:
        conn.close()
    end = time.perf_counter()
    return {
        "ttft_ms": ((first or end) - started) * 1000,
        "first_word_ms": ((word or end) - started) * 1000,
        "total_ms": (end - started) * 1000,
    }


def _through_gateway(port: int, key: str, question: str) -> dict[str, float]:
    """Times of the first event, the first answer text and the end; how many text events carried
    the answer and how many characters the first one had (one event: the answer was held back)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"question": question, "collection": COLLECTION, "stream": True}).encode()
    started = time.perf_counter()
    first_event = first_text = None
    texts: list[str] = []
    try:
        for data in _sse(conn, "/v1/query", body, {"Authorization": f"Bearer {key}"}):
            now = time.perf_counter()
            if data == b"[DONE]":
                break
            first_event = first_event or now
            event = json.loads(data)
            if event.get("type") == "delta":
                first_text = first_text or now
                texts.append(str(event.get("text") or ""))
    finally:
        conn.close()
    end = time.perf_counter()
    return {
        "first_event_ms": ((first_event or end) - started) * 1000,
        "ttft_ms": ((first_text or end) - started) * 1000,
        "total_ms": (end - started) * 1000,
        "text_events": len(texts),
        "first_text_chars": len(texts[0]) if texts else 0,
    }


def _summary(rows: list[dict[str, float]]) -> dict[str, float]:
    return {f"{key}_p50": round(statistics.median(r[key] for r in rows), 1) for key in rows[0]} | {"n": len(rows)}


def run_stream_bench(
    root: Path, llm_url: str | None, requests: int, log: Path, compare_tree: Path | None = None
) -> dict[str, Any]:
    """``compare_tree``: another checkout whose gateway answers the same questions, interleaved, on
    its own copy of the data (the before of a change); its prompts are the same (same sources)."""
    root.mkdir(parents=True, exist_ok=True)
    with _vllm(llm_url, root) as url:
        _a, copies, key = prepare_data(root / "data", url, copies=3 if compare_tree else 2)
        prompts, in_process = _capture_prompts(copies[1], url, QUESTIONS)
        if not prompts:
            raise RuntimeError("no question produced exactly one streamed generation to replay")
        gateways = {"gateway": GatewayProcess(copies[0], url, log.with_suffix(".stream.log"))}
        if compare_tree is not None:
            gateways["gateway-before"] = GatewayProcess(
                copies[2], url, log.with_suffix(".stream-before.log"), compare_tree
            )
        rows: dict[str, list[dict[str, float]]] = {"direct": [], **{name: [] for name in gateways}}
        try:
            for gateway in gateways.values():
                gateway.start(key)
            questions = list(prompts)
            for question in questions:  # warm-up, not timed: first requests load models and caches
                for gateway in gateways.values():
                    _through_gateway(gateway.port, key, question)
            for i in range(requests):  # interleaved: direct, then the same question through each gateway
                question = questions[i % len(questions)]
                rows["direct"].append(_direct(url, prompts[question]))
                order = list(gateways.items())
                for name, gateway in order if i % 2 == 0 else order[::-1]:
                    rows[name].append(_through_gateway(gateway.port, key, question))
        finally:
            for gateway in gateways.values():
                gateway.stop()
    summary = {name: _summary(r) for name, r in rows.items()}
    d = summary["direct"]
    result: dict[str, Any] = {"questions": len(prompts), **summary, "in_process": in_process, "per_request": rows}
    for name in gateways:
        suffix = "" if name == "gateway" else "_before"
        g = summary[name]
        result[f"ttft_overhead_ms_p50{suffix}"] = round(g["ttft_ms_p50"] - d["ttft_ms_p50"], 1)
        result[f"total_overhead_ms_p50{suffix}"] = round(g["total_ms_p50"] - d["total_ms_p50"], 1)
        per = [t["ttft_ms"] - x["ttft_ms"] for t, x in zip(rows[name], rows["direct"], strict=True)]
        result[f"ttft_overhead_ms_paired_p50{suffix}"] = round(statistics.median(per), 1)
        per = [t["ttft_ms"] - x["first_word_ms"] for t, x in zip(rows[name], rows["direct"], strict=True)]
        result[f"ttft_over_first_word_ms_paired_p50{suffix}"] = round(statistics.median(per), 1)
    return result


def format_stream(result: dict[str, Any]) -> str:
    d = result["direct"]
    lines = [
        f"streamed answer ({d['n']} requests per side, {result['questions']} questions, p50):",
        f"  vLLM direct   : TTFT {d['ttft_ms_p50']:.0f} ms, first complete word {d['first_word_ms_p50']:.0f} ms, "
        f"total {d['total_ms_p50']:.0f} ms",
    ]
    for name, suffix in (("gateway", ""), ("gateway-before", "_before")):
        if name not in result:
            continue
        g = result[name]
        lines += [
            f"  {name:14}: first event {g['first_event_ms_p50']:.0f} ms, TTFT {g['ttft_ms_p50']:.0f} ms, "
            f"total {g['total_ms_p50']:.0f} ms, {g.get('text_events_p50', 0):.0f} text events "
            f"(first {g.get('first_text_chars_p50', 0):.0f} chars)",
            f"  {'':14}  TTFT overhead {result['ttft_overhead_ms_p50' + suffix]:+.0f} ms "
            f"(paired {result['ttft_overhead_ms_paired_p50' + suffix]:+.0f} ms; goal <= 50 ms; "
            f"over vLLM's first complete word {result['ttft_over_first_word_ms_paired_p50' + suffix]:+.0f} ms), "
            f"total overhead {result['total_overhead_ms_p50' + suffix]:+.0f} ms",
        ]
    if result.get("in_process"):
        split = ", ".join(f"{k.removesuffix('_ms_p50')} {v:.0f} ms" for k, v in result["in_process"].items())
        lines.append(f"  in-process RagService.stream, from the call (p50): {split}")
    return "\n".join(lines)
