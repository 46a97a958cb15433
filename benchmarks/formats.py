"""Per-format loader throughput on the generated format corpus (tests/fixtures/format_corpus.py).

Times ingest.loaders.load_document alone (parsing, no redaction or embedding, which cost the
same per chunk whatever the format) for each good file, repeated, against the plain-text
loader on the same file's extracted text in the same run. OCR formats run once per round.

    .venv/bin/python -m benchmarks.formats [--rounds 20] [--out results]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from ingest.loaders import load_document
from tests.fixtures.format_corpus import good_files

__all__ = ["main", "run_formats_bench"]

OCR_FORMATS = {"scan.pdf", "photo.png", "photo.jpg", "fax.tiff"}


def _seconds(data: bytes, name: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        load_document(data, name)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_formats_bench(rounds: int, out_dir: Path) -> dict[str, object]:
    rows: dict[str, dict[str, float]] = {}
    for name, data in good_files().items():
        if "/" in name:
            continue
        count = 2 if name in OCR_FORMATS else rounds
        text = "\n\n".join(b.text for b in load_document(data, name).blocks).encode()
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
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="per-format loader throughput")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    print(format_formats(run_formats_bench(args.rounds, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
