"""POST /v1/collections/{name}/sync on the real gateway: only the collection's administrators may
start a sync, and a file whose permissions change disappears from its former readers' searches
at the next sync — checked through the REST API."""

from __future__ import annotations

import grp
import os
from pathlib import Path

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
        first = client.post("/v1/collections/hr-only/sync")
        assert first.status_code == 200, first.text
        assert first.json()["connectors"][0]["added"] == 1
        assert client.post("/v1/collections/nowhere/sync").status_code in (403, 404)
    assert "expenses.md" in _found(gateway, "hr", "How fast are taxi receipts reimbursed?")

    os.chmod(handbook, 0o600)  # the group loses read access on the share
    with gateway.client("hradmin") as client:
        second = client.post("/v1/collections/hr-only/sync")
        assert second.status_code == 200 and second.json()["connectors"][0]["deleted"] == 1
    assert "expenses.md" not in _found(gateway, "hr", "How fast are taxi receipts reimbursed?")

    syncs = [r for r in read_audit(gateway.settings) if r["action"] == "collection.sync"]
    # The key "hradmin" belongs to hana: the record names the person, not the key.
    assert [(r["principal"], r["via"], r["outcome"]) for r in syncs] == [("hana", "api", "ok")] * 2
    assert syncs[-1]["connectors"]["share"]["deleted"] == 1 and "expenses.md" not in str(syncs)
