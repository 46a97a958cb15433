"""The command line loads only what a command needs: `enclave --help` without the benchmark
modules or the NLP stack, `enclave bench ...` with them. (A query run in the CLI's own process
loads spaCy and Presidio without PyTorch: enclave_core/redaction/light_import.py and its test.)"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from enclave_core.regex_cache import RegexCache, read_payload, regex_cache_key
from enclave_core.vault import load_vault_key

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("benchmarks", "spacy", "presidio_analyzer", "torch", "transformers", "onnxruntime", "qdrant_client")


def _python(code: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _loaded_after(argv: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The top-level packages imported by ``enclave ARGV`` in a fresh interpreter, and its output."""
    modules, text = _modules_after(argv, env)
    return {m.split(".")[0] for m in modules}, text


def _modules_after(argv: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    code = (
        "import json, sys\n"
        "from enclave_cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\nMODULES=' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = _python(code, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text, _, modules = proc.stdout.rpartition("\nMODULES=")
    return set(json.loads(modules)), text


def test_help_loads_no_benchmark_and_no_nlp_module() -> None:
    top, text = _loaded_after(["--help"])
    assert "bench" in text and "search" in text  # every command is still listed
    assert not top & set(HEAVY), sorted(top & set(HEAVY))


def test_bench_subcommands_are_built_when_asked_for() -> None:
    top, text = _loaded_after(["bench", "gateway", "--help"])
    assert "--concurrency" in text
    assert "benchmarks" in top


def test_a_local_search_loads_no_server_client_and_caches_its_regexes_without_the_deny_list(tmp_path: Path) -> None:
    """`enclave search` without a gateway: qdrant-edge without qdrant-client, no HTTP or LLM client,
    no PyTorch, not spaCy's own command line; the PII analyzer's compiled regexes go to the data
    directory's cache (owner only), and the policy's deny-list term, a person's name, is nowhere in
    that file."""
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    policy = policies / "redaction.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "\ndeny_list: []\n" in text
    policy.write_text(
        text.replace("\ndeny_list: []\n", '\ndeny_list:\n  - entity: PERSON\n    terms: ["Zebulon Quartermain"]\n'),
        encoding="utf-8",
    )
    data = tmp_path / "data"
    env = {"ENCLAVE_DATA_DIR": str(data), "ENCLAVE_POLICIES_DIR": str(policies)}
    argv = ["search", "Where does Zebulon Quartermain live?", "--collection", "nothing", "--json"]
    top, _ = _loaded_after(argv, env)
    assert "presidio_analyzer" in top  # the question was pseudonymized: the analyzer was built
    unwanted = {"qdrant_client", "httpx", "openai", "torch", "transformers", "typer", "weasel", "benchmarks", "ingest"}
    assert not top & unwanted, sorted(top & unwanted)
    cache = data / "cache" / "regex-compiled.bin"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    key = regex_cache_key(load_vault_key(None, data / "secrets" / "vault.key", create=False))
    assert len(RegexCache(cache, lambda pattern: False, key=key)._entries) > 50  # the recognizers' patterns
    assert b"quartermain" not in read_payload(cache).lower()


def test_listing_collections_opens_the_embedded_store_without_any_model() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as data:
        modules, text = _modules_after(["collections", "--json"], {"ENCLAVE_DATA_DIR": data})
    assert '"collections": []' in text
    assert "qdrant_edge" in modules
    unwanted = {"qdrant_client", "httpx", "spacy", "presidio_analyzer", "onnxruntime", "torch", "enclave_core.planning"}
    assert not modules & unwanted, sorted(modules & unwanted)
