"""``enclave bench gateway``: what the gateway adds to a search and to a streamed answer.

(a) Search: N concurrent clients (1, 8, 32) send ``POST /v1/search`` to a real gateway
(``enclave serve`` in its own process, on loopback) for a few seconds; in the same run, N threads
call ``Retriever.search`` in this process on a copy of the same data directory (the issue's
baseline), and ``RagService.search`` (the service the route calls: access checks, question
pseudonymization, the audit record), so the overhead splits into "the service" and "HTTP".
Rounds are interleaved, so a burst of load from elsewhere hits every variant alike.

(b) Streaming answer (``--stream``, needs the CPU vLLM): time to first token and total time of
``POST /v1/query`` with ``stream: true`` through the gateway, against the prompt the gateway
built for that question sent straight to vLLM's ``/v1/chat/completions`` (``benchmarks/
gateway_stream.py``).

Writes ``results/gateway-<stamp>.json`` and prints ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import percentiles, write_result

__all__ = ["add_gateway_parser", "format_gateway", "run_gateway_bench"]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "corpus"
COLLECTION = "samples"
GROUP = "staff"
QUESTIONS = [
    "How long is the notice period?",
    "How many days of parental leave do employees get?",
    "What is the daily meal allowance when travelling?",
    "How often must VPN passwords be changed?",
    "What caused the payments outage in February?",
    "Who should a new hire contact on the first day?",
    "What are the payment terms of the CloudHarbor contract?",
    "What did engineering ship in the second quarter?",
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_data(root: Path, llm_url: str, copies: int = 1) -> tuple[Path, list[Path], str]:
    """Ingest the sample corpus (readable by group ``staff``) into ``root/a``, create a staff API
    key, copy the whole data directory ``copies`` times: (in-process dir, gateway dirs, key)."""
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.keys import KeyStore
    from enclave_core.runtime import Core
    from enclave_core.settings import load_settings
    from ingest import AdminService, Ingestor

    a = root / "a"
    settings = load_settings(_env(a, llm_url))
    core = Core(settings)
    try:
        ingestor = Ingestor(core)
        report = AdminService(core, ingestor, via="bench").ingest_paths(
            LOCAL_ADMIN, [SAMPLES], COLLECTION, [GROUP], False, lambda _o: None
        )
        ingestor.manifest.close()
        if report["failed"] or not report["ingested"]:
            raise RuntimeError(f"sample corpus not ingested: {report}")
    finally:
        core.close()
    _, secret = KeyStore(settings.secrets_dir / "api-keys.json").create("bench-user", [GROUP], [])
    copied = [root / f"copy{i}" for i in range(copies)]
    for target in copied:
        shutil.copytree(a, target, symlinks=True)
    return a, copied, secret


def _env(data_dir: Path, llm_url: str) -> dict[str, str]:
    return {**os.environ, "ENCLAVE_DATA_DIR": str(data_dir), "ENCLAVE_LLM_URL": llm_url}


class GatewayProcess:
    """``enclave serve`` on a free loopback port, as a user starts it (its own process)."""

    def __init__(self, data_dir: Path, llm_url: str, log: Path, tree: Path = REPO) -> None:
        self.port = _free_port()
        self.env = _env(data_dir, llm_url) | {"PYTHONPATH": str(tree)}
        self.log = log
        self.tree = tree
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, key: str, timeout_s: float = 300) -> None:
        code = f"from enclave_cli.main import main; raise SystemExit(main(['serve', '--port', '{self.port}']))"
        with open(self.log, "ab") as fh:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], env=self.env, stdout=fh, stderr=subprocess.STDOUT, cwd=self.tree
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited with code {self.process.returncode}; see {self.log}")
            try:
                status, _ = HttpClient(self.port, key).request("GET", "/healthz")  # after start-up
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gateway not ready after {timeout_s:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class HttpClient:
    """One keep-alive connection (http.client: the cheapest client, so that the client's own CPU
    on this 2-core machine takes as little as possible from the gateway)."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def _drive(workers: int, seconds: float, make_call: Callable[[], Callable[[int], object]]) -> dict[str, Any]:
    """``workers`` threads each call their own ``make_call()`` in a loop for ``seconds``; each
    call's latency is kept. Returns throughput and latency percentiles."""
    latencies: list[list[float]] = [[] for _ in range(workers)]
    errors: list[str] = []
    start_gate = threading.Barrier(workers + 1)
    stop_at = [0.0]

    def worker(slot: int) -> None:
        call = make_call()
        start_gate.wait()
        i = slot
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                call(i)
            except Exception as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
                continue
            latencies[slot].append(time.perf_counter() - t0)
            i += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    if not flat:
        raise RuntimeError(f"no request succeeded: {errors[:3]}")
    return {"requests": len(flat), "rps": round(len(flat) / elapsed, 2), **percentiles(flat), "errors": len(errors)}


