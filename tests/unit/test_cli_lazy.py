"""The command line loads only what a command needs: `enclave --help` without the benchmark
modules or the NLP stack, `enclave bench ...` with them. (A query run in the CLI's own process
loads spaCy and Presidio without PyTorch: enclave_core/redaction/light_import.py and its test.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("benchmarks", "spacy", "presidio_analyzer", "torch", "transformers", "onnxruntime", "qdrant_client")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _loaded_after(argv: list[str]) -> tuple[set[str], str]:
    code = (
        "import json, sys\n"
        "from enclave_cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\nMODULES=' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text, _, modules = proc.stdout.rpartition("\nMODULES=")
    return {m.split(".")[0] for m in json.loads(modules)}, text


def test_help_loads_no_benchmark_and_no_nlp_module() -> None:
    top, text = _loaded_after(["--help"])
    assert "bench" in text and "search" in text  # every command is still listed
    assert not top & set(HEAVY), sorted(top & set(HEAVY))


def test_bench_subcommands_are_built_when_asked_for() -> None:
    top, text = _loaded_after(["bench", "gateway", "--help"])
    assert "--concurrency" in text
    assert "benchmarks" in top
