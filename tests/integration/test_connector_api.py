"""Connector syncs on the real gateway: POST /v1/collections/{name}/sync starts one in the
background (202 + id), GET .../sync/{id} reports progress and outcome; only the collection's
administrators may start or read one; a file whose permissions change disappears from its former
readers' searches at the next sync; the scheduler runs a collection whose schedule is due."""

from __future__ import annotations

import grp
import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import Gateway, read_audit

POLICY = """
version: 1
collections:
  hr-only:
    connectors:
      - name: share
        type: fileshare
        path: {path}
        group_map: {{"{group}": [hr]}}
"""


def _found(gateway: Gateway, who: str, question: str) -> set[str]:
    with gateway.client(who) as client:
        response = client.post("/v1/search", json={"question": question, "collection": "hr-only"})
    if response.status_code == 404:  # nothing in the collection is visible to them
        return set()
    assert response.status_code == 200, response.text
    return {c["source"] for c in response.json()["citations"]}


def _synced(client: httpx.Client, collection: str) -> dict[str, Any]:
    """Start a sync, wait for it to finish, return its final state."""
    started = client.post(f"/v1/collections/{collection}/sync")
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["status"] in ("queued", "running", "done") and started.headers["location"].endswith(run["id"])
    deadline = time.monotonic() + 120
    while run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
        polled = client.get(f"/v1/collections/{collection}/sync/{run['id']}")
        assert polled.status_code == 200, polled.text
        run = polled.json()
    assert run["status"] == "done", run
    assert run["progress"]["connectors_done"] == run["progress"]["connectors_total"] == 1
    return dict(run)


def test_sync_route_keeps_permissions_true(gateway: Gateway, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    handbook = share / "expenses.md"
    handbook.write_text("# Expenses\n\nTaxi receipts are reimbursed within ten working days.", encoding="utf-8")
    os.chmod(handbook, 0o640)
    group = grp.getgrgid(handbook.stat().st_gid).gr_name  # the file's own group, mapped to "hr"
    policy = POLICY.format(path=share, group=group)
    (gateway.settings.policies_dir / "connectors.yaml").write_text(policy, encoding="utf-8")

    with gateway.client("hr") as client:  # a reader, not an administrator of the collection
        assert client.post("/v1/collections/hr-only/sync").status_code == 403
    with gateway.client("hradmin") as client:
        first = _synced(client, "hr-only")
        assert first["connectors"][0]["added"] == 1 and first["progress"]["items_seen"] == 1
        assert client.post("/v1/collections/nowhere/sync").status_code in (403, 404)
        assert client.get("/v1/collections/hr-only/sync/0123").status_code == 404
    with gateway.client("hr") as client:  # a reader may not see the collection's syncs either
        assert client.get(f"/v1/collections/hr-only/sync/{first['id']}").status_code == 403
    assert "expenses.md" in _found(gateway, "hr", "How fast are taxi receipts reimbursed?")

    os.chmod(handbook, 0o600)  # the group loses read access on the share
    with gateway.client("hradmin") as client:
        second = _synced(client, "hr-only")
        assert second["connectors"][0]["deleted"] == 1
    assert "expenses.md" not in _found(gateway, "hr", "How fast are taxi receipts reimbursed?")

    syncs = [r for r in read_audit(gateway.settings) if r["action"] == "collection.sync"]
    # The key "hradmin" belongs to hana: the record names the person, not the key.
    assert [(r["principal"], r["via"], r["outcome"]) for r in syncs] == [("hana", "api", "ok")] * 2
    assert syncs[-1]["connectors"]["share"]["deleted"] == 1 and "expenses.md" not in str(syncs)
    assert [r["sync"] for r in syncs] == [first["id"], second["id"]]
