"""Per-format ingest throughput on the generated format corpus (tests/fixtures/format_corpus.py).

Two measurements per good file, each against the same file's extracted text as a .txt in the
same run (the baseline): ingest.loaders.load_document alone (parsing), median of --rounds; and
the whole ingest pipeline (load, redaction, chunking, embedding, store) in a throwaway data
directory, median of --pipeline-rounds. OCR formats run fewer rounds (seconds per file).

    enclave bench formats [--rounds 20] [--pipeline-rounds 3] [--out results]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.loaders import load_document

# The corpus generator lives with the test fixtures, and tests/ is not an installed package:
# `enclave bench formats` (a console script) runs with the repository off sys.path.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fixtures.format_corpus import good_files  # noqa: E402

__all__ = ["bench", "main", "run_formats_bench"]

OCR_FORMATS = {"scan.pdf", "photo.png", "photo.jpg", "fax.tiff"}


def _seconds(data: bytes, name: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        load_document(data, name)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _pipeline_seconds(ingestor: Any, data: bytes, name: str, rounds: int) -> tuple[float, int]:
    """Median seconds to ingest the file as a new document (a fresh path each round), and its chunks."""
    from ingest.pipeline import SourceFile

    times, chunks = [], 0
    for _ in range(rounds):
        source = f"round-{uuid.uuid4().hex[:8]}/{name}"
        started = time.perf_counter()
        report = ingestor.ingest([SourceFile(source, data=data)], "formats", ["bench"])
        times.append(time.perf_counter() - started)
        (outcome,) = report.outcomes
        assert outcome.status == "ingested", outcome.error
        chunks = outcome.chunks
    return statistics.median(times), chunks


def _pipeline_rows(files: dict[str, tuple[bytes, bytes]], rounds: int) -> dict[str, dict[str, float]]:
    """Every file through the real ingest pipeline in a throwaway data directory."""
    from enclave_core.runtime import Core
    from enclave_core.settings import load_settings
    from ingest.pipeline import Ingestor

    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="enclave-bench-formats-") as tmp:
        env = {"ENCLAVE_DATA_DIR": tmp, "ENCLAVE_LLM_URL": "http://127.0.0.1:9/v1", "ENCLAVE_ENV": "test"}
        core = Core(load_settings(env))
        ingestor = Ingestor(core)
        try:
            _pipeline_seconds(ingestor, b"Warm-up: load the models before timing.", "warm-up.txt", 1)
            for name, (data, text) in files.items():
                count = 1 if name in OCR_FORMATS else rounds
                seconds, chunks = _pipeline_seconds(ingestor, data, name, count)
                baseline, text_chunks = _pipeline_seconds(ingestor, text, "same-text.txt", count)
                rows[name] = {
                    "chunks": chunks,
                    "ms_per_file": round(seconds * 1000, 1),
                    "files_per_s": round(1 / seconds, 2),
                    "text_ms": round(baseline * 1000, 1),
                    "text_chunks": text_chunks,
                    "x_text": round(seconds / baseline, 2),
                }
        finally:
            ingestor.manifest.close()
            core.close()
    return rows


def run_formats_bench(rounds: int, out_dir: Path, pipeline_rounds: int = 3) -> dict[str, object]:
    rows: dict[str, dict[str, float]] = {}
    files: dict[str, tuple[bytes, bytes]] = {}
    for name, data in good_files().items():
        if "/" in name:
            continue
        count = 2 if name in OCR_FORMATS else rounds
        text = "\n\n".join(b.text for b in load_document(data, name).blocks).encode()
        files[name] = (data, text)
        seconds = _seconds(data, name, count)
        baseline = _seconds(text, "same-text.txt", count)
        rows[name] = {
            "bytes": len(data),
            "ms_per_file": round(seconds * 1000, 2),
            "text_loader_ms": round(baseline * 1000, 3),
            "x_text_loader": round(seconds / baseline, 1),
        }
    result: dict[str, object] = {"benchmark": "formats", "when": datetime.now(UTC).isoformat(timespec="seconds")}
    result["formats"] = rows
    if pipeline_rounds > 0:
        result["pipeline"] = _pipeline_rows(files, pipeline_rounds)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"formats-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def format_formats(result: dict[str, object]) -> str:
    lines = [f"{'file':16} {'bytes':>8} {'ms/file':>9} {'text loader ms':>15} {'x text':>8}"]
    rows = result["formats"]
    assert isinstance(rows, dict)
    for name, row in rows.items():
        lines.append(
            f"{name:16} {row['bytes']:>8} {row['ms_per_file']:>9.2f} {row['text_loader_ms']:>15.3f}"
            f" {row['x_text_loader']:>8.1f}"
        )
    pipeline = result.get("pipeline")
    if isinstance(pipeline, dict):
        lines.append("")
        lines.append(f"{'whole pipeline':16} {'chunks':>6} {'ms/file':>9} {'files/s':>8} {'text ms':>9} {'x text':>7}")
        for name, row in pipeline.items():
            lines.append(
                f"{name:16} {row['chunks']:>6} {row['ms_per_file']:>9.1f} {row['files_per_s']:>8.2f}"
                f" {row['text_ms']:>9.1f} {row['x_text']:>7.2f}"
            )
    return "\n".join(lines)


def bench(args: argparse.Namespace) -> int:
    print(format_formats(run_formats_bench(args.rounds, args.out, args.pipeline_rounds)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from benchmarks.formats_cli import formats_arguments

    parser = argparse.ArgumentParser(description="per-format ingest throughput")
    formats_arguments(parser)
    return bench(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
