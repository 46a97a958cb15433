"""`enclave sync` under the air-gap guard (tests/airgap_guard.py): the crawler, fed pages that link
to the internet and to another name of the same server, contacts only its configured loopback
host; and the guard does see the crawler's sockets (a configured non-loopback host is recorded
and refused, and that sync reports its listing incomplete instead of deleting anything)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.integration.test_connector_web import site  # noqa: F401 - the local site fixture

GUARD = REPO / "tests" / "airgap_guard.py"

POLICY = """
version: 1
collections:
  intranet:
    connectors:
      - {{name: wiki, type: web, start_urls: ["{base}/"], allowed_hosts: ["127.0.0.1"], readers: [staff]}}
  elsewhere:
    connectors:
      - {{name: remote, type: web, start_urls: ["http://10.255.255.1/"], allowed_hosts: ["10.255.255.1"], readers: [x]}}
"""


def _sync(tmp_path: Path, collection: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "ENCLAVE_DATA_DIR": str(tmp_path / "data"),
        "ENCLAVE_POLICIES_DIR": str(tmp_path / "policies"),
        "ENCLAVE_ENV": "test",
    }
    report = tmp_path / f"attempts-{collection}.json"
    args = [sys.executable, str(GUARD), str(report), "sync", collection, "--json"]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    return result, json.loads(report.read_text())


def test_the_crawler_stays_inside_the_air_gap(site: tuple[str, Path, list[tuple[str, str]]], tmp_path: Path) -> None:  # noqa: F811
    base, _, requests = site
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    (tmp_path / "policies" / "connectors.yaml").write_text(POLICY.format(base=base), encoding="utf-8")

    result, attempts = _sync(tmp_path, "intranet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert attempts == []
    assert json.loads(result.stdout.splitlines()[0])["added"] == 4
    assert {host for host, _ in requests} == {base.removeprefix("http://")}

    result, attempts = _sync(tmp_path, "elsewhere")
    assert any("10.255.255.1" in attempt for attempt in attempts)  # seen and refused by the guard
    remote = json.loads(result.stdout.splitlines()[0])
    assert remote["deletions_skipped"] and remote["added"] == 0
