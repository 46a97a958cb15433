"""`enclave bench ja` (c): Japanese ingest throughput in characters per second, against English in the same run.

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


def run_ja_ingest(copies: int = 3, redact: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="enclave-bench-ja-ingest-") as tmp:
        settings = load_settings({"ENCLAVE_DATA_DIR": tmp})
        embedding = settings.embedding.model_copy(update={"collections": {"bench-ja": JA_MODEL}})
        core = BenchCore(settings.model_copy(update={"embedding": embedding}))
        try:
            for _, collection in CORPORA.values():
                core.embedders.embedder_for(collection).embed_query("warm up / 準備")
            if redact:
                # Both engines: GiNZA otherwise loads inside the Japanese run's clock.
                core.redactor.warm_up(["en", "ja"])
            ingestor = Ingestor(core)
            rows: dict[str, Any] = {}
            for lang, (corpus, collection) in CORPORA.items():
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
    lines.append(f"Japanese / English characters per second: {result['ja_to_en_chars_per_s']:.3f}")
    return "\n".join(lines)
