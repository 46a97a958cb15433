"""Sync runs: one active run per collection in a process, one sync per collection across
processes (the lock file), and a bounded memory of finished runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.connectors import runs as runs_module
from ingest.connectors.runs import SyncBusy, SyncRuns, collection_lock


def test_one_active_run_per_collection() -> None:
    runs = SyncRuns()
    first, created = runs.begin("hr", "api")
    assert created and first.status == "queued"
    again, created_again = runs.begin("hr", "schedule")
    assert again is first and not created_again
    other, created_other = runs.begin("wiki", "api")
    assert created_other and other.id != first.id
    runs.end(first, "done")
    assert first.finished_at is not None and runs.get(first.id) is first
    assert runs.begin("hr", "api")[1]  # finished: a new one may start
    assert {r.collection for r in runs.active()} == {"hr", "wiki"}


def test_finished_runs_are_forgotten_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_module, "MAX_RUNS_KEPT", 3)
    runs = SyncRuns()
    ids = []
    for _ in range(5):
        run, _created = runs.begin("hr", "api")
        runs.end(run, "done")
        ids.append(run.id)
    running, _created = runs.begin("hr", "api")
    assert [runs.get(i) is not None for i in ids] == [False, False, False, True, True]
    assert runs.get(running.id) is running


def test_the_lock_file_keeps_a_second_sync_out(tmp_path: Path) -> None:
    with collection_lock(tmp_path, "hr"):
        with pytest.raises(SyncBusy, match="another process"), collection_lock(tmp_path, "hr"):
            pass
        with collection_lock(tmp_path, "wiki"):  # another collection is free
            pass
    with collection_lock(tmp_path, "hr"):  # released
        pass
