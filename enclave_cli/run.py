"""``enclave run`` (what ``make run`` calls): the whole appliance on one machine, embedded defaults.

Starts the CPU vLLM server (unless one already serves ``llm.url``), ingests the sample
corpus while the model loads, then serves the gateway in the foreground. Ctrl-C stops
both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from enclave_core.runtime import Core
from enclave_core.settings import Settings

__all__ = ["EXAMPLE_QUESTION", "run_appliance"]

JA_SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "corpus_ja"
JA_COLLECTION = "samples-ja"
EXAMPLE_QUESTION = "What is the minimum password length for a standard user account?"  # one SmolLM2 answers


def _say(message: str) -> None:
    print(f"[enclave] {message}", file=sys.stderr, flush=True)


def run_appliance(settings: Settings, sample: Path, collection: str) -> int:
    from enclave_cli.backend import LocalBackend, local_admin_key
    from services.gateway.server import serve
    from services.llm.launch import serving, start_server, stop_server, wait_until_ready

    process: subprocess.Popen[bytes] | None = None
    if serving(settings):
        _say(f"using the LLM already served at {settings.llm.url}")
    else:
        _say(f"starting vLLM (CPU) for '{settings.llm.model}' - log: {settings.logs_dir / 'vllm.log'}")
        process = start_server(settings)
    try:
        # The Japanese sample corpus goes into its own collection, which settings bind to a multilingual model.
        for corpus, name in ((sample, collection), (JA_SAMPLE, JA_COLLECTION)):
            if not corpus.exists():
                continue
            _say(f"ingesting the sample corpus {corpus} into '{name}'")
            backend = LocalBackend(Core(settings))
            try:
                # "*": every authenticated user may read the demo documents.
                report = backend.ingest([corpus], name, ["*"], False, lambda outcome: None)
            finally:
                backend.close()
            _say(f"{report['ingested']} ingested, {report['unchanged']} unchanged, {report['failed']} failed")
        _say("waiting for the LLM server (first start takes a minute or two on a CPU)")
        waited = wait_until_ready(settings, process)
        _say(f"LLM ready after {waited:.0f} s")
        key_file = settings.secrets_dir / "local-admin.key"
        local_admin_key(settings)
        url = settings.gateway_url
        print(
            f"""
Enclave is running at {url}

Chat UI: open {url}/ and sign in with the key in {key_file}
(create keys for users with: .venv/bin/enclave keys create --user NAME --groups GROUP).

Ask a question over the API:

  curl -s {url}/v1/query \\
    -H "Authorization: Bearer $(cat {key_file})" \\
    -H 'Content-Type: application/json' \\
    -d '{{"question": "{EXAMPLE_QUESTION}", "collection": "{collection}"}}'

Or from another terminal: .venv/bin/enclave ask "..." --collection {collection}
The Japanese sample documents are in the collection '{JA_COLLECTION}' (--collection {JA_COLLECTION}).
Prometheus metrics: curl -s {url}/metrics -H "Authorization: Bearer $(cat {key_file})"
Stop with Ctrl-C.
""",
            flush=True,
        )
        serve(settings)
    finally:
        if process is not None:
            _say("stopping vLLM")
            stop_server(process)
    return 0
