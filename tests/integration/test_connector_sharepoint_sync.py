"""The SharePoint connector through the real Syncer and pipeline (Presidio, embeddings, embedded
Qdrant) on the scripted Graph of tests/unit/test_connector_sharepoint.py: permissions, eTags and
deletions from the library reach the stored documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_connector_sharepoint import (
    DOWNLOAD,
    DRIVE,
    DRIVE_ID,
    FINANCE_M365,
    FakeGraph,
    _connector,
    _permissions,
    install_fake_graph,
)


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> FakeGraph:
    return install_fake_graph(monkeypatch)


def test_a_sync_follows_etags_and_permissions(graph: FakeGraph, core: Any) -> None:
    """Through the real Syncer and pipeline: a changed permission is a reader update, a new
    eTag a re-ingest, a file gone from the library a deletion."""
    from ingest import Ingestor
    from ingest.connectors import Syncer, SyncState

    ingestor = Ingestor(core)
    state = SyncState(core.settings.state_dir / "connectors.sqlite")
    syncer = Syncer(ingestor, state)
    first = syncer.sync("hr", _connector())
    assert (first.added, first.without_readers, first.failed) == (2, 1, [])

    graph.routes[f"{DRIVE}/{DRIVE_ID}/items/01A/permissions"] = (200, _permissions(FINANCE_M365))
    graph.routes[DOWNLOAD + "01B"] = (200, b"# Pay\n\nSalaries are paid on the 28th.")
    pay = graph.routes[f"{DRIVE}/{DRIVE_ID}/root:/Policies/Archive/pay.md"][1]
    graph.routes[f"{DRIVE}/{DRIVE_ID}/root:/Policies/Archive/pay.md"] = (200, {**pay, "eTag": '"{B},2"'})
    second = syncer.sync("hr", _connector())
    assert (second.readers_changed, second.updated, second.unchanged) == (1, 1, 0)
    leave = next(r for r in ingestor.manifest.documents("hr") if r.source == "hr/Policies/leave.md")
    assert list(leave.acl) == ["finance"]

    children = f"{DRIVE}/{DRIVE_ID}/items/01FOLDER/children"
    graph.routes[children] = (200, {"value": [graph.routes[children][1]["value"][0]]})  # Archive and page 2 gone
    third = syncer.sync("hr", _connector())
    assert third.deleted == 1 and {r.source for r in ingestor.manifest.documents("hr")} == {"hr/Policies/leave.md"}
    state.close()
    ingestor.manifest.close()
