"""The SharePoint connector through LlamaIndex's SharePointReader, on Microsoft Graph responses
written from Graph's REST reference (no SharePoint Online tenant is reachable here, so they are
not recorded from a server). Every HTTP request the reader makes goes through requests'
Session.send, which the test replaces: a request for anything not in the script fails the test,
so the reader cannot reach the network, and the test sees every URL it asked for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from enclave_core.errors import PolicyError
from ingest.connectors.config import build_connector, load_connectors_policy
from ingest.connectors.sharepoint import SharePointConnector, sharepoint_reader

GRAPH = "https://graph.microsoft.com/v1.0"
TENANT = "5f1c2a77-0000-4000-8000-00000000c0de"
SITE_ID = "contoso.sharepoint.com,2c712604-1370-44e7-a1f5-426573b64d9e,2d2244c3-251a-49ea-93a8-39e8f2b7a2f5"
DRIVE = f"{GRAPH}/sites/{SITE_ID}/drives"
DRIVE_ID = "b!BhJxLHATp0Sh9UJlc7ZNnsNEIi0aJepJk6g56PK3ovU"
DOWNLOAD = "https://contoso.sharepoint.com/sites/hr/_layouts/15/download.aspx?UniqueId="


def _file(item_id: str, name: str, etag: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "name": name,
        "eTag": etag,
        "size": 120,
        "lastModifiedDateTime": "2026-12-01T09:30:00Z",
        "webUrl": f"https://contoso.sharepoint.com/sites/hr/Shared%20Documents/Policies/{name}",
        "file": {"mimeType": "text/markdown"},
        "@microsoft.graph.downloadUrl": DOWNLOAD + item_id,
    }


def _permissions(*grants: dict[str, Any]) -> dict[str, Any]:
    return {"value": list(grants)}


SITE_MEMBERS = {"grantedToV2": {"siteGroup": {"id": "5", "displayName": "HR Members", "loginName": "HR Members"}}}
FINANCE_M365 = {"grantedToIdentitiesV2": [{"group": {"id": "0aa1", "displayName": "Finance"}}], "roles": ["read"]}
ONE_USER = {"grantedToV2": {"user": {"id": "77", "displayName": "Rebecca Thornton"}}, "roles": ["read"]}


class FakeGraph:
    """Scripted Graph: URL -> (status, body); body bytes for downloads, JSON otherwise."""

    def __init__(self) -> None:
        leave, pay, note = (
            _file("01A", "leave.md", '"{A},3"'),
            _file("01B", "pay.md", '"{B},1"'),
            _file("01C", "private.md", '"{C},2"'),
        )
        self.routes: dict[str, tuple[int, Any]] = {
            f"https://login.microsoftonline.com/{TENANT}/oauth2/token": (
                200,
                {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi.fake.token"},
            ),
            f"{GRAPH}/sites": (200, {"value": [{"id": SITE_ID, "name": "hr", "displayName": "Human Resources"}]}),
            DRIVE: (200, {"value": [{"id": DRIVE_ID, "name": "Documents", "driveType": "documentLibrary"}]}),
            f"{DRIVE}/{DRIVE_ID}/root:/Policies": (200, {"id": "01FOLDER", "name": "Policies", "folder": {}}),
            f"{DRIVE}/{DRIVE_ID}/items/01FOLDER/children": (
                200,
                {
                    "value": [leave, {"id": "01SUB", "name": "Archive", "folder": {"childCount": 1}}],
                    "@odata.nextLink": f"{DRIVE}/{DRIVE_ID}/items/01FOLDER/children?$skiptoken=page2",
                },
            ),
            f"{DRIVE}/{DRIVE_ID}/items/01FOLDER/children?$skiptoken=page2": (
                200,
                {"value": [note, {**_file("01D", "logo.exe", '"{D},1"'), "file": {"mimeType": "x"}}]},
            ),
            f"{DRIVE}/{DRIVE_ID}/items/01SUB/children": (200, {"value": [pay]}),
            f"{DRIVE}/{DRIVE_ID}/root:/Policies/leave.md": (200, leave),
            f"{DRIVE}/{DRIVE_ID}/root:/Policies/Archive/pay.md": (200, pay),
            f"{DRIVE}/{DRIVE_ID}/root:/Policies/private.md": (200, note),
            f"{DRIVE}/{DRIVE_ID}/items/01A/permissions": (200, _permissions(SITE_MEMBERS)),
            f"{DRIVE}/{DRIVE_ID}/items/01B/permissions": (200, _permissions(SITE_MEMBERS, FINANCE_M365)),
            f"{DRIVE}/{DRIVE_ID}/items/01C/permissions": (200, _permissions(ONE_USER)),
            DOWNLOAD + "01A": (200, b"# Leave\n\nEmployees get 25 days of annual leave."),
            DOWNLOAD + "01B": (200, b"# Pay\n\nSalaries are paid on the 25th."),
        }
        self.asked: list[str] = []

    def send(self, session: requests.Session, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        url = str(request.url)
        self.asked.append(url)
        if url not in self.routes:
            pytest.fail(f"the reader asked for an unscripted URL: {url}")
        status, body = self.routes[url]
        response = requests.Response()
        response.status_code, response.url, response.request = status, url, request
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return response


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> FakeGraph:
    return install_fake_graph(monkeypatch)


def install_fake_graph(monkeypatch: pytest.MonkeyPatch) -> FakeGraph:
    """Every request of the reader answered by a new FakeGraph, for this test only."""
    fake = FakeGraph()

    def send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        return fake.send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    return fake


def _connector(group_map: dict[str, list[str]] | None = None) -> SharePointConnector:
    def make() -> Any:
        return sharepoint_reader(TENANT, "app-id", "app-secret", "hr", "Policies", None)

    return SharePointConnector("hr-library", make, group_map or {"HR Members": ["hr"], "0aa1": ["finance"]})


def test_listing_maps_group_permissions_and_keeps_etags(graph: FakeGraph) -> None:
    listing = _connector().list_items()
    assert listing.complete and listing.errors == []
    items = {i.key: i for i in listing.items}
    # Both listing pages and the subfolder are read; the unsupported .exe is skipped.
    assert set(items) == {"hr/Policies/leave.md", "hr/Policies/private.md", "hr/Policies/Archive/pay.md"}
    assert items["hr/Policies/leave.md"].readers == ("hr",)
    assert items["hr/Policies/Archive/pay.md"].readers == ("finance", "hr")  # by id for the M365 group
    assert items["hr/Policies/private.md"].readers == ()  # shared with one user: nobody's group
    assert items["hr/Policies/leave.md"].version == '"{A},3"'
    assert items["hr/Policies/leave.md"].fetch().startswith(b"# Leave")
    assert all(
        u.startswith(("https://graph.microsoft.com/", "https://login.microsoftonline.com/", DOWNLOAD))
        for u in graph.asked
    )


def test_a_permission_failure_fails_its_item_and_forbids_deletions(graph: FakeGraph) -> None:
    graph.routes[f"{DRIVE}/{DRIVE_ID}/items/01B/permissions"] = (503, {"error": {"code": "serviceNotAvailable"}})
    listing = _connector().list_items()
    assert not listing.complete  # a missing item might only be unreadable: nothing is deleted
    assert listing.errors == ["hr/Policies/Archive/pay.md: permissions could not be read (HTTPError)"]
    assert {i.key for i in listing.items} == {"hr/Policies/leave.md", "hr/Policies/private.md"}


def test_a_refused_token_is_an_incomplete_listing_not_a_crash(graph: FakeGraph) -> None:
    graph.routes[f"https://login.microsoftonline.com/{TENANT}/oauth2/token"] = (
        401,
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
    )
    listing = _connector().list_items()
    assert not listing.complete and listing.items == []
    assert listing.errors == ["hr-library: the library could not be listed (ValueError)"]


def test_a_failed_download_is_an_os_error_for_that_item(graph: FakeGraph) -> None:
    graph.routes[DOWNLOAD + "01A"] = (404, {"error": "itemNotFound"})
    (leave,) = [i for i in _connector().list_items().items if i.key.endswith("leave.md")]
    with pytest.raises(OSError, match=r"leave\.md: could not be downloaded"):
        leave.fetch()


def test_policy_entries_build_the_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "connectors.yaml"
    policy.write_text(
        "version: 1\ncollections:\n  hr:\n    connectors:\n      - name: hr-library\n        type: sharepoint\n"
        f"        tenant_id: {TENANT}\n        client_id: app-id\n        client_secret_env: ENCLAVE_TEST_SP_SECRET\n"
        "        site_name: hr\n        folder_path: Policies\n        group_map: {HR Members: [hr]}\n",
        encoding="utf-8",
    )
    entry = load_connectors_policy(policy)["hr"].connectors[0]
    monkeypatch.delenv("ENCLAVE_TEST_SP_SECRET", raising=False)
    with pytest.raises(PolicyError, match="ENCLAVE_TEST_SP_SECRET is not set"):
        build_connector(entry, policy)
    monkeypatch.setenv("ENCLAVE_TEST_SP_SECRET", "app-secret")
    connector = build_connector(entry, policy)
    assert isinstance(connector, SharePointConnector) and connector.group_map == {"HR Members": ["hr"]}
    reader = connector.make_reader()
    assert (reader.tenant_id, reader.sharepoint_site_name, reader.sharepoint_folder_path) == (TENANT, "hr", "Policies")
    with pytest.raises(PolicyError):
        load_connectors_policy(_replace(policy, "client_secret_env: ENCLAVE_TEST_SP_SECRET", "client_secret: s3cret"))


def _replace(path: Path, old: str, new: str) -> Path:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path
