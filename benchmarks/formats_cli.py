"""`enclave bench ocr` and `enclave bench formats` (issue 25). Registered on every `enclave` start,
so the benchmark modules (Pillow, the loaders, the format corpus) are imported only when run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_format_bench_parsers", "formats_arguments", "ocr_arguments"]


def _ocr(args: argparse.Namespace) -> int:
    from benchmarks.ocr import bench

    return bench(args)


def _formats(args: argparse.Namespace) -> int:
    from benchmarks.formats import bench

    return bench(args)


def ocr_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pages", type=int, default=4, help="pages per language and condition")
    parser.add_argument("--out", type=Path, default=Path("results"))


def formats_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=20, help="loader-only rounds per file (OCR files: 2)")
    parser.add_argument("--pipeline-rounds", type=int, default=3, help="whole-pipeline rounds (OCR: 1; 0: skip)")
    parser.add_argument("--out", type=Path, default=Path("results"))


def add_format_bench_parsers(subparsers: Any) -> None:
    """Register ``ocr`` and ``formats`` on the ``enclave bench`` subparsers (handler: ``bench_func``)."""
    ocr = subparsers.add_parser("ocr", help="OCR character error rate (English, Japanese) and cost per page")
    ocr_arguments(ocr)
    ocr.set_defaults(bench_func=_ocr)
    formats = subparsers.add_parser("formats", help="per-format ingest throughput (loader and whole pipeline)")
    formats_arguments(formats)
    formats.set_defaults(bench_func=_formats)
