"""`enclave bench ja` (c): Japanese ingest throughput in characters per second, against English in the same run.

``ja_models``: more than one Japanese embedding model is timed in the same run against the same
English figure (e5 and USE multilingual v3: USE is ~12x cheaper per character to embed, measured;
docs/benchmarks.md, Japanese, fifth pass); the first model's ratio is the headline.

Both corpora go through the product's ingest path with the product's settings: loader, redaction,
chunking, embedding (MiniLM for the English collection, the multilingual model that
``embedding.collections`` gives a Japanese collection), BM25 and the store. Characters are those the
loader extracts (block texts), so Japanese (one character per word-piece of meaning) and English are
counted the same way; the ratio, not the absolute figure, is the result, because the machine is shared.
Only text formats are compared (Markdown, plain text, HTML): PDF and DOCX parsing is the same code for
both languages and would only add noise. Each corpus is ingested ``copies`` times under distinct
document ids so that the run is long enough to measure; models are loaded before the clock starts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import BenchCore
from enclave_core.settings import load_settings
from ingest import Ingestor, SourceFile
from ingest.loaders import load_document

__all__ = ["run_ja_ingest"]

TEXT_FORMATS = {".md", ".txt", ".html", ".htm"}
CORPORA = {"en": (Path("samples/corpus"), "bench-en"), "ja": (Path("samples/corpus_ja"), "bench-ja")}
JA_MODEL = "packaged:multilingual-e5-small"


def _files(corpus: Path, copies: int) -> tuple[list[SourceFile], int]:
    files: list[SourceFile] = []
    chars = 0
    for path in sorted(p for p in corpus.iterdir() if p.suffix.lower() in TEXT_FORMATS):
        data = path.read_bytes()
        doc_chars = sum(len(b.text) for b in load_document(data, path.name).blocks)
        for copy in range(copies):
            name = f"copy{copy}-{path.name}"
            files.append(SourceFile(name, data=data, doc_id=name))
            chars += doc_chars
    return files, chars


def run_ja_ingest(copies: int = 3, redact: bool = True, ja_models: Sequence[str] = (JA_MODEL,)) -> dict[str, Any]:
    """English once, then the Japanese corpus once per model in ``ja_models`` (each its own collection)."""
    if not ja_models:
        raise ValueError("ja_models: at least one model")
    runs = {"en": CORPORA["en"]}
    bound = {}
    for i, model in enumerate(ja_models):
        name = "ja" if i == 0 else f"ja:{model.removeprefix('packaged:')}"
        collection = CORPORA["ja"][1] if i == 0 else f"{CORPORA['ja'][1]}-{i + 1}"
        runs[name] = (CORPORA["ja"][0], collection)
        bound[collection] = model
    with tempfile.TemporaryDirectory(prefix="enclave-bench-ja-ingest-") as tmp:
        settings = load_settings({"ENCLAVE_DATA_DIR": tmp})
        embedding = settings.embedding.model_copy(update={"collections": bound})
        core = BenchCore(settings.model_copy(update={"embedding": embedding}))
        try:
            for _, collection in runs.values():
                core.embedders.embedder_for(collection).embed_query("warm up / 準備")
            if redact:
                # Both engines: GiNZA otherwise loads inside the Japanese run's clock.
                core.redactor.warm_up(["en", "ja"])
            ingestor = Ingestor(core)
            rows: dict[str, Any] = {}
            for lang, (corpus, collection) in runs.items():
                files, chars = _files(corpus, copies)
                before = core.stage_seconds()
                report = ingestor.ingest(files, collection, ["bench"], redact=redact)
                stages = {
                    k: round(v - before.get(k, 0.0), 2) for k, v in core.stage_seconds().items() if k != "embedding"
                }
                rows[lang] = {
                    "corpus": str(corpus),
                    "model": core.embedders.embedder_for(collection).model_id,
                    "documents": report.count("ingested"),
                    "failed": [f"{o.source}: {o.error}" for o in report.failed],
                    "chunks": report.chunks,
                    "characters": chars,
                    "seconds": round(report.seconds, 2),
                    "chars_per_s": round(chars / report.seconds, 1),
                    # Where the time went (the rest: loading, chunking, embedding, BM25).
                    "stage_seconds": stages,
                }
        finally:
            core.close()
    return {
        "copies": copies,
        "redaction": redact,
        "corpora": rows,
        "ja_to_en_chars_per_s": round(rows["ja"]["chars_per_s"] / rows["en"]["chars_per_s"], 3),
        "ja_to_en_by_model": {
            r["model"]: round(r["chars_per_s"] / rows["en"]["chars_per_s"], 3) for k, r in rows.items() if k != "en"
        },
    }


def format_ingest(result: dict[str, Any]) -> str:
    lines = [f"{'corpus':8} {'model':28} {'docs':>5} {'chunks':>6} {'chars':>8} {'s':>7} {'chars/s':>9}"]
    for lang, r in result["corpora"].items():
        lines.append(
            f"{lang:8} {r['model']:28} {r['documents']:5d} {r['chunks']:6d} {r['characters']:8d} "
            f"{r['seconds']:7.2f} {r['chars_per_s']:9.1f}"
        )
    for lang, r in result["corpora"].items():
        lines.append(f"{lang}: stages {r['stage_seconds']} (the rest: load, chunk, embed, BM25)")
    for model, ratio in result.get("ja_to_en_by_model", {}).items():
        lines.append(f"Japanese ({model}) / English characters per second: {ratio:.3f}")
    return "\n".join(lines)
