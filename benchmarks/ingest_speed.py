"""`make bench-ingest`: `enclave ingest` against a naive LlamaIndex pipeline, whole processes timed.

Both ingest the same N SciFact abstracts, written as .txt files, into fresh data directories; each
is timed from the command a user types to its exit, in the same run, one after the other, so the
ratio holds on a shared, noisy machine. Optionally: a cProfile pass of `enclave ingest` summarised
per stage (where the time goes), and quality (SciFact nDCG@10 with redaction on, through
``benchmarks.retrieval``), so that no speed-up is reported without its effect on quality.
"""

from __future__ import annotations

import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine_info, write_result
from benchmarks.scifact import load_dataset

__all__ = ["STAGES", "VARIANTS", "format_ingest", "profile_summary", "run_ingest_bench", "write_corpus"]

# Stage -> functions (file suffix, name) whose cumulative time is that stage's. They do not nest
# in each other, except "ingest total", which holds all the others but start-up.
STAGES: dict[str, list[tuple[str, str]]] = {
    "ingest total (after start-up)": [("ingest/pipeline.py", "ingest")],
    "load (read + parse files)": [("ingest/loaders/__init__.py", "load_document")],
    "redact/NER (text + paths)": [("ingest/pipeline.py", "_redact"), ("ingest/pipeline.py", "shown_sources")],
    # With the detection in child processes (ingest.analysis_processes): the part of the above that
    # this process spent waiting for them; their own CPU is "detection children CPU-s" below.
    "  of which waiting for the detection children": [("concurrent/futures/_base.py", "result")],
    "chunking": [("ingest/chunking.py", "chunk_document")],
    "embed (dense model)": [("enclave_core/embedding", "embed_documents")],
    "sparse (BM25 terms)": [("enclave_core/embedding/sparse.py", "encode_document")],
    "store (upsert + delete)": [("enclave_core/vectorstore", "upsert"), ("enclave_core/vectorstore", "delete_points")],
    "journal (manifest)": [
        ("ingest/manifest.py", "begin"),
        ("ingest/manifest.py", "put"),
        ("ingest/manifest.py", "get"),
    ],
}


def write_corpus(dataset: Path, n: int, folder: Path) -> int:
    """The first ``n`` abstracts as ``<id>.txt``: title line, blank line, abstract."""
    folder.mkdir(parents=True, exist_ok=True)
    items = list(load_dataset(dataset).corpus.items())[:n]
    for doc_id, (title, text) in items:
        (folder / f"{doc_id}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    return len(items)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, all threads) and stdout of one process.

    CPU seconds depend far less on what else runs on a shared host than wall time does, so they
    are reported next to it; the ratio that counts is still the wall-clock one (what users wait)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds, _children_cpu() - cpu, proc.stdout


def _enclave_cmd() -> list[str]:
    return [sys.executable, "-m", "enclave_cli.main"]


def profile_child(stats: Path, argv: list[str]) -> int:
    """``enclave <argv>`` under cProfile in this process; writes the profile and, beside it
    (``.cpu.json``), this process's CPU seconds and its children's (the detection processes)."""
    import cProfile

    from enclave_cli.main import main

    profiler = cProfile.Profile()
    code = profiler.runcall(main, argv)
    profiler.dump_stats(str(stats))
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {"ingest process": own.ru_utime + own.ru_stime, "detection children": children.ru_utime + children.ru_stime}
    stats.with_suffix(".cpu.json").write_text(json.dumps({k: round(v, 2) for k, v in cpu.items()}))
    return int(code or 0)


def profile_summary(stats_path: Path) -> dict[str, float]:
    """Seconds per stage from a cProfile file, plus start-up (process total minus ingest), plus
    the CPU seconds of the ingest process and of its detection children when they were recorded."""
    raw: dict[Any, Any] = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _, ct, _) in raw.values())
    out: dict[str, float] = {"process total (profiled)": round(total, 2)}
    for stage, funcs in STAGES.items():
        seconds = 0.0
        for (filename, _, name), (_, _, _, ct, _) in raw.items():
            if any(filename.endswith(suffix) or (suffix in filename) for suffix, fn in funcs if fn == name):
                seconds += ct
        out[stage] = round(seconds, 2)
    out["start-up (imports, models, stores)"] = round(total - out["ingest total (after start-up)"], 2)
    cpu = stats_path.with_suffix(".cpu.json")
    if cpu.is_file():
        out |= {f"{name} CPU-s": seconds for name, seconds in json.loads(cpu.read_text()).items()}
    return out


# Configurations of `enclave ingest` that a run can compare (environment overrides of settings).
VARIANTS: dict[str, dict[str, str]] = {
    "product": {},
    "torch": {"ENCLAVE_EMBEDDING__BACKEND": "torch"},
    "onnx-int8": {"ENCLAVE_EMBEDDING__BACKEND": "onnx", "ENCLAVE_EMBEDDING__QUANTIZE": "true"},
    "float32": {"ENCLAVE_EMBEDDING__BACKEND": "onnx", "ENCLAVE_EMBEDDING__QUANTIZE": "false"},
    # The detection in the ingest process itself, as before ingest.analysis_processes.
    "in-process": {"ENCLAVE_INGEST__ANALYSIS_PROCESSES": "0"},
}


