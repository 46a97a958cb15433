"""The Confluence connector on responses shaped like Confluence Data Center's REST API (content
listing with expansions, paging, read restrictions by operation). No Confluence server can run
here, so these responses are written from Atlassian's API reference, not recorded from a server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ingest.connectors.confluence import ConfluenceConnector
from ingest.loaders import load_document

BASE = "http://wiki.corp.internal/confluence"


def _page(pid: str, title: str, version: int, body: str, ancestors: list[str], groups: list[str]) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "page",
        "title": title,
        "version": {"number": version},
        "ancestors": [{"id": a, "type": "page"} for a in ancestors],
        "body": {"storage": {"value": body, "representation": "storage"}},
        "restrictions": {
            "read": {
                "operation": "read",
                "restrictions": {
                    "group": {"results": [{"type": "group", "name": g} for g in groups], "size": len(groups)},
                    "user": {"results": [], "size": 0},
                },
            }
        },
    }


PAGES = [
    _page("101", "Leave policy", 3, "<p>Annual leave is 25 days.</p>", [], []),
    _page("102", "Salary bands", 1, "<p>Band C starts at 60k.</p>", ["900"], []),  # under a restricted parent
    _page("103", "On-call", 7, "<p>Pager rota.</p>", [], ["eng-leads", "unmapped"]),
]
RESTRICTIONS = {
    "900": {"operation": "read", "restrictions": {"group": {"results": [{"type": "group", "name": "hr-admins"}]}}},
    "901": {"operation": "read", "restrictions": {"user": {"results": [{"type": "known", "username": "jdoe"}]}}},
}


def _handler(requests: list[httpx.Request], pages: list[dict[str, Any]]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        assert request.headers["Authorization"] == "Bearer t0ken"
        path = request.url.path.removeprefix("/confluence/")
        if path == "rest/api/content":
            start = int(request.url.params["start"])
            chunk = pages[start : start + 2]  # pages of two, to exercise paging
            links = {"next": f"/rest/api/content?start={start + 2}"} if start + 2 < len(pages) else {}
            return httpx.Response(200, json={"results": chunk, "start": start, "size": len(chunk), "_links": links})
        if path.startswith("rest/api/content/") and path.endswith("/restriction/byOperation/read"):
            return httpx.Response(200, json=RESTRICTIONS.get(path.split("/")[3], {"restrictions": {}}))
        return httpx.Response(404)

    return handle


def _connector(requests: list[httpx.Request], pages: list[dict[str, Any]]) -> ConfluenceConnector:
    return ConfluenceConnector(
        "wiki",
        BASE,
        spaces={"HR": ["staff"]},
        group_map={"hr-admins": ["hr-admins", "staff"], "eng-leads": ["staff"]},
        token="t0ken",
        transport=httpx.MockTransport(_handler(requests, pages)),
    )


def test_pages_readers_follow_page_and_ancestor_restrictions() -> None:
    requests: list[httpx.Request] = []
    listing = _connector(requests, PAGES).list_items()
    assert listing.complete and not listing.errors
    items = {item.key: item for item in listing.items}
    assert items["101"].readers == ("staff",)  # no restriction: the space's readers
    assert items["102"].readers == ("staff",)  # parent 900 restricted to hr-admins -> mapped, narrowed
    assert items["103"].readers == ("staff",)
    assert (items["101"].version, items["103"].version) == ("3", "7")
    doc = load_document(items["101"].fetch(), items["101"].source)
    assert doc.title == "Leave policy" and "25 days" in doc.blocks[-1].text
    assert {r.url.host for r in requests} == {"wiki.corp.internal"}
    assert sum(r.url.path.endswith("/content") for r in requests) == 2  # two pages of results


def test_a_user_only_restriction_leaves_no_group_reader() -> None:
    pages = [_page("104", "Personal review", 1, "<p>Private.</p>", ["901"], [])]
    listing = _connector([], pages).list_items()
    assert listing.items[0].readers == ()  # fail closed: the sync stores it nowhere


def test_a_failing_space_marks_the_listing_incomplete() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text=json.dumps({"message": "down"}))

    connector = ConfluenceConnector("wiki", BASE, {"HR": ["staff"]}, {}, "t0ken", httpx.MockTransport(broken))
    listing = connector.list_items()
    assert not listing.complete and listing.errors == ["wiki: space HR: HTTPStatusError"]


@pytest.mark.parametrize("link", ["http://evil.example/rest/api/content?start=2"])
def test_paging_stays_on_base_url_and_stops_when_nothing_is_new(link: str) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, json={"results": [PAGES[0]], "_links": {"next": link}})

    connector = ConfluenceConnector("wiki", BASE, {"HR": ["staff"]}, {}, "t0ken", httpx.MockTransport(handler))
    listing = connector.list_items()
    # Paging uses start offsets on base_url only, and a server repeating itself does not loop forever.
    assert [item.key for item in listing.items] == ["101"] and set(hosts) == {"wiki.corp.internal"}


def test_policy_entry_builds_the_connector(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from enclave_core.errors import PolicyError
    from ingest.connectors.config import build_connector, load_connectors_policy

    policy = tmp_path / "connectors.yaml"
    policy.write_text(
        "version: 1\ncollections:\n  wiki:\n    connectors:\n      - name: confluence\n        type: confluence\n"
        f"        base_url: {BASE}\n        token_env: ENCLAVE_TEST_CONFLUENCE_TOKEN\n"
        "        spaces: {HR: [staff]}\n        group_map: {hr-admins: [hr-admins]}\n",
        encoding="utf-8",
    )
    entry = load_connectors_policy(policy)["wiki"].connectors[0]
    monkeypatch.delenv("ENCLAVE_TEST_CONFLUENCE_TOKEN", raising=False)
    with pytest.raises(PolicyError, match="ENCLAVE_TEST_CONFLUENCE_TOKEN is not set"):
        build_connector(entry, policy)
    monkeypatch.setenv("ENCLAVE_TEST_CONFLUENCE_TOKEN", "t")
    connector = build_connector(entry, policy)
    assert isinstance(connector, ConfluenceConnector) and connector.group_map == {"hr-admins": ["hr-admins"]}
