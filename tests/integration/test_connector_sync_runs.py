"""ConnectorService running syncs as background runs on the real pipeline: progress and outcome,
one sync per collection (a second start joins the first; another process's lock fails the run
with a clear error), who may sync, the scheduler's tick, and a shutdown that stops a sync
between items so that the next one resumes."""

from __future__ import annotations

import grp
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from enclave_core.errors import AccessDenied, InvalidName
from enclave_core.identity import LOCAL_ADMIN, Principal
from ingest import Ingestor
from ingest.connectors.runs import SyncRun, collection_lock
from ingest.connectors.scheduler import SyncScheduler
from ingest.connectors.service import ConnectorService
from ingest.connectors.state import SyncState

POLICY = """
version: 1
collections:
  notes:
    schedule_minutes: 60
    connectors:
      - name: share
        type: fileshare
        path: {path}
        group_map: {{"{group}": [staff]}}
"""


@pytest.fixture
def service(core: Any, tmp_path: Path) -> Iterator[ConnectorService]:
    share = tmp_path / "share"
    share.mkdir()
    for i in range(3):
        note = share / f"note-{i}.md"
        note.write_text(f"# Note {i}\n\nThe heron count for pond {i} is {i + 7}.", encoding="utf-8")
        os.chmod(note, 0o640)  # the core sets a private umask; the share's group may read
    group = grp.getgrgid(os.stat(share / "note-0.md").st_gid).gr_name
    policy = tmp_path / "connectors.yaml"
    policy.write_text(POLICY.format(path=share, group=group), encoding="utf-8")
    state = SyncState(tmp_path / "state" / "connectors.sqlite")
    executor = ThreadPoolExecutor(max_workers=1)
    yield ConnectorService(Ingestor(core), state, policy, executor=executor)
    executor.shutdown(wait=True)
    state.close()


def _wait(run: SyncRun) -> SyncRun:
    finished = threading.Event()
    for _ in range(1200):
        if not run.active or finished.wait(0.1):
            break
    assert not run.active, run
    return run


def test_a_background_sync_reports_progress_and_outcome(service: ConnectorService, tmp_path: Path) -> None:
    run, created = service.start(LOCAL_ADMIN, "notes", via="api")
    again, created_again = service.start(LOCAL_ADMIN, "notes", via="api")
    assert created and not created_again and again is run  # one sync per collection
    _wait(run)
    assert run.status == "done" and run.items_seen == 3 and run.connectors_done == 1
    assert run.to_json()["connectors"][0]["added"] == 3
    assert service.due() == []  # just synced: the 60-minute schedule is not due

    with collection_lock(tmp_path / "state", "notes"):  # another process (a cron sync) holds it
        busy, _ = service.start(LOCAL_ADMIN, "notes", via="api")
        _wait(busy)
    assert busy.status == "failed" and "another process" in (busy.error or "")


def test_only_the_collections_administrators_may_sync(service: ConnectorService) -> None:
    reader = Principal(name="r", groups=frozenset({"staff"}), auth="api-key", subject="r")
    with pytest.raises(AccessDenied):
        service.start(reader, "notes", via="api")
    with pytest.raises(AccessDenied):
        service.sync("notes", principal=reader)
    assert service.runs.active() == []
    with pytest.raises(InvalidName):
        service.start(LOCAL_ADMIN, "../notes\ud800", via="api")


def test_the_scheduler_queues_due_collections_once(service: ConnectorService) -> None:
    scheduler = SyncScheduler(service, tick_s=3600)
    assert scheduler.tick() == 1  # never synced: due
    assert scheduler.tick() == 0  # still running or done and no longer due
    (run,) = [r for r in service.runs._runs.values()]
    assert _wait(run).status == "done" and run.via == "schedule"
    assert scheduler.tick() == 0


def test_a_stopping_service_interrupts_between_items_and_the_next_sync_resumes(service: ConnectorService) -> None:
    service.stop()
    run, _ = service.start(LOCAL_ADMIN, "notes", via="api")
    assert _wait(run).status == "interrupted" and run.items_seen == 0
    service._stopping.clear()
    assert service.sync("notes")[0].added == 3
