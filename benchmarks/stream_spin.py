"""Does the gateway's own work slow vLLM's first token? Same prompt, interleaved, in one process.

``python -m benchmarks.stream_spin [--requests 24] [--llm-url URL]`` (without ``--llm-url`` it starts
the CPU vLLM under /tmp/e2e.lock itself; do not wrap it in flock).

For each answered sample question (the bench's corpus and questions, benchmarks/gateway.py), in
rotating order: ``direct``: the exact /chat/completions body the product sends, replayed to vLLM
(http.client, as ``enclave bench gateway --stream``); ``client``: the same messages through
``LLMClient.open_stream`` alone (the client's own cost); ``stream``: ``RagService.stream`` with the
question session's ONNX threads spinning ``QUESTION_SPIN_US`` after a run, and ``stream, ORT spin``:
the same with ONNX Runtime's default spin duration (the threads kept a core busy ~40 ms after each
question, while vLLM read the prompt). For the two streams: vLLM's first token after the request
was sent (as the LLM client receives it), and the first answer text from the call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from benchmarks.gateway import COLLECTION, GROUP, QUESTIONS, _env, prepare_data
from benchmarks.gateway_stream import _capture_prompts, _direct, _vllm

__all__ = ["main", "run_stream_spin"]


def run_stream_spin(root: Path, llm_url: str | None, requests: int) -> dict[str, Any]:
    import onnxruntime

    from enclave_core.embedding.onnx_runtime import OnnxEmbedder
    from enclave_core.identity import Principal
    from enclave_core.llm import LLMClient
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from enclave_core.settings import load_settings

    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "direct_ttft",
            "client_ttft",
            "stream_vllm_after_send",
            "stream_first_text",
            "ort_spin_vllm_after_send",
            "ort_spin_first_text",
        )
    }
    with _vllm(llm_url, root) as url:
        _a, copies, _key = prepare_data(root / "data", url, copies=1)
        prompts, _split = _capture_prompts(copies[0], url, QUESTIONS)
        core = Core(load_settings(_env(copies[0], url)))
        try:
            rag = RagService(core, via="bench")
            principal = Principal("bench-user", frozenset({GROUP}), frozenset(), auth="api-key")
            embedder = core.retriever.query_embedder(COLLECTION)
            if not isinstance(embedder, OnnxEmbedder):
                raise RuntimeError(f"the collection's embedder is {type(embedder).__name__}, not OnnxEmbedder")
            session, _tokenizer = embedder._load(spinning=True)  # the question session, bounded spin
            default_spin = _ort_default_session(onnxruntime, embedder)
            sessions = {"bounded": session, "ort": default_spin}
            llm = core.llm
            opener = llm.open_stream
            arrival: dict[str, float] = {}

            def timed_open(*args: Any, **kwargs: Any) -> Iterator[str]:
                arrival["sent"] = time.perf_counter()
                deltas = opener(*args, **kwargs)

                def timed() -> Iterator[str]:
                    for delta in deltas:
                        arrival.setdefault("first", time.perf_counter())
                        yield delta

                return timed()

            llm.open_stream = timed_open  # type: ignore[method-assign]
            client = LLMClient(core.settings.llm)

            def stream(question: str, spin: str) -> tuple[float, float]:
                embedder._sessions[True] = sessions[spin]
                arrival.clear()
                started = time.perf_counter()
                first_text = None
                for event in rag.stream(principal, COLLECTION, question):
                    if event["type"] == "delta" and first_text is None:
                        first_text = time.perf_counter()
                end = time.perf_counter()
                return (arrival["first"] - arrival["sent"]) * 1000, ((first_text or end) - started) * 1000

            def via_client(body: bytes) -> float:
                request = json.loads(body)
                started = time.perf_counter()
                first = None
                for _delta in client.open_stream(request["messages"], max_tokens=request["max_tokens"]):
                    first = first or time.perf_counter()
                return ((first or time.perf_counter()) - started) * 1000

            questions = list(prompts)
            for question in questions:  # warm-up
                stream(question, "bounded")
                stream(question, "ort")
            arms = ["direct", "client", "bounded", "ort"]
            for i in range(requests):
                question = questions[i % len(questions)]
                for arm in arms[i % 4 :] + arms[: i % 4]:  # rotating order
                    if arm == "direct":
                        rows["direct_ttft"].append(_direct(url, prompts[question])["ttft_ms"])
                    elif arm == "client":
                        rows["client_ttft"].append(via_client(prompts[question]))
                    else:
                        vllm, text = stream(question, arm)
                        prefix = "stream" if arm == "bounded" else "ort_spin"
                        rows[f"{prefix}_vllm_after_send"].append(vllm)
                        rows[f"{prefix}_first_text"].append(text)
        finally:
            core.close()
    result: dict[str, Any] = {
        "questions": len(prompts),
        "requests": requests,
        "p50_ms": {k: round(statistics.median(v), 1) for k, v in rows.items()},
        "per_request_ms": {k: [round(x, 1) for x in v] for k, v in rows.items()},
    }
    paired = {
        "stream_vllm_after_send_minus_direct": ("stream_vllm_after_send", "direct_ttft"),
        "ort_spin_vllm_after_send_minus_direct": ("ort_spin_vllm_after_send", "direct_ttft"),
        "ort_spin_minus_stream_first_text": ("ort_spin_first_text", "stream_first_text"),
        "client_minus_direct": ("client_ttft", "direct_ttft"),
    }
    result["paired_p50_ms"] = {
        name: round(statistics.median(x - y for x, y in zip(rows[a], rows[b], strict=True)), 1)
        for name, (a, b) in paired.items()
    }
    return result


def _ort_default_session(onnxruntime: Any, embedder: Any) -> Any:
    """The question session as it was before QUESTION_SPIN_US: spinning with ORT's default duration."""
    import os

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    return onnxruntime.InferenceSession(str(embedder.graph_path()), options, providers=["CPUExecutionProvider"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--llm-url", default=None)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="enclave-stream-spin-") as work:
        result = run_stream_spin(Path(work), args.llm_url, args.requests)
    print(json.dumps({k: v for k, v in result.items() if k != "per_request_ms"}, indent=1))
    print(f"results: {write_result(args.out, 'stream-spin', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
