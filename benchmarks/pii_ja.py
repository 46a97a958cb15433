"""Japanese PII detection benchmark (issue 21, part b): our synthetic ja_JP set through the Redactor.

    make bench-ja-pii          (= .venv/bin/enclave bench ja-pii)
    .venv/bin/python -m benchmarks.pii_ja [--sets dev unseen] [--out results]

Two detectors on the same texts in the same run:

- ``vanilla_presidio_ginza``: Presidio's ``AnalyzerEngine`` with a ``ja_ginza`` spaCy NLP engine, its
  default NER configuration and the predefined recognizers it registers for "ja", threshold 0.4;
- ``enclave``: ``Redactor.detect_many`` with ``policies/redaction.yaml`` (languages [en, ja]).

Scoring: ``benchmarks.pii.genre_scores`` (label-agnostic, ../shared/bench/README.md: share of PII
characters removed, recall with >= 75 % of a value's characters, precision with >= 50 % inside a gold
span, plus redactions in passages without personal data). ``dev`` shapes were used while writing the
recognizers; ``unseen`` shapes never were (``benchmarks/pii_ja_data.py``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.pii import Pred, genre_scores
from benchmarks.pii_genres import load_passages
from benchmarks.pii_ja_data import DATA_DIR

__all__ = ["add_ja_pii_parser", "format_ja_pii", "main", "run_ja_pii_bench"]

DEFAULT_OUT = Path("results")


class _VanillaGinza:
    name = "vanilla_presidio_ginza"

    def __init__(self) -> None:
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        provider = NlpEngineProvider(
            nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "ja", "model_name": "ja_ginza"}]}
        )
        analyzer = AnalyzerEngine(
            nlp_engine=provider.create_engine(), supported_languages=["ja"], default_score_threshold=0.4
        )
        self.batch = BatchAnalyzerEngine(analyzer_engine=analyzer)

    def detect(self, texts: Sequence[str]) -> list[list[Pred]]:
        results = self.batch.analyze_iterator(texts=list(texts), language="ja", score_threshold=0.4)
        return [[(r.start, r.end, r.entity_type, r.score) for r in found] for found in results]


class _Enclave:
    name = "enclave"

    def __init__(self, policy: Path) -> None:
        from enclave_core.redaction import Redactor

        self.redactor = Redactor.from_policy_file(policy)
        self.redactor.warm_up(["en", "ja"])

    def detect(self, texts: Sequence[str]) -> list[list[Pred]]:
        return [
            [(d.start, d.end, d.entity, d.score) for d in found] for found in self.redactor.detect_many(list(texts))
        ]


def run_ja_pii_bench(sets: Sequence[str], out_dir: Path, policy: Path | None = None) -> dict[str, Any]:
    from enclave_core.policy.loader import policies_dir

    policy = policy or policies_dir() / "redaction.yaml"
    detectors: list[_VanillaGinza | _Enclave] = [_VanillaGinza(), _Enclave(policy)]
    result: dict[str, Any] = {
        "benchmark": "pii_ja",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "policy": str(policy),
        "sets": {},
    }
    for name in sets:
        records = load_passages(DATA_DIR / f"{name}.txt")
        texts = [r["full_text"] for r in records]
        chars = sum(len(t) for t in texts)
        entry: dict[str, Any] = {"passages": len(records), "chars": chars}
        for det in detectors:
            start = time.perf_counter()
            preds = det.detect(texts)
            seconds = time.perf_counter() - start
            scores = genre_scores(records, preds)
            scores["chars_per_s"] = round(chars / seconds, 1)
            entry[det.name] = scores
        result["sets"][name] = entry
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"pii-ja-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    result["written"] = str(path)
    return result


def format_ja_pii(result: dict[str, Any]) -> str:
    lines = [f"{'set / detector':34} chars rm  recall precis. redact. no-PII red.  chars/s"]
    for name, entry in result["sets"].items():
        for det in ("vanilla_presidio_ginza", "enclave"):
            m = entry[det]
            lines.append(
                f"{name + ' / ' + det:34} {m['chars_removed_share']:8.3f} {m['recall']:7.3f} {m['precision']:7.3f} "
                f"{m['redactions']:7d} {m['redactions_in_no_pii_passages']:11d} {m['chars_per_s']:8.0f}"
            )
        rec = entry["enclave"]["recall_by_type"]
        lines.append(f"  enclave recall by type ({name}): " + ", ".join(f"{t} {v:.3f}" for t, v in rec.items()))
    lines.append(f"written: {result['written']}")
    return "\n".join(lines)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=["dev", "unseen"], choices=["dev", "unseen"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (default: results/)")
    parser.add_argument("--policy", type=Path, default=None, help="redaction policy (default: the shipped one)")


def _run(args: argparse.Namespace) -> int:
    print(format_ja_pii(run_ja_pii_bench(args.sets, args.out, args.policy)))
    return 0


def add_ja_pii_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ja-pii`` on the ``bench`` subparsers object (``enclave bench ja-pii``)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "ja-pii", help="Japanese PII detection: synthetic ja_JP set, vanilla Presidio+GiNZA side by side"
    )
    _add_arguments(p)
    p.set_defaults(bench_func=_run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pii_ja")
    _add_arguments(parser)
    return _run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