def search_client(port: int, key: str, bodies: list[bytes]) -> Callable[[], Callable[[int], object]]:
    """A factory of ``_drive`` callers: each opens its own keep-alive connection and posts
    ``/v1/search`` bodies in turn; anything but 200 is an error."""

    def make() -> Callable[[int], object]:
        client = HttpClient(port, key)

        def call(i: int) -> None:
            status, payload = client.request("POST", "/v1/search", bodies[i % len(bodies)])
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")

        return call

    return make


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one variant: median throughput and median of the per-round percentiles."""
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 2),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p95_ms": round(statistics.median(r["p95_ms"] for r in runs), 2),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": runs,
    }


def run_search_bench(
    root: Path,
    llm_url: str,
    concurrency: list[int],
    seconds: float,
    rounds: int,
    log: Path,
    compare_tree: Path | None = None,
    notes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``compare_tree``: another checkout (an earlier commit) whose gateway is timed interleaved
    with this one's, on its own copy of the same data: the before/after of a change. ``notes``
    gets what makes the comparison fair or not (the questions as retrieval sees them, load)."""
    from enclave_core.identity import Principal
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from enclave_core.settings import load_settings

    a, copies, key = prepare_data(root, llm_url, 2 if compare_tree else 1)
    principal = Principal("bench-user", frozenset({GROUP}), frozenset(), auth="api-key")
    core = Core(load_settings(_env(a, llm_url)))
    gateways = {"gateway": GatewayProcess(copies[0], llm_url, log)}
    if compare_tree is not None:
        gateways["gateway-before"] = GatewayProcess(copies[1], llm_url, log.with_suffix(".before.log"), compare_tree)
    try:
        core.store.check()
        core.redactor.warm_up()
        rag = RagService(core, via="bench")
        scope = principal.scope()
        # Retriever.search gets the question as typed, the service and the gateway its pseudonymized
        # form: the same retrieval only if pseudonymization leaves the questions alone (it should:
        # they name nobody). Recorded, not assumed.
        altered = [q for q in QUESTIONS if core.pii.pseudonymize_query(COLLECTION, q, None).text != q]
        if notes is not None:
            notes["questions_altered_by_pseudonymization"] = altered
        bodies = [json.dumps({"question": q, "collection": COLLECTION}).encode() for q in QUESTIONS]
        for gateway in gateways.values():
            gateway.start(key)

        def retriever() -> Callable[[int], object]:
            return lambda i: core.retriever.search(COLLECTION, QUESTIONS[i % len(QUESTIONS)], scope)

        def service() -> Callable[[int], object]:
            return lambda i: rag.search(principal, COLLECTION, QUESTIONS[i % len(QUESTIONS)])

        variants = {"retriever": retriever, "service": service}
        variants |= {name: search_client(g.port, key, bodies) for name, g in gateways.items()}
        for make in variants.values():  # warm every path (first ONNX/NER calls, connections)
            _drive(1, 1.0, make)
        out: dict[str, Any] = {}
        for n in concurrency:
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
            for _ in range(rounds):
                for name, make in variants.items():
                    runs[name].append(_drive(n, seconds, make) | {"load1": round(os.getloadavg()[0], 2)})
            out[str(n)] = {name: _merge(r) for name, r in runs.items()}
            print(f"  {n:>2} clients: " + ", ".join(f"{k} {v['rps']}/s" for k, v in out[str(n)].items()), flush=True)
        return out
    finally:
        for gateway in gateways.values():
            gateway.stop()
        core.close()


def search_ratios(search: dict[str, Any]) -> dict[str, Any]:
    """The goal figures: gateway throughput / in-process, and per-request overhead at 1 client."""
    ratios: dict[str, Any] = {}
    for n, row in search.items():
        ratios[n] = {
            "throughput_vs_retriever": round(row["gateway"]["rps"] / row["retriever"]["rps"], 3),
            "throughput_vs_service": round(row["gateway"]["rps"] / row["service"]["rps"], 3),
        }
        if "gateway-before" in row:
            ratios[n]["before_throughput_vs_retriever"] = round(
                row["gateway-before"]["rps"] / row["retriever"]["rps"], 3
            )
    if "1" in search:
        one = search["1"]
        ratios["1"]["p50_overhead_ms_vs_retriever"] = round(one["gateway"]["p50_ms"] - one["retriever"]["p50_ms"], 2)
        ratios["1"]["p50_overhead_ms_vs_service"] = round(one["gateway"]["p50_ms"] - one["service"]["p50_ms"], 2)
        if "gateway-before" in one:
            before = one["gateway-before"]["p50_ms"] - one["retriever"]["p50_ms"]
            ratios["1"]["before_p50_overhead_ms_vs_retriever"] = round(before, 2)
    return ratios


