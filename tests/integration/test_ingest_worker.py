"""Ingestion jobs in a worker process (``ingest.worker: process``): the job runs in another
process than the gateway's (which never loads an embedding model for it), a bad file fails
alone, and a worker killed with SIGKILL mid-job is restarted and the job resumes from the
journal with every file ingested exactly once: no duplicate points, no gaps, no orphans."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from enclave_core.runtime import Core
from ingest.jobs import JobJournal, Staging
from ingest.pipeline import FileOutcome, Ingestor
from ingest.worker_pool import ProcessJobRunner, job_runner
from tests.conftest import make_settings


@dataclass
class Gateway:
    """The gateway's side of ingestion, as services/gateway/app.py wires it."""

    core: Core
    runner: ProcessJobRunner
    outcomes: list[FileOutcome]
    finished: list[dict[str, Any]]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, redactor: Any) -> Iterator[Gateway]:
    settings = make_settings(tmp_path_factory.mktemp("worker") / "data", ENCLAVE_INGEST__WORKER="process")
    core = Core(settings)
    core.__dict__["redactor"] = redactor  # the gateway's own (placeholder paths in the journal)
    ingestor = Ingestor(core)
    journal = JobJournal(settings.state_dir / "jobs.sqlite", core.data_key)
    runner = job_runner(settings, ingestor, journal, Staging(settings.state_dir / "staging", core.data_key))
    assert isinstance(runner, ProcessJobRunner)
    state = Gateway(core, runner, [], [])
    runner.on_file = state.outcomes.append
    runner.on_finished = lambda job, _: state.finished.append(job)
    runner.start()
    try:
        yield state
    finally:
        runner.stop()
        journal.close()
        ingestor.manifest.close()
        core.close()


def _points(core: Core, collection: str) -> list[str]:
    return [hit.id for hit in core.store.iter_points(collection)]


def _manifest(core: Core, collection: str) -> tuple[set[str], int]:
    """(chunk ids of committed documents, rows still pending) in the manifest."""
    with sqlite3.connect(core.settings.state_dir / "ingest.sqlite") as db:
        rows = db.execute("SELECT chunk_ids FROM documents WHERE collection=?", (collection,)).fetchall()
        pending = db.execute("SELECT COUNT(*) FROM pending WHERE collection=?", (collection,)).fetchone()[0]
    return {i for (ids,) in rows for i in json.loads(ids)}, int(pending)


def test_a_job_runs_in_the_worker_process_and_a_bad_file_fails_alone(gateway: Gateway) -> None:
    files = [(f"note-{i}.txt", f"Note {i}: the quarterly plan covers topic {i}.".encode()) for i in range(3)]
    files.append(("broken.pdf", b"not a pdf"))
    job_id = gateway.runner.submit("notes", ["staff"], "key:test", files)
    job = gateway.runner.run(job_id)  # waits for the worker
    assert job["status"] == "done", job
    by_name = {f["source"]: f for f in job["files"]}
    assert [by_name[f"note-{i}.txt"]["status"] for i in range(3)] == ["ingested"] * 3
    assert by_name["broken.pdf"]["status"] == "failed" and by_name["broken.pdf"]["error"]
    pids = gateway.runner.worker_pids()
    assert pids and os.getpid() not in pids
    # The gateway's process loaded no embedding model: the chunks were embedded in the worker.
    assert "embedder" not in gateway.core.__dict__ and "embedders" not in gateway.core.__dict__
    ids, pending = _manifest(gateway.core, "notes")
    assert sorted(_points(gateway.core, "notes")) == sorted(ids) and len(ids) >= 3 and pending == 0
    assert gateway.finished[-1]["job_id"] == job_id  # the end of the job reached the gateway (audit)
    assert {o.source for o in gateway.outcomes} >= {"note-0.txt", "broken.pdf"}  # and each file (metrics)


def test_a_worker_killed_mid_job_is_restarted_and_the_job_resumes_without_gaps(gateway: Gateway) -> None:
    runner = gateway.runner
    files = [(f"doc-{i:02}.txt", f"Document {i} describes procedure {i} in detail.".encode()) for i in range(40)]
    before = runner.worker_pids()
    killed: list[int] = []

    def kill_once(outcome: FileOutcome) -> None:  # in the gateway, as the worker reports the first file
        gateway.outcomes.append(outcome)
        if not killed:
            killed.extend(runner.worker_pids())
            os.kill(killed[0], signal.SIGKILL)

    runner.on_file = kill_once
    try:
        job_id = runner.submit("bulk", ["staff"], "key:test", files)
        job = runner.run(job_id)
    finally:
        runner.on_file = gateway.outcomes.append
    assert killed and killed == before
    after = runner.worker_pids()
    assert after and after != killed  # a new worker finished the job
    assert job["status"] == "done", job
    # Files committed but not yet journaled when the worker died are found "unchanged" on resume.
    assert {f["status"] for f in job["files"]} <= {"ingested", "unchanged"}
    assert job["progress"]["files_done"] == len(files) and job["progress"]["failed"] == 0
    ids, pending = _manifest(gateway.core, "bulk")
    points = _points(gateway.core, "bulk")
    assert len(points) == len(set(points)) == len(ids) == job["progress"]["chunks"] and pending == 0
    assert set(points) == ids
    assert not list(Path(gateway.core.settings.state_dir / "staging").rglob("*.bin"))


def test_a_file_that_kills_the_worker_fails_alone_and_the_rest_of_the_job_goes_on(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A parser that takes the whole process down (a segfault): every worker that opens an .rtf dies.
    # Before, the job was retried on whole runs until it was left "interrupted" with nothing after
    # the poison file ingested; now it fails alone, with an error that says so.
    runner = gateway.runner
    for pid in runner.worker_pids():  # the next worker is spawned with the failpoint armed
        os.kill(pid, signal.SIGKILL)
    monkeypatch.setenv("ENCLAVE_FAILPOINTS", "ingest.load.rtf:1")
    monkeypatch.setattr(runner, "restart_backoff_s", 0.05)
    files = [(f"memo-{i}.txt", f"Memo {i}: the canteen menu changes on day {i}.".encode()) for i in range(6)]
    files.insert(3, ("poison.rtf", rb"{\rtf1 Minutes of the meeting.}"))
    job_id = runner.submit("poison", ["staff"], "key:test", files)
    job = runner.run(job_id)
    assert job["status"] == "done", job
    by_name = {f["source"]: f for f in job["files"]}
    assert by_name["poison.rtf"]["status"] == "failed"
    assert "worker stopped while reading this file" in by_name["poison.rtf"]["error"]
    # Memos committed before the first crash but not yet journaled are found "unchanged" on resume.
    assert all(by_name[f"memo-{i}.txt"]["status"] in ("ingested", "unchanged") for i in range(6))
    ids, pending = _manifest(gateway.core, "poison")
    assert sorted(_points(gateway.core, "poison")) == sorted(ids) and len(ids) >= 6 and pending == 0
    assert gateway.finished[-1]["job_id"] == job_id and gateway.finished[-1]["status"] == "done"
    assert sum(1 for j in gateway.finished if j["job_id"] == job_id) == 1  # audited once, not per file
