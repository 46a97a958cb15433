"""kill -9 at every stage of a document's write, then rerun: the store ends exactly as after a
clean run (same point ids and payloads, no duplicates, no gaps, no orphaned points), and the
manifest has no half-finished document. The process is really killed (SIGKILL from a failpoint
at an exact place in the write sequence), for the CLI and for a gateway job."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_core.keys import KeyStore
from enclave_core.vectorstore import build_store
from tests.conftest import REPO, free_port, make_settings

CORPUS = REPO / "samples" / "corpus"
STAGES = ["ingest.after_begin", "ingest.after_upsert", "ingest.after_delete", "ingest.after_commit"]


# Document and point ids are keyed with the data key: the clean run and the crashed runs use the
# same key, so that their stores can be compared point by point.
DATA_KEY = "uPYo5Q2Ex0bV6xqGm1vE2rJ8cW3nK4hT9aL7sD0fZ1k="


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "ENCLAVE_DATA_DIR": str(data),
        "PYTHONPATH": str(REPO),
        "ENCLAVE_VAULT_KEY": DATA_KEY,
        **extra,
    }
    if engine := os.environ.get("ENCLAVE_TEST_EMBEDDED_ENGINE"):
        env["ENCLAVE_VECTOR_STORE__EMBEDDED_ENGINE"] = engine
    return env


def _ingest(data: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "enclave_cli.main", "ingest", str(CORPUS), "--collection", "crash", "--quiet"]
    return subprocess.run(cmd, env=_env(data, **extra), capture_output=True, text=True, timeout=600, cwd=REPO)


def snapshot(data: Path, collection: str = "crash") -> dict[str, dict[str, Any]]:
    store = build_store(make_settings(data))  # the engine the CLI chose for this data directory
    try:
        return {p.id: {k: v for k, v in p.payload.items() if k != "ingested_at"} for p in store.iter_points(collection)}
    finally:
        store.close()


def pending_rows(data: Path) -> int:
    with sqlite3.connect(data / "state" / "ingest.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    data = tmp_path_factory.mktemp("clean") / "data"
    result = _ingest(data)
    assert result.returncode == 0, result.stderr[-2000:]
    points = snapshot(data)
    assert len(points) > 10, "the clean ingest stored nothing: the snapshot reads the wrong store"
    return points


# The detection in child processes (ingest/analysis_pool.py, used for big jobs) forced on for the corpus.
POOLED = {"ENCLAVE_INGEST__ANALYSIS_MIN_FILES": "1", "ENCLAVE_INGEST__ANALYSIS_PROCESSES": "1"}


@pytest.mark.parametrize("analysis", [{}, POOLED], ids=["in-process", "analysis-children"])
def test_cli_killed_at_each_stage_in_turn_resumes_to_the_clean_state(
    clean: dict[str, Any], tmp_path: Path, analysis: dict[str, str]
) -> None:
    """Each run is killed at the next stage, on its second document; every run but the first
    therefore starts by resuming a document the previous run left at a different stage."""
    data = tmp_path / "data"
    for stage in STAGES:
        killed = _ingest(data, ENCLAVE_FAILPOINTS=f"{stage}:2", **analysis)
        assert killed.returncode == -signal.SIGKILL, (stage, killed.stderr[-2000:])
        partial = snapshot(data)
        assert set(partial) <= set(clean) | _pending_ids(data), stage  # nothing foreign, only in-flight
    assert len(snapshot(data)) < len(clean)
    resumed = _ingest(data, **analysis)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert snapshot(data) == clean
    assert pending_rows(data) == 0


def _pending_ids(data: Path) -> set[str]:
    import json

    with sqlite3.connect(data / "state" / "ingest.sqlite") as db:
        rows = db.execute("SELECT chunk_ids FROM pending").fetchall()
    return {i for (ids,) in rows for i in json.loads(ids)}


def _serve(data: Path, port: int, **extra: str) -> subprocess.Popen[bytes]:
    env = _env(data, ENCLAVE_GATEWAY__PORT=str(port), ENCLAVE_LLM_URL="http://127.0.0.1:9/v1", **extra)
    return subprocess.Popen(
        [sys.executable, "-m", "enclave_cli.main", "serve"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gateway exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("gateway did not come up")


def test_gateway_killed_mid_job_resumes_the_job_on_restart(clean: dict[str, Any], tmp_path: Path) -> None:
    """A gateway running its jobs in a thread (``ingest.worker: thread``) is killed mid-job; the
    restarted one (the default: a worker process) resumes the job."""
    data = tmp_path / "data"
    _, key = KeyStore(data / "secrets" / "api-keys.json").create("uploader", [], ["admin"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = _serve(data, port, ENCLAVE_FAILPOINTS="ingest.after_upsert:4", ENCLAVE_INGEST__WORKER="thread")
    try:
        _wait_up(url, first)
        files = [("files", (p.name, p.read_bytes())) for p in sorted(CORPUS.iterdir())]
        r = httpx.post(
            f"{url}/v1/collections/crash/documents",
            params={"wait": "false"},
            files=files,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        assert first.wait(timeout=300) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    # Staged uploads are encrypted: no plaintext of the corpus in the staging area.
    staged = list((data / "state" / "staging").rglob("*.bin"))
    assert staged and all(b"Northwind" not in p.read_bytes() for p in staged)
    second = _serve(data, port)
    try:
        _wait_up(url, second)
        deadline = time.monotonic() + 300
        while True:
            job = httpx.get(f"{url}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
            if job["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert job["status"] == "done", job
        assert job["failed"] == 0 and job["progress"]["files_done"] == len(files)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert snapshot(data) == clean
    assert pending_rows(data) == 0
    assert not list((data / "state" / "staging").rglob("*.bin"))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive, not a zombie (an orphan in a container may wait long for its reaper)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_worker_process_killed_mid_job_is_restarted_and_dies_with_its_gateway(
    clean: dict[str, Any], tmp_path: Path
) -> None:
    """``ingest.worker: process``: the failpoint kills the worker (not the gateway) mid-job; the
    gateway starts another, which resumes the job to the clean state. Killing the gateway with
    SIGKILL then ends its worker too."""
    data = tmp_path / "data"
    _, key = KeyStore(data / "secrets" / "api-keys.json").create("uploader", [], ["admin"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gateway = _serve(data, port, ENCLAVE_FAILPOINTS="ingest.after_upsert:6", ENCLAVE_INGEST__WORKER="process")
    try:
        _wait_up(url, gateway)
        files = [("files", (p.name, p.read_bytes())) for p in sorted(CORPUS.iterdir())]
        headers = {"Authorization": f"Bearer {key}"}
        r = httpx.post(f"{url}/v1/collections/crash/documents", files=files, headers=headers, timeout=600)
        assert r.status_code == 200, r.text
        job = httpx.get(f"{url}/v1/jobs/{r.json()['job_id']}", headers=headers, timeout=10).json()
        assert job["status"] == "done" and job["failed"] == 0, job
        assert job["progress"]["files_done"] == len(files)
        assert gateway.poll() is None  # the gateway itself was never killed
        workers = _children(gateway.pid)
        assert workers, "no worker process under the gateway"
    finally:
        gateway.kill()
        gateway.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_running, workers)), "the worker outlived its gateway"
    assert snapshot(data) == clean
    assert pending_rows(data) == 0
