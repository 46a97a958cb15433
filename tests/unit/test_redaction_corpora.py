"""No planted PII survives redaction of our three development corpora (real loaders + redact_many).

``samples/corpus/`` (manifest ``samples/corpus_manifest.yaml``), ``tests/fixtures/eval_corpus/``
and ``tests/fixtures/internal_corpus/`` (each with its ``manifest.yaml``) hold fictional people,
addresses and identifiers planted in Markdown, text, HTML, PDF and DOCX files; the third one
in the shapes an independent review found leaking (internal e-mail domains, staff numbers,
dates of birth, other countries' national ids, chat and log records). Each file goes through
``ingest.loaders.load_document`` and then ``Redactor.redact_many`` over exactly what the ingest
pipeline redacts (title, blocks, headings). No planted value may remain: neither whole, nor,
for a person's name, any first + last token pair ("Marcus ... Oyelaran" across a line break
or in "Oyelaran, Marcus" counts as a leak too).

These corpora are development checks, not the benchmark: the recognizers are general (name
lists from Faker, capitalisation patterns, address shapes), nothing here is special-cased.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
from ingest.loaders import load_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
EVAL = ROOT / "tests" / "fixtures" / "eval_corpus"
INTERNAL = ROOT / "tests" / "fixtures" / "internal_corpus"


def _samples_manifest() -> dict[Path, list[str]]:
    data = yaml.safe_load((SAMPLES / "corpus_manifest.yaml").read_text(encoding="utf-8"))
    return {SAMPLES / "corpus" / d["file"]: [str(v) for v in d["pii"]] for d in data["documents"]}


def _folder_manifest(folder: Path) -> dict[Path, list[str]]:
    data = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    return {folder / name: [str(v) for v in values] for name, values in data["documents"].items()}


CORPORA = {
    "samples": _samples_manifest,
    "eval_corpus": lambda: _folder_manifest(EVAL),
    "internal_corpus": lambda: _folder_manifest(INTERNAL),
}
_NAME = re.compile(r"^[A-ZÀ-Þ][\w'’-]+(?: [A-ZÀ-Þ][\w'’.-]*)+$")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    r.warm_up()
    return r


def _redacted_texts(redactor: Redactor, path: Path) -> str:
    """What ingest stores for one file: its title, blocks and headings, redacted in one batch."""
    doc = load_document(path.read_bytes(), path.name)
    texts = [doc.title, *(b.text for b in doc.blocks), *sorted({b.heading for b in doc.blocks if b.heading})]
    return "\n".join(r.text for r in redactor.redact_many(texts))


def _leaks(text: str, values: list[str]) -> list[str]:
    folded = " ".join(text.split()).casefold()
    leaked = []
    for value in values:
        if " ".join(value.split()).casefold() in folded:
            leaked.append(value)
            continue
        if "@" in value or any(ch.isdigit() for ch in value) or not _NAME.match(value):
            continue
        # A person's name: first and last token must not both survive near each other.
        first, last = value.split()[0], value.split()[-1]
        pattern = rf"\b{re.escape(first)}\b\W{{1,3}}(?:\w+\W{{1,3}}){{0,2}}{re.escape(last)}\b"
        reverse = rf"\b{re.escape(last)}\b\W{{1,3}}{re.escape(first)}\b"
        if re.search(pattern, text, re.IGNORECASE) or re.search(reverse, text, re.IGNORECASE):
            leaked.append(value)
    return leaked


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_manifests_match_the_files(corpus: str) -> None:
    """Every planted value is really in its file's extracted text (else the check below is vacuous)."""
    for path, values in CORPORA[corpus]().items():
        doc = load_document(path.read_bytes(), path.name)
        text = "\n".join([doc.title, *(b.text for b in doc.blocks), *(b.heading or "" for b in doc.blocks)])
        flat = " ".join(text.split())
        missing = [v for v in values if " ".join(v.split()) not in flat]
        assert not missing, f"{path.name}: manifest values not found in the extracted text: {missing}"


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_no_planted_value_survives_redaction(redactor: Redactor, corpus: str) -> None:
    failures = {}
    for path, values in CORPORA[corpus]().items():
        leaked = _leaks(_redacted_texts(redactor, path), values)
        if leaked:
            failures[path.name] = leaked
    assert not failures, f"planted PII left in plaintext after redaction: {failures}"


def test_leak_check_catches_split_and_reversed_names() -> None:
    values = ["Marcus Oyelaran", "(206) 555-0143"]
    assert _leaks("ask Marcus\nOyelaran today", values) == ["Marcus Oyelaran"]
    assert _leaks("Oyelaran, Marcus", values) == ["Marcus Oyelaran"]
    assert _leaks("call (206)  555-0143", values) == ["(206) 555-0143"]
    assert _leaks("ask <PERSON> at <PHONE_NUMBER>", values) == []