def _prepare_models(variants: list[str]) -> dict[str, float]:
    """Export the ONNX graphs the variants need before anything is timed: a one-time cost per
    machine (like installing the model), cached outside the data directory, reported apart."""
    from enclave_core.embedding import build_embedder
    from enclave_core.embedding.onnx_runtime import OnnxEmbedder
    from enclave_core.settings import load_settings

    seconds: dict[str, float] = {}
    for name in variants:
        settings = load_settings(VARIANTS[name])
        embedder = build_embedder(settings.embedding)
        if isinstance(embedder, OnnxEmbedder):
            start = time.perf_counter()
            embedder.graph_path()
            seconds[name] = round(time.perf_counter() - start, 2)
    return seconds


def run_ingest_bench(
    dataset: Path,
    out_dir: Path,
    n: int = 1000,
    *,
    variants: list[str] | None = None,
    profile: bool = True,
    quality: bool = False,
) -> dict[str, Any]:
    variants = variants or ["product"]
    work = Path(tempfile.mkdtemp(prefix="enclave-bench-ingest-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"dataset": str(dataset), "machine": machine_info(), "enclave_ingest": {}}
    try:
        docs = work / "docs"
        result["documents"] = write_corpus(dataset, n, docs)
        result["one_time_onnx_export_s"] = _prepare_models(variants)
        env = dict(os.environ)
        env.pop("ENCLAVE_PROFILES", None)
        cmd = ["ingest", str(docs), "--collection", "scifact", "--quiet", "--json"]

        naive_s, naive_cpu, naive_out = _timed(
            [sys.executable, "-m", "benchmarks.naive_llamaindex", str(docs), str(work / "q")], env
        )
        result["naive_llamaindex"] = {
            "seconds": round(naive_s, 2),
            "cpu_seconds": round(naive_cpu, 2),
            "docs_per_s": round(result["documents"] / naive_s, 2),
            "nodes": int(naive_out.strip().splitlines()[-1]),
        }
        for name in variants:
            data = work / f"data-{name}"
            variant_env = env | VARIANTS[name] | {"ENCLAVE_DATA_DIR": str(data)}
            ours_s, ours_cpu, ours_out = _timed([*_enclave_cmd(), *cmd], variant_env)
            report = json.loads(ours_out)
            result["enclave_ingest"][name] = {
                "env": VARIANTS[name],
                "seconds": round(ours_s, 2),
                "cpu_seconds": round(ours_cpu, 2),
                "docs_per_s": round(report["ingested"] / ours_s, 2),
                "ingested": report["ingested"],
                "failed": report["failed"],
                "chunks": report["chunks"],
                "speed_ratio_over_naive": round(naive_s / ours_s, 3),
                "cpu_ratio_naive_over_ours": round(naive_cpu / ours_cpu, 3) if ours_cpu else None,
            }
        if profile:
            stats = work / "ingest.prof"
            pcmd = [sys.executable, "-m", "benchmarks.ingest_speed", "--profile-child", str(stats), *cmd]
            _timed(pcmd, env | VARIANTS[variants[0]] | {"ENCLAVE_DATA_DIR": str(work / "data-profiled")})
            result["profile_variant"] = variants[0]
            result["profile_seconds"] = profile_summary(stats)
        if quality:
            from benchmarks.retrieval import run_retrieval_bench

            q = run_retrieval_bench(dataset, out_dir, modes=("dense", "hybrid"), redact=True, baseline_sample=None)
            on = q["variants"]["redaction_on"]["results"]
            result["quality"] = {
                "retrieval_result": q["path"],
                "ndcg@10": {mode: on[mode]["metrics"]["ndcg@10"] for mode in on},
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["path"] = str(write_result(out_dir, "ingest", result))
    return result


def format_ingest(result: dict[str, Any]) -> str:
    naive = result["naive_llamaindex"]
    lines = [
        f"{'pipeline':36} {'seconds':>8} {'CPU s':>8} {'docs/s':>8} {'chunks':>7} {'vs naive':>9}",
        f"{'naive LlamaIndex + Presidio':36} {naive['seconds']:8.1f} {naive.get('cpu_seconds', 0):8.1f}"
        f" {naive['docs_per_s']:8.2f} {naive['nodes']:7d}",
    ]
    for name, ours in result["enclave_ingest"].items():
        label = f"enclave ingest ({name})"
        lines.append(
            f"{label:36} {ours['seconds']:8.1f} {ours.get('cpu_seconds', 0):8.1f} {ours['docs_per_s']:8.2f}"
            f" {ours['chunks']:7d}"
            f" {ours['speed_ratio_over_naive']:8.2f}x"
        )
    lines.append("goal: >= 2x the naive pipeline's documents/s (aim 3x), redaction on; CPU s: user + system")
    if result.get("one_time_onnx_export_s"):
        lines.append(f"one-time ONNX export (cached, not in the timings): {result['one_time_onnx_export_s']} s")
    if "profile_seconds" in result:
        lines.append(f"where `enclave ingest` ({result['profile_variant']}) spends its time (cProfile, seconds):")
        lines.extend(f"  {stage:40} {sec:8.2f}" for stage, sec in result["profile_seconds"].items())
    if "quality" in result:
        lines.append(f"SciFact nDCG@10 with redaction on: {result['quality']['ndcg@10']}")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)


if __name__ == "__main__":  # the profiled process of run_ingest_bench: --profile-child STATS ARGV...
    if len(sys.argv) < 3 or sys.argv[1] != "--profile-child":
        raise SystemExit("usage: python -m benchmarks.ingest_speed --profile-child STATS ENCLAVE-ARGS...")
    raise SystemExit(profile_child(Path(sys.argv[2]), sys.argv[3:]))
