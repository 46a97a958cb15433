"""`enclave bench answers`: are the answers right? A labelled question set over samples/corpus/.

The sample corpus is ingested into a fresh data dir (the product's ingest path, redaction on),
then every question goes through ``RagService.answer`` - the code behind ``POST /v1/query`` -
once per prompt profile, interleaved so that machine load hits every profile alike. Scores:

* answer correctness: an answerable question whose answer holds every required fact (numbers
  and units normalised: "sixteen weeks" = "16 weeks", "USD 1,500" = "$1500") and is no refusal;
* refusal correctness: the answer refuses exactly when the documents do not answer;
* citation precision: of the sources an answer cites by number ([1]), the share whose text holds
  the required facts (answerable questions only; ``cited_rate`` says how often anything is cited);
* latency p50/p95 of the whole query (retrieval + generation).

The questions live in ``benchmarks/data/answers/{dev,test}.json``; ``test`` is held out: tune on
``dev``, score ``test`` once. ``--llm-url/--model`` point at any OpenAI-compatible server (a GPU
host's vLLM); without them the local CPU vLLM (SmolLM2-135M) is started and stopped.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.common import percentiles, write_result

__all__ = [
    "DATA_DIR",
    "DEFAULT_VARIANTS",
    "add_answers_parser",
    "format_answers",
    "is_refusal",
    "load_questions",
    "normalise",
    "run_answers_bench",
    "score_answer",
    "variant",
]

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "benchmarks" / "data" / "answers"
CORPUS = REPO / "samples" / "corpus"
DEFAULT_VARIANTS = ("default", "small", "small+evidence")
COLLECTION = "samples"

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0'](?=\d{3}\b)")
_REFUSAL = re.compile(
    r"do(?:es)? not (?:answer|contain|say|mention|provide|specify|include)|don't (?:answer|say|mention)|"
    r"not (?:mentioned|specified|stated|provided|found) in|no (?:information|mention|document)|"
    r"cannot (?:find|answer)|can't (?:find|answer)|unable to (?:find|answer)|no answer",
    re.IGNORECASE,
)
_UNITS = "week|day|month|hour|minute|year|character|block|attempt|monday|tuesday|wednesday|thursday|friday"
_MARKER = re.compile(r"\[(\d{1,2})\]")


def normalise(text: str) -> str:
    """Lower case; number words to digits; no thousands separators; units and currencies spelled one way."""
    t = text.lower().replace("\u2013", "-").replace("\u2014", "-")
    t = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], t)
    t = _THOUSANDS.sub("", t)
    t = re.sub(r"(\d)\s*(?:per ?cent|percent)\b", r"\1%", t)
    t = re.sub(r"(\d)\s+%", r"\1%", t)
    t = re.sub(r"\$\s*(\d)", r"usd \1", t)
    t = re.sub(r"€\s*(\d)", r"eur \1", t)
    t = re.sub(r"(\d)\s*-\s*(week|day|month|hour|minute|year)", r"\1 \2", t)
    t = re.sub(r"\b(\d+)-(\d+)\b", r"\1 \2", t)  # 555-0112 = 555 0112
    t = re.sub(r"(?<=\w)-(?=\w)", " ", t)  # NWL-Secure = nwl secure
    t = re.sub(r"(\d)\.00\b", r"\1", t)
    t = re.sub(r"\b(" + _UNITS + r")s\b", r"\1", t)  # 16 weeks = 16 week, Tuesdays = Tuesday
    return re.sub(r"\s+", " ", t).strip()


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` (normalised) in ``haystack`` (normalised) as whole words/numbers: 16 is not in 160."""
    n = normalise(needle)
    return re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w]|\.\d)", haystack) is not None


def facts_present(text: str, facts: Sequence[Sequence[str]]) -> bool:
    """Every fact (a list of acceptable spellings) is in ``text``."""
    h = normalise(text)
    return all(any(_contains(h, alt) for alt in alts) for alts in facts)


def is_refusal(answer: str) -> bool:
    return _REFUSAL.search(answer) is not None


