"""policies/connectors.yaml: schema validation, group mapping files, schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enclave_core.errors import NotFoundError, PolicyError
from ingest.connectors.config import build_connector, load_connectors_policy
from ingest.connectors.fileshare import FileShareConnector
from ingest.connectors.service import ConnectorService
from ingest.connectors.state import SyncState
from ingest.connectors.web import WebConnector
from tests.conftest import REPO

POLICY = """
version: 1
collections:
  hr:
    schedule_minutes: 60
    connectors:
      - {name: hr-share, type: fileshare, path: /mnt/hr, group_map_file: hr-groups.yaml}
  intranet:
    connectors:
      - name: wiki
        type: web
        start_urls: ["http://wiki.corp.internal/"]
        allowed_hosts: [wiki.corp.internal]
        readers: [staff]
        max_depth: 3
"""


def _policy(tmp_path: Path, text: str = POLICY) -> Path:
    path = tmp_path / "connectors.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "hr-groups.yaml").write_text("hr-staff: [hr]\n'@others': []\n", encoding="utf-8")
    return path


def test_shipped_policy_is_valid_and_empty() -> None:
    assert load_connectors_policy(REPO / "policies" / "connectors.yaml") == {}


def test_connectors_are_built_from_the_policy(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    policy = load_connectors_policy(path)
    share = build_connector(policy["hr"].connectors[0], path)
    assert isinstance(share, FileShareConnector) and share.group_map == {"hr-staff": ["hr"], "@others": []}
    web = build_connector(policy["intranet"].connectors[0], path)
    assert isinstance(web, WebConnector) and web.allowed_hosts == {"wiki.corp.internal"} and web.max_depth == 3
    assert not web.allowed("https://example.com/") and not web.allowed("file:///etc/passwd")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (POLICY.replace("group_map_file: hr-groups.yaml", "owner: x"), "collections/hr/connectors/0"),
        (POLICY.replace('["http://wiki.corp.internal/"]', '["ftp://wiki/"]'), "start_urls/0"),
        (POLICY.replace("type: web", "type: gopher"), "type"),
        (POLICY.replace("        readers: [staff]\n", ""), "collections/intranet/connectors/0"),
    ],
)
def test_invalid_policies_name_the_place(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(PolicyError, match=where):
        load_connectors_policy(_policy(tmp_path, text))


def test_a_broken_mapping_file_is_a_policy_error(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    (tmp_path / "hr-groups.yaml").write_text("hr-staff: hr\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="Unix group -> list"):
        build_connector(load_connectors_policy(path)["hr"].connectors[0], path)


def test_schedules_make_collections_due(tmp_path: Path) -> None:
    state = SyncState(tmp_path / "state.sqlite")
    ingestor: Any = None  # due() never ingests
    service = ConnectorService(ingestor, state, _policy(tmp_path))
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert service.due(now) == ["hr"]  # never synced; intranet has no schedule (on demand only)
    state.finished("hr", "hr-share", (now - timedelta(minutes=30)).isoformat())
    assert service.due(now) == []
    assert service.due(now + timedelta(minutes=31)) == ["hr"]
    service.authorize = lambda *args, **kwargs: None  # type: ignore[method-assign]  # access: tests/integration
    with pytest.raises(NotFoundError):
        service.sync("finance")
    state.close()


def test_imap_entries_take_the_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.connectors.imap import ImapConnector

    text = POLICY + (
        "  mail:\n    connectors:\n      - name: inbox\n        type: imap\n        host: mail.corp.internal\n"
        "        username: enclave\n        password_env: ENCLAVE_TEST_IMAP_PASSWORD\n"
        "        folders: {INBOX: [staff], HR: [hr]}\n"
    )
    path = _policy(tmp_path, text)
    connector = build_connector(load_connectors_policy(path)["mail"].connectors[0], path)
    assert isinstance(connector, ImapConnector) and connector.folders == {"INBOX": ["staff"], "HR": ["hr"]}
    monkeypatch.delenv("ENCLAVE_TEST_IMAP_PASSWORD", raising=False)
    with pytest.raises(PolicyError, match="ENCLAVE_TEST_IMAP_PASSWORD is not set"):
        connector.list_items()  # fails before any connection is attempted
    with pytest.raises(PolicyError, match="password_env"):
        load_connectors_policy(_policy(tmp_path, text.replace("ENCLAVE_TEST_IMAP_PASSWORD", "secret123")))
