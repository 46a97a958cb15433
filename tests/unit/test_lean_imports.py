"""spaCy's command line stays out of a redacting CLI command, and still works when something uses it
(enclave_cli/lean_imports.py). In a subprocess: the stand-ins live in sys.modules and sys.meta_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from enclave_cli.lean_imports import defer_spacy_cli
first, again = defer_spacy_cli(), defer_spacy_cli()
import spacy
nlp = spacy.blank("en")
words = [t.text for t in nlp("Hello there, world")]
before = sorted(m for m in ("typer", "weasel", "httpx", "spacy.cli.download") if m in sys.modules)
download = spacy.cli.download  # a use: the real package is imported now
info = spacy.info()  # spaCy's re-export works too
print(json.dumps({
    "first": first, "again": again, "words": words, "before": before,
    "download": f"{download.__module__}.{download.__name__}",
    "real": not getattr(sys.modules["spacy.cli"], "__enclave_stand_in__", False),
    "info": sorted(info)[:3],
}))
"""


def test_spacy_cli_is_imported_only_when_used() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["first"], out["again"]) == (True, False)
    assert out["words"] == ["Hello", "there", ",", "world"]
    assert out["before"] == []  # nothing of spaCy's command line while only the pipeline ran
    assert out["download"] == "spacy.cli.download.download"
    assert out["real"] is True
    assert out["info"]


def test_nothing_is_deferred_once_spacy_is_imported() -> None:
    import spacy  # noqa: F401  (this test process may have it already; make sure)

    from enclave_cli.lean_imports import defer_spacy_cli

    assert defer_spacy_cli() is False