def score_answer(item: dict[str, Any], answer: str, citations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores of one answer (see the module doc)."""
    refused = is_refusal(answer) or not citations
    answerable = bool(item["answerable"])
    correct = answerable and not refused and facts_present(answer, item["facts"])
    cited = sorted({int(m) for m in _MARKER.findall(answer) if 1 <= int(m) <= len(citations)})
    good = [n for n in cited if facts_present(str(citations[n - 1].get("text", "")), item["facts"])]
    return {
        "refused": refused,
        "refusal_correct": refused == (not answerable),
        "correct": correct,
        "cited": cited,
        "cited_with_facts": good,
    }


class Variant(NamedTuple):
    prompt: str
    evidence: bool
    cached: bool = True  # sentence vectors kept between questions (answers.sentence_vector_cache)


def variant(name: str) -> Variant:
    """``small+evidence`` = the small prompt profile with evidence checks (refusals from retrieval
    evidence, unsupported answers replaced by a quote); ``small+evidence+uncached``: the same with
    every sentence vector computed for every question (the latency baseline of the cache); a bare
    profile name = the model alone."""
    prompt, *extras = name.split("+")
    if extras not in ([], ["evidence"], ["evidence", "uncached"]):
        raise ValueError(f"unknown variant {name!r}: use PROFILE, PROFILE+evidence or PROFILE+evidence+uncached")
    return Variant(prompt, bool(extras), extras != ["evidence", "uncached"])


class TimedLLM:
    """The LLM client with the time spent in it summed up, to split a query's latency into the
    model's and everything else (retrieval, evidence, guard)."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._llm.complete(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def load_questions(splits: Sequence[str], data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for split in splits:
        doc = json.loads((data_dir / f"{split}.json").read_text(encoding="utf-8"))
        out.extend({**q, "split": split} for q in doc["questions"])
    return out


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    cited = sum(len(r["cited"]) for r in answerable)
    good = sum(len(r["cited_with_facts"]) for r in answerable)

    def rate(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    return {
        "questions": len(rows),
        "answer_correctness": rate(sum(r["correct"] for r in answerable), len(answerable)),
        "refusal_correctness": rate(sum(r["refusal_correct"] for r in rows), len(rows)),
        "refusal_recall": rate(sum(r["refused"] for r in unanswerable), len(unanswerable)),
        "false_refusals": rate(sum(r["refused"] for r in answerable), len(answerable)),
        "citation_precision": rate(good, cited),
        "cited_rate": rate(sum(bool(r["cited"]) for r in answerable), len(answerable)),
        "latency": percentiles([r["latency_s"] for r in rows]) if rows else None,
        # Everything but the LLM: retrieval, pseudonymization, evidence, guard.
        "latency_without_llm": percentiles([r["latency_s"] - r.get("llm_s", 0.0) for r in rows]) if rows else None,
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(data_dir: Path, llm_url: str, model: str | None) -> Any:
    from enclave_core.settings import load_settings

    env = {"ENCLAVE_DATA_DIR": str(data_dir), "ENCLAVE_LLM_URL": llm_url, "ENCLAVE_ENV": "test"}
    if model:
        env["ENCLAVE_LLM_MODEL"] = model
    return load_settings(env)


def run_answers_bench(
    out_dir: Path,
    *,
    profiles: Sequence[str] = DEFAULT_VARIANTS,
    splits: Sequence[str] = ("dev",),
    llm_url: str | None = None,
    model: str | None = None,
    limit: int | None = None,
    ids: Sequence[str] | None = None,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Ingest the sample corpus, answer every question with every prompt profile, score, write JSON."""
    from enclave_core.answering import prompt_profile
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.reasoning import profile_for_settings
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from ingest.pipeline import Ingestor, collect_files

    for name in profiles:
        prompt_profile(variant(name).prompt)  # unknown names fail before anything starts
    questions = load_questions(splits)
    if ids:
        questions = [q for q in questions if q["id"] in set(ids)]
    if limit:
        questions = questions[:limit]
    tmp = tempfile.TemporaryDirectory(prefix="enclave-bench-answers-")
    root = data_dir or Path(tmp.name)
    settings = _settings(root, llm_url or f"http://127.0.0.1:{_free_port()}/v1", model)
    server = None
    core = Core(settings)
    try:
        if llm_url is None:
            from services.llm.launch import start_server

            server = start_server(settings)
        files, _ = collect_files([CORPUS])
        ingestor = Ingestor(core)
        try:
            report = ingestor.ingest(files, COLLECTION)
        finally:
            ingestor.manifest.close()
        ingested = report.count("ingested")
        if server is not None:
            from services.llm.launch import wait_until_ready

            wait_until_ready(settings, server)
        rows: dict[str, list[dict[str, Any]]] = {p: [] for p in profiles}
        base = core.settings
        llm = TimedLLM(core.llm)
        core.llm = llm  # type: ignore[assignment]  # the same calls, timed
        for item in questions:
            for name in profiles:
                v = variant(name)
                cache = base.answers.sentence_vector_cache if v.cached else 0
                core.settings = base.model_copy(
                    update={
                        "llm": base.llm.model_copy(update={"prompt_profile": v.prompt}),
                        "answers": base.answers.model_copy(
                            update={"check_evidence": v.evidence, "sentence_vector_cache": cache}
                        ),
                    }
                )
                assert profile_for_settings(core.settings.llm).prompt == v.prompt
                llm.seconds = 0.0
                started = time.perf_counter()
                out = RagService(core, via="cli").answer(LOCAL_ADMIN, COLLECTION, item["question"])
                latency = time.perf_counter() - started
                scores = score_answer(item, out["answer"], out["citations"])
                rows[name].append(
                    {
                        "id": item["id"],
                        "split": item["split"],
                        "answerable": item["answerable"],
                        "question": item["question"],
                        "answer": out["answer"],
                        "sources": [c.get("source") for c in out["citations"]],
                        "grounding": out.get("grounding"),
                        "latency_s": round(latency, 3),
                        "llm_s": round(llm.seconds, 3),
                        **scores,
                    }
                )
        core.settings = base
        result: dict[str, Any] = {
            "llm": {"url": settings.llm.url, "model": settings.llm.model, "max_tokens": settings.llm.max_tokens},
            "splits": list(splits),
            "documents_ingested": ingested,
            "profiles": {
                name: {
                    "summary": summarise(r),
                    "by_split": {s: summarise([x for x in r if x["split"] == s]) for s in splits},
                }
                for name, r in rows.items()
            },
            "answers": rows,
        }
        result["path"] = str(write_result(out_dir, "answers", result))
        return result
    finally:
        core.close()
        if server is not None:
            from services.llm.launch import stop_server

            stop_server(server)
        tmp.cleanup()


def format_answers(result: dict[str, Any]) -> str:
    head = (
        f"{'profile':<20} {'n':>4} {'answer':>7} {'refusal':>8} {'ref.rec':>8} {'cite.P':>7} {'cited':>6} "
        f"{'p50 s':>7} {'p95 s':>7} {'no-LLM p50':>10} {'p95':>6}"
    )
    lines = [f"model {result['llm']['model']} at {result['llm']['url']}; splits {','.join(result['splits'])}", head]

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    groups = [("", "summary")] if len(result["splits"]) == 1 else [(f"{x}:", x) for x in result["splits"]]
    rows = [
        (prefix + name, p["summary"] if key == "summary" else p["by_split"][key])
        for prefix, key in groups
        for name, p in result["profiles"].items()
    ]
    for name, s in rows:
        lat = s["latency"] or {}
        rest = s.get("latency_without_llm") or {}
        lines.append(
            f"{name:<20} {s['questions']:>4} {pct(s['answer_correctness']):>7} {pct(s['refusal_correctness']):>8} "
            f"{pct(s['refusal_recall']):>8} {pct(s['citation_precision']):>7} {pct(s['cited_rate']):>6} "
            f"{lat.get('p50_ms', 0) / 1000:>7.2f} {lat.get('p95_ms', 0) / 1000:>7.2f} "
            f"{rest.get('p50_ms', 0) / 1000:>10.2f} {rest.get('p95_ms', 0) / 1000:>6.2f}"
        )
    lines.append(f"results: {result.get('path')}")
    return "\n".join(lines)


def _answers(args: argparse.Namespace) -> int:
    if args.stages:
        from benchmarks.answer_stages import format_stages, run_stages

        result = run_stages(args.data_dir)
        result["path"] = str(write_result(args.out, "answers-stages", result))
        print(format_stages(result))
        return 0
    if args.calibrate:
        from benchmarks.answer_calibration import calibrate, format_calibration

        result = calibrate(args.answers, data_dir=args.data_dir)
        result["path"] = str(write_result(args.out, "answers-calibration", result))
        print(format_calibration(result))
        return 0
    result = run_answers_bench(
        args.out,
        profiles=args.profiles,
        splits=args.splits,
        llm_url=args.llm_url,
        model=args.model,
        limit=args.limit,
        ids=args.ids,
        data_dir=args.data_dir,
    )
    print(format_answers(result))
    return 0


def add_answers_parser(sub: Any) -> None:
    from enclave_core.answering import PROMPT_PROFILES

    a = sub.add_parser("answers", help="answer correctness, refusals, citations and latency per prompt profile")
    a.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    variants = [f"{p}{x}" for x in ("", "+evidence", "+evidence+uncached") for p in sorted(PROMPT_PROFILES)]
    a.add_argument(
        "--profiles",
        nargs="+",
        default=list(DEFAULT_VARIANTS),
        choices=variants,
        help="prompt profiles, +evidence: with evidence checks; first = baseline (the shipped prompt)",
    )
    a.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the evidence thresholds on the dev questions (no LLM); with --answers: also the support cut",
    )
    a.add_argument("--answers", type=Path, default=None, help="a previous run's results file (for --calibrate)")
    a.add_argument("--stages", action="store_true", help="time each step around the model per dev question (no LLM)")
    a.add_argument("--splits", nargs="+", default=["dev"], choices=["dev", "test"], help="test is held out")
    a.add_argument("--llm-url", default=None, help="an OpenAI-compatible server (default: start the CPU vLLM)")
    a.add_argument("--model", default=None, help="its served model name (default: settings' llm.model)")
    a.add_argument("--limit", type=int, default=None, help="only the first N questions (smoke runs)")
    a.add_argument("--ids", nargs="+", default=None, help="only these question ids")
    a.add_argument(
        "--data-dir", type=Path, default=None, help="reuse this data dir (the corpus is ingested once, then unchanged)"
    )
    a.set_defaults(bench_func=_answers)
