"""`enclave bench ...` subcommands; `python -m benchmarks.cli` runs them standalone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["add_bench_parser", "main"]

DEFAULT_OUT = Path("results")


def _retrieval(args: argparse.Namespace) -> int:
    from benchmarks.retrieval import format_table, run_queries_only, run_retrieval_bench

    fusion = {
        key: value
        for key, value in (
            ("fusion", args.fusion),
            ("rrf_k", args.rrf_k),
            ("dense_weight", args.dense_weight),
            ("sparse_weight", args.sparse_weight),
        )
        if value is not None
    }
    if args.reuse_data is not None:
        out = run_queries_only(
            args.dataset,
            args.out,
            args.reuse_data,
            args.modes,
            splits=args.splits,
            engine=args.engine,
            candidates=args.candidates,
            **fusion,
        )
        print(format_table(out))
        return 0
    redact = {"on": True, "off": False, "both": None}[args.redaction]
    result = run_retrieval_bench(
        args.dataset,
        args.out,
        modes=args.modes,
        redact=redact,
        splits=args.splits,
        engine=args.engine,
        candidates=args.candidates,
        limit_docs=args.limit_docs,
        baseline_sample=args.baseline_sample or None,
        keep_data=args.keep_data,
        dump_dir=args.dump_dir,
    )
    print(format_table(result))
    return 0


def _tune(args: argparse.Namespace) -> int:
    from benchmarks.tuning import format_tuning, run_store_tuning, run_tuning

    if args.store_copy is not None:
        k1, b, avg_len = args.bm25
        out = run_store_tuning(
            args.dataset, args.out, args.store_copy, not args.no_stem, not args.no_stopwords, k1, b, avg_len
        )
        print(json.dumps({k: out[k] for k in ("bm25", "chosen", "test", "path")}, indent=2))
        return 0
    result = run_tuning(args.dataset, args.out, dump=args.dump)
    print(format_tuning(result))
    return 0


def _store(args: argparse.Namespace) -> int:
    from benchmarks.store import format_store, run_store_bench

    result = run_store_bench(
        args.out, n_points=args.points, queries=args.queries, engines=args.engines, local_queries=args.local_queries
    )
    print(format_store(result))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from benchmarks.ingest_speed import format_ingest, run_ingest_bench

    result = run_ingest_bench(
        args.dataset, args.out, args.n, variants=args.variants, profile=not args.no_profile, quality=args.quality
    )
    print(format_ingest(result))
    return 0


def _cold_start(args: argparse.Namespace) -> int:
    from benchmarks.cold_start import format_cold_start, run_cold_start

    result = run_cold_start(
        args.data_dir, args.collection, args.question, args.out, args.runs, args.compare_tree, phases=args.phases
    )
    print(format_cold_start(result))
    return 0


def _ja(args: argparse.Namespace) -> int:
    from benchmarks.common import write_result
    from benchmarks.ja_ingest import format_ingest, run_ja_ingest
    from benchmarks.ja_retrieval import format_quality, run_ja_quality

    result: dict[str, Any] = {}
    if args.models:
        result["retrieval"] = run_ja_quality(args.models, redact=args.redaction == "on", grid=not args.no_grid)
        print(format_quality(result["retrieval"]))
    if args.copies:
        result["ingest"] = run_ja_ingest(args.copies, redact=args.redaction == "on", ja_models=args.ja_models)
        print(format_ingest(result["ingest"]))
    print(f"results: {write_result(args.out, 'ja', result)}")
    return 0


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `bench retrieval`, `bench tune` and `bench store` on an argparse subparsers object."""
    bench = subparsers.add_parser("bench", help="benchmarks (results go to a JSON file under --out)")
    # enclave_cli.main dispatches with func(args, settings); benchmarks build their own settings
    # (a throwaway data dir), so the product settings are not used.
    bench.set_defaults(func=lambda args, _settings: run_bench(args))
    sub = bench.add_subparsers(dest="bench_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (default: results/)")

    r = sub.add_parser("retrieval", help="SciFact through the real ingest and search paths")
    common(r)
    r.add_argument("--dataset", type=Path, required=True, help="BEIR folder (corpus.jsonl.gz, queries, qrels/)")
    r.add_argument("--modes", nargs="+", default=["dense", "sparse", "hybrid"], choices=["dense", "sparse", "hybrid"])
    r.add_argument("--redaction", choices=["on", "off", "both"], default="both")
    r.add_argument("--splits", nargs="+", default=["test"], help="qrels splits to score (tune on train only)")
    r.add_argument(
        "--engine", choices=["local", "edge"], default="edge", help="embedded store engine (product default: edge)"
    )
    r.add_argument("--candidates", type=int, default=200, help="chunks per retriever (recall@100 needs > 100)")
    r.add_argument("--limit-docs", type=int, default=None, help="ingest only the first N documents (smoke runs)")
    r.add_argument(
        "--baseline-sample", type=int, default=2000, help="chunks re-embedded for the pure-embedding baseline (0: all)"
    )
    r.add_argument("--keep-data", action="store_true", help="keep the ingested data dir (for --reuse-data)")
    r.add_argument("--reuse-data", type=Path, default=None, help="query an already ingested data dir (no ingest)")
    r.add_argument("--fusion", choices=["zscore", "rrf"], default=None, help="override retrieval.fusion")
    r.add_argument("--rrf-k", type=int, default=None)
    r.add_argument("--dense-weight", type=float, default=None)
    r.add_argument("--sparse-weight", type=float, default=None)
    r.add_argument("--dump-dir", type=Path, default=None, help="also dump train candidate lists for offline tuning")
    r.set_defaults(bench_func=_retrieval)

    t = sub.add_parser("tune", help="tune BM25 and fusion on qrels/train.tsv only")
    common(t)
    t.add_argument("--dataset", type=Path, required=True)
    t.add_argument("--dump", type=Path, default=None, help="train candidate lists from `bench retrieval --dump-dir`")
    t.add_argument("--store-copy", type=Path, default=None, help="copy of an ingested embedded store (qdrant dir)")
    t.add_argument("--bm25", type=float, nargs=3, default=(1.2, 0.75, 120.0), metavar=("K1", "B", "AVG_LEN"))
    t.add_argument("--no-stem", action="store_true")
    t.add_argument("--no-stopwords", action="store_true")
    t.set_defaults(bench_func=_tune)

    s = sub.add_parser("store", help="filtered hybrid query latency at scale (synthetic vectors)")
    common(s)
    s.add_argument("--points", type=int, default=100_000)
    s.add_argument("--queries", type=int, default=200)
    s.add_argument("--local-queries", type=int, default=10, help="queries for local mode (~1 s each at 100k)")
    s.add_argument("--engines", nargs="+", default=["edge", "local"], choices=["edge", "local"])
    s.set_defaults(bench_func=_store)

    i = sub.add_parser("ingest", help="`enclave ingest` vs a naive LlamaIndex pipeline, whole processes timed")
    common(i)
    i.add_argument("--dataset", type=Path, required=True, help="BEIR SciFact folder")
    i.add_argument("--n", type=int, default=1000, help="abstracts to ingest (default 1000)")
    i.add_argument(
        "--variants",
        nargs="+",
        default=["product"],
        choices=["product", "torch", "onnx-int8", "float32", "in-process"],
        help="configurations of `enclave ingest` to time in the same run (first one is profiled)",
    )
    i.add_argument("--no-profile", action="store_true", help="skip the cProfile pass of `enclave ingest`")
    i.add_argument("--quality", action="store_true", help="also SciFact nDCG@10 with redaction on (whole corpus)")
    i.set_defaults(bench_func=_ingest)

    c = sub.add_parser("cold-start", help="`enclave search` in a fresh process (no gateway): wall time")
    common(c)
    c.add_argument("--data-dir", type=Path, required=True, help="an ingested data directory")
    c.add_argument("--collection", required=True)
    c.add_argument("--question", default="How long is the notice period?")
    c.add_argument("--runs", type=int, default=3)
    c.add_argument(
        "--compare-tree", type=Path, action="append", help="another checkout to time interleaved (repeatable)"
    )
    c.add_argument("--phases", action="store_true", help="also time a cold search and ask phase by phase")
    c.set_defaults(bench_func=_cold_start)

    j = sub.add_parser("ja", help="Japanese retrieval quality (sample corpus) and ingest speed against English")
    common(j)
    j.add_argument(
        "--models",
        nargs="*",
        default=["multilingual-e5-small", "use-multilingual-v3", "all-MiniLM-L6-v2"],
        help="embedding models to compare (none: skip retrieval quality)",
    )
    j.add_argument("--redaction", choices=["on", "off"], default="on")
    j.add_argument("--no-grid", action="store_true", help="skip the fusion-weight comparison on the dev half")
    j.add_argument("--copies", type=int, default=3, help="copies of each corpus for ingest speed (0: skip)")
    j.add_argument(
        "--ja-models",
        nargs="+",
        default=["packaged:multilingual-e5-small"],
        help="Japanese embedding models timed for ingest speed, same run (e.g. also packaged:use-multilingual-v3)",
    )
    j.set_defaults(bench_func=_ja)

    from benchmarks.answers import add_answers_parser
    from benchmarks.formats_cli import add_format_bench_parsers
    from benchmarks.gateway import add_gateway_parser
    from benchmarks.load import add_load_parser
    from benchmarks.pii import add_pii_parser
    from benchmarks.pii_ja import add_ja_pii_parser
    from benchmarks.search_under_ingest import add_search_under_ingest_parser

    add_answers_parser(sub)
    add_pii_parser(sub)
    add_ja_pii_parser(sub)
    add_load_parser(sub)
    add_search_under_ingest_parser(sub)  # search latency during a bulk upload, per ingest.worker mode
    add_format_bench_parsers(sub)  # ocr | formats (issue 25)
    add_gateway_parser(sub)  # search and streamed answers through the gateway vs in-process / vLLM
    return bench


def run_bench(args: argparse.Namespace) -> int:
    """Dispatch a parsed `bench ...` command line."""
    return int(args.bench_func(args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run_bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
