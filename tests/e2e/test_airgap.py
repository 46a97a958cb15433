"""Nothing leaves the machine: ingest, search and ask with outbound connections blocked.

Two independent checks: (1) the CLI runs under an audit hook that refuses and records any
non-loopback connect or DNS lookup (ask included, against the real vLLM on loopback);
(2) ingest and search run inside a fresh network namespace that has only loopback, so even
code below Python's socket layer could not get out. (The rest of the suite runs with
pytest-socket limiting connections to loopback.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, VLLMServer

pytestmark = pytest.mark.e2e

SAMPLES = REPO / "samples" / "corpus"
GUARD = REPO / "tests" / "airgap_guard.py"


def _run(args: list[str], env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), *args], env=env, capture_output=True, text=True, timeout=900, cwd=REPO)


def test_ingest_search_ask_make_no_outbound_connection(vllm: VLLMServer, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "ENCLAVE_DATA_DIR": str(tmp_path / "data"),
        "ENCLAVE_LLM_URL": vllm.url,
        "PYTHONPATH": str(REPO),
    }
    for args in (
        ["ingest", str(SAMPLES), "--collection", "airgap", "--quiet"],
        ["search", "failed sign-in attempts account lockout", "--collection", "airgap", "--json"],
        ["ask", "How many failed sign-in attempts lock my account?", "--collection", "airgap", "--json"],
    ):
        report = tmp_path / "attempts.json"
        result = _run([sys.executable, str(GUARD), str(report), *args], env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(report.read_text()) == [], f"outbound attempts during {args[0]}"


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root and unshare(1)")
def test_ingest_and_search_inside_a_loopback_only_network_namespace(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "ENCLAVE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    enclave = [sys.executable, "-m", "enclave_cli.main"]
    netns = ["unshare", "--net", "--"]
    ingest = _run([*enclave, "ingest", str(SAMPLES), "--collection", "netns", "--quiet"], env, netns)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    search = _run(
        [*enclave, "search", "mileage reimbursement rate for my own car", "--collection", "netns", "--json"], env, netns
    )
    assert search.returncode == 0, search.stderr[-2000:]
    assert json.loads(search.stdout)["citations"]
