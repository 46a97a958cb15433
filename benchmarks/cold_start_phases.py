"""Where a cold local `enclave search` / `enclave ask` spends its time, phase by phase (wall and CPU).

Run in a fresh interpreter (``python -m benchmarks.cold_start_phases search|ask COLLECTION QUESTION``,
``ENCLAVE_DATA_DIR`` set): it does what ``cmd_search`` / ``cmd_ask`` do through ``LocalBackend``, in the
same order, with a clock and the process's CPU time read between the phases, and prints one JSON
object. `enclave bench cold-start --phases` runs it next to the whole-command timings. `ask` is timed
up to the model's answer: with no LLM serving, the refusal of the LLM call ends the last phase.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

__all__ = ["main"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Clock:
    def __init__(self) -> None:
        self.start = self.wall = time.perf_counter()
        self.cpu = _cpu()
        self.phases: list[dict[str, Any]] = []

    def mark(self, name: str) -> None:
        wall, cpu = time.perf_counter(), _cpu()
        self.phases.append({"phase": name, "wall_s": round(wall - self.wall, 3), "cpu_s": round(cpu - self.cpu, 3)})
        self.wall, self.cpu = wall, cpu


def main(argv: list[str]) -> dict[str, Any]:
    command, collection, question = argv
    clock = _Clock()
    import enclave_cli.main  # noqa: F401  (what `enclave` imports before it parses the command line)

    clock.mark("import enclave_cli.main")
    from enclave_core.settings import load_settings

    settings = load_settings()
    clock.mark("settings")
    from enclave_cli.backend import LocalBackend
    from enclave_core.runtime import Core

    clock.mark("import backend (services, runtime)")
    core = Core(settings)
    backend = LocalBackend(core)
    clock.mark("Core + open the store")
    backend._cache_compiles()
    clock.mark("redaction policy, regex cache file")
    from enclave_core.redaction.light_import import import_presidio

    import_presidio()
    clock.mark("import Presidio and spaCy")
    core.redactor.redact(question)  # the analyzer as the question needs it (spaCy load, recognizers)
    clock.mark("PII analyzer: build, first question")
    core.embedders.check(collection).embed_query(question)  # the collection's model, as retrieval gets it
    clock.mark("embedder: ONNX session, tokenizer, first run")
    outcome = "ok"
    try:
        if command == "search":
            backend.search(question, collection, None, None)
            clock.mark("search: pseudonymize, retrieve, audit")
        else:
            core.llm  # noqa: B018  (the OpenAI client and its import)
            clock.mark("LLM client (openai import)")
            backend.ask(question, collection, None)
            clock.mark("ask: retrieve, evidence, LLM call")
    except Exception as exc:  # no LLM serving: the phase ends at the refused call
        outcome = exc.__class__.__name__
        clock.mark(f"{command}: up to the LLM call (refused: {outcome})")
    backend.close()
    clock.mark("close (regex cache written, store closed)")
    total = {"wall_s": round(time.perf_counter() - clock.start, 3), "cpu_s": round(_cpu(), 3)}
    return {"command": command, "outcome": outcome, "phases": clock.phases, "total": total}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