def run_gateway_bench(
    out_dir: Path,
    *,
    concurrency: list[int],
    seconds: float,
    rounds: int,
    stream: bool,
    stream_requests: int,
    llm_url: str | None,
    compare_tree: Path | None = None,
    search: bool = True,
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="enclave-bench-gateway-"))
    log = out_dir / f"gateway-{time.strftime('%Y%m%dT%H%M%S')}-server.log"
    result: dict[str, Any] = {"concurrency": concurrency, "seconds_per_round": seconds, "rounds": rounds}
    try:
        if search:  # --stream-only skips (a)
            notes: dict[str, Any] = {"load_at_start": [round(x, 2) for x in os.getloadavg()]}
            search_llm = llm_url or "http://127.0.0.1:9/v1"  # (a) never calls the LLM
            result["search"] = run_search_bench(
                root / "search", search_llm, concurrency, seconds, rounds, log, compare_tree, notes
            )
            notes["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
            result["search_notes"] = notes
            result["search_ratios"] = search_ratios(result["search"])
        if stream:
            from benchmarks.gateway_stream import run_stream_bench

            try:
                result["stream"] = run_stream_bench(root / "stream", llm_url, stream_requests, log, compare_tree)
            except (RuntimeError, OSError) as exc:  # (a) is kept and written; the failure is reported
                result["stream_error"] = f"{exc.__class__.__name__}: {exc}"[:500]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["path"] = str(write_result(out_dir, "gateway", result))
    return result


def format_gateway(result: dict[str, Any]) -> str:
    lines = []
    if "search" in result:
        lines.append("search (samples corpus, group-filtered), median of rounds:")
        lines.append(f"{'clients':>7} {'variant':14} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for n, row in result.get("search", {}).items():
        for name, v in row.items():
            lines.append(f"{n:>7} {name:14} {v['rps']:8.1f} {v['p50_ms']:8.1f} {v['p95_ms']:8.1f}")
    for n, r in result.get("search_ratios", {}).items():
        extra = ""
        if "p50_overhead_ms_vs_retriever" in r:
            extra = (
                f", p50 overhead {r['p50_overhead_ms_vs_retriever']} ms vs Retriever.search"
                f" ({r['p50_overhead_ms_vs_service']} ms vs RagService.search)"
            )
        lines.append(
            f"{n:>2} clients: gateway/Retriever throughput {r['throughput_vs_retriever']:.2f}, "
            f"gateway/RagService {r['throughput_vs_service']:.2f}{extra}"
        )
        if "before_throughput_vs_retriever" in r:
            lines.append(f"{'':>12}before: gateway/Retriever throughput {r['before_throughput_vs_retriever']:.2f}")
    if "search" in result:
        lines.append("goals: >= 0.80 of in-process throughput at 32 clients; p50 overhead <= 5 ms at 1 client")
    if notes := result.get("search_notes"):
        lines.append(
            f"load average at start {notes['load_at_start']}, at end {notes['load_at_end']}; questions altered by"
            f" pseudonymization (Retriever.search saw them as typed): {notes['questions_altered_by_pseudonymization']}"
        )
    if "stream" in result:
        from benchmarks.gateway_stream import format_stream

        lines.append(format_stream(result["stream"]))
    if "stream_error" in result:
        lines.append(f"streamed answers not measured: {result['stream_error']}")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)


def add_gateway_parser(sub: Any) -> None:
    g = sub.add_parser("gateway", help="search and streamed answers through the gateway vs in-process / vLLM")
    g.add_argument("--out", type=Path, default=Path("results"))
    g.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    g.add_argument("--seconds", type=float, default=8.0, help="per round and variant")
    g.add_argument("--rounds", type=int, default=3)
    g.add_argument("--no-stream", dest="stream", action="store_false", help="skip (b): no vLLM needed")
    g.add_argument("--stream-requests", type=int, default=12, help="streamed questions per side")
    g.add_argument("--llm-url", default=None, help="a running vLLM (default: start the CPU vLLM)")
    g.add_argument("--compare-tree", type=Path, default=None, help="another checkout's gateway, timed interleaved")
    g.add_argument("--stream-only", dest="search", action="store_false", help="only (b), the streamed answers")
    g.set_defaults(bench_func=_run)


def _run(args: argparse.Namespace) -> int:
    result = run_gateway_bench(
        args.out,
        concurrency=args.concurrency,
        seconds=args.seconds,
        rounds=args.rounds,
        stream=args.stream,
        stream_requests=args.stream_requests,
        llm_url=args.llm_url,
        compare_tree=args.compare_tree,
        search=args.search,
    )
    print(format_gateway(result))
    return 1 if "stream_error" in result else 0
