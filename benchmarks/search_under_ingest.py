"""``enclave bench search-under-ingest``: search latency through the gateway while a bulk upload
is being ingested, with ingestion in a thread of the gateway and in a worker process.

For each ``ingest.worker`` mode (``thread``: the gateway's own process, the former behaviour and
the baseline; ``process``: the worker process), in one run: a fresh data directory and a real
gateway (``enclave serve`` on a loopback port), ``--idle-docs`` SciFact abstracts uploaded as
.txt files and ingested; then one client searches sequentially over the REST API (``--pause-ms``
between searches) on the idle gateway for ``--idle-searches`` requests; then ``--docs`` other
abstracts are uploaded (``wait=false``, at most ``gateway.max_upload_files`` per request) and the same client keeps
searching until every job is done. It prints search p50/p95 idle and under ingest, their ratio
(the goal: p95 under ingest at most 3x idle), the ingest rate (documents/s, from the first byte
uploaded to the last job done) and how the process mode compares to the thread mode, and writes
it all as JSON under ``--out``. No LLM is needed (search only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import percentiles, write_result
from benchmarks.scifact import load_dataset

__all__ = ["add_search_under_ingest_parser", "format_search_under_ingest", "run_search_under_ingest"]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "bench" / "scifact"
COLLECTION = "scifact"
GOAL_RATIO = 3.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Gateway:
    """``enclave serve`` on loopback in a fresh data directory, jobs run as ``mode`` says."""

    def __init__(self, mode: str, log: Path, nice: int | None) -> None:
        from enclave_core.keys import KeyStore
        from enclave_core.settings import load_settings

        self.tmp = Path(tempfile.mkdtemp(prefix=f"enclave-sui-{mode}-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ENCLAVE_DATA_DIR": str(self.tmp / "data"),
            "ENCLAVE_INGEST__WORKER": mode,
            "ENCLAVE_LLM_URL": "http://127.0.0.1:9/v1",  # search only: no LLM
            "ENCLAVE_LOGGING__ACCESS_LOG": "false",
        }
        if nice is not None:
            self.env["ENCLAVE_INGEST__WORKER_NICE"] = str(nice)
        self.settings = load_settings(self.env)
        self.key = KeyStore(self.settings.secrets_dir / "api-keys.json").create("bench", [], ["admin"])[1]
        code = f"from enclave_cli.main import main; raise SystemExit(main(['serve', '--port', '{self.port}']))"
        with open(log, "ab") as fh:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], env=self.env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO
            )
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=600)

    def wait_up(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited with code {self.process.returncode}")
            try:
                if self.client.get("/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the gateway did not come up")

    def upload(self, docs: list[tuple[str, str]], wait: bool) -> dict[str, Any]:
        files = [("files", (f"{name}.txt", text.encode())) for name, text in docs]
        r = self.client.post(f"/v1/collections/{COLLECTION}/documents", params={"wait": str(wait).lower()}, files=files)
        if r.status_code not in (200, 202):
            raise RuntimeError(f"upload refused: {r.status_code} {r.text[:300]}")
        return dict(r.json())

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/jobs/{job_id}", timeout=30).json())

    def search(self, question: str) -> float:
        start = time.perf_counter()
        r = self.client.post("/v1/search", json={"question": question, "collection": COLLECTION, "top_k": 10})
        elapsed = time.perf_counter() - start
        if r.status_code != 200:
            raise RuntimeError(f"search failed: {r.status_code} {r.text[:300]}")
        return elapsed

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _searcher(gateway: _Gateway, questions: list[str], pause_s: float, stop: threading.Event, out: list[float]) -> None:
    i = 0
    while not stop.is_set():
        out.append(gateway.search(questions[i % len(questions)]))
        i += 1
        stop.wait(pause_s)


def _run_mode(
    mode: str,
    idle_docs: list[tuple[str, str]],
    bulk_docs: list[tuple[str, str]],
    questions: list[str],
    idle_searches: int,
    pause_s: float,
    out: Path,
    nice: int | None,
) -> dict[str, Any]:
    log = out / f"search-under-ingest-{mode}.log"
    gateway = _Gateway(mode, log, nice)
    try:
        gateway.wait_up()
        report = gateway.upload(idle_docs, wait=True)
        if report.get("failed"):
            raise RuntimeError(f"idle corpus not ingested: {report}")
        for q in questions[:5]:  # warm the query path
            gateway.search(q)
        idle = []
        for i in range(idle_searches):
            idle.append(gateway.search(questions[i % len(questions)]))
            time.sleep(pause_s)

        latencies: list[float] = []
        stop = threading.Event()
        searching = threading.Thread(target=_searcher, args=(gateway, questions, pause_s, stop, latencies), daemon=True)
        searching.start()
        started = time.perf_counter()
        per_request = gateway.settings.gateway.max_upload_files
        jobs = [
            gateway.upload(bulk_docs[i : i + per_request], wait=False)["job_id"]
            for i in range(0, len(bulk_docs), per_request)
        ]
        uploaded_s = time.perf_counter() - started
        finals: dict[str, dict[str, Any]] = {}
        while len(finals) < len(jobs):
            time.sleep(1.0)
            for job_id in jobs:
                if job_id not in finals:
                    job = gateway.job(job_id)
                    if job["status"] in ("done", "failed", "interrupted"):
                        finals[job_id] = job
            if gateway.process.poll() is not None:
                raise RuntimeError("the gateway died during the bulk ingest")
        ingest_s = time.perf_counter() - started
        stop.set()
        searching.join(timeout=60)
        ingested = sum(int(j.get("ingested", 0)) for j in finals.values())
        failed = sum(int(j.get("failed", 0)) for j in finals.values())
        return {
            "mode": mode,
            "idle_docs": len(idle_docs),
            "bulk_docs": len(bulk_docs),
            "jobs": len(jobs),
            "job_statuses": sorted({j["status"] for j in finals.values()}),
            "ingested": ingested,
            "failed": failed,
            "upload_s": round(uploaded_s, 2),
            "ingest_s": round(ingest_s, 2),
            "docs_per_s": round(len(bulk_docs) / ingest_s, 2),
            "search_idle": percentiles(idle),
            "search_under_ingest": percentiles(latencies),
            "max_under_ingest_ms": round(max(latencies) * 1000, 1),
            "p95_ratio": round(percentiles(latencies)["p95_ms"] / percentiles(idle)["p95_ms"], 2),
        }
    finally:
        gateway.stop()


def run_search_under_ingest(
    dataset: Path,
    out: Path,
    docs: int = 1000,
    idle_docs: int = 50,
    idle_searches: int = 200,
    modes: tuple[str, ...] = ("thread", "process"),
    nice: int | None = None,
    pause_ms: float = 100.0,
) -> dict[str, Any]:
    data = load_dataset(dataset)
    corpus = [(doc_id, f"{title}\n\n{text}".strip()) for doc_id, (title, text) in data.corpus.items()]
    if len(corpus) < docs + idle_docs:
        raise ValueError(f"the corpus has {len(corpus)} documents, fewer than {docs + idle_docs}")
    idle, bulk = corpus[:idle_docs], corpus[idle_docs : idle_docs + docs]
    questions = list(data.queries.values())[:200]
    out.mkdir(parents=True, exist_ok=True)
    runs = {mode: _run_mode(mode, idle, bulk, questions, idle_searches, pause_ms / 1000, out, nice) for mode in modes}
    result: dict[str, Any] = {
        "dataset": str(dataset),
        "goal_p95_ratio": GOAL_RATIO,
        "pause_ms": pause_ms,
        "worker_nice": nice,
        "modes": runs,
    }
    if "thread" in runs and "process" in runs:
        thread, process = runs["thread"], runs["process"]
        result["process_vs_thread"] = {
            "p95_under_ingest": round(
                process["search_under_ingest"]["p95_ms"] / thread["search_under_ingest"]["p95_ms"], 3
            ),
            "docs_per_s": round(process["docs_per_s"] / thread["docs_per_s"], 3),
        }
    result["goal_met"] = "process" in runs and runs["process"]["p95_ratio"] <= GOAL_RATIO
    result["path"] = str(write_result(out, "search-under-ingest", result))
    return result


def format_search_under_ingest(result: dict[str, Any]) -> str:
    lines = [
        f"{'mode':8} {'idle p50':>9} {'idle p95':>9} {'ingest p50':>11} {'ingest p95':>11} "
        f"{'max':>8} {'p95 ratio':>10} {'docs/s':>7} {'failed':>7}"
    ]
    for mode, r in result["modes"].items():
        idle, busy = r["search_idle"], r["search_under_ingest"]
        lines.append(
            f"{mode:8} {idle['p50_ms']:>7.1f}ms {idle['p95_ms']:>7.1f}ms {busy['p50_ms']:>9.1f}ms "
            f"{busy['p95_ms']:>9.1f}ms {r['max_under_ingest_ms']:>6.0f}ms {r['p95_ratio']:>9.2f}x "
            f"{r['docs_per_s']:>7.2f} {r['failed']:>7}"
        )
    if "process_vs_thread" in result:
        cmp = result["process_vs_thread"]
        lines.append(
            f"process/thread: p95 under ingest {cmp['p95_under_ingest']:.3f}x, ingest rate {cmp['docs_per_s']:.3f}x"
        )
    lines.append(
        f"goal (process mode: p95 under ingest <= {GOAL_RATIO:.0f}x idle): {'met' if result['goal_met'] else 'NOT met'}"
    )
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    result = run_search_under_ingest(
        args.dataset,
        args.out,
        args.docs,
        args.idle_docs,
        args.idle_searches,
        tuple(args.modes),
        args.nice,
        args.pause_ms,
    )
    print(format_search_under_ingest(result))
    return 0


def add_search_under_ingest_parser(sub: Any) -> None:
    p = sub.add_parser(
        "search-under-ingest",
        help="search p50/p95 through the gateway, idle and during a bulk upload, per ingest.worker mode",
    )
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="BEIR SciFact folder")
    p.add_argument("--docs", type=int, default=1000, help="abstracts in the bulk upload (default 1000)")
    p.add_argument("--idle-docs", type=int, default=50, help="abstracts ingested before the idle measurement")
    p.add_argument("--idle-searches", type=int, default=200, help="searches on the idle gateway")
    p.add_argument("--modes", nargs="+", default=["thread", "process"], choices=["thread", "process"])
    p.add_argument("--nice", type=int, default=None, help="override ingest.worker_nice for the process mode")
    p.add_argument(
        "--pause-ms", type=float, default=100.0, help="the client's pause between searches (0: back to back)"
    )
    p.set_defaults(bench_func=_run)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_under_ingest")
    add_search_under_ingest_parser(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args()
    raise SystemExit(int(ns.bench_func(ns)))
