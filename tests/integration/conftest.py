"""A real gateway (uvicorn on loopback) with real Presidio, embeddings and embedded Qdrant,
and no LLM: for access-control and audit behaviour, which never needs an answer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import REPO, make_settings
from tests.e2e.gateway_server import running_gateway

ACCESS_POLICY = """
version: 1
default:
  read: ["*"]
  write: []
  admin: []
collections:
  hr-only:
    read: ["hr"]
    write: ["hr"]
    admin: ["hr-admins"]
  shared:
    read: ["*"]
    write: ["hr", "eng"]
    admin: ["hr-admins"]
"""


@dataclass
class Gateway:
    url: str
    settings: Settings
    keys: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@pytest.fixture(scope="package")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("gw")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY, encoding="utf-8")
    settings = make_settings(root / "data", ENCLAVE_POLICIES_DIR=str(policies))
    store = KeyStore(settings.secrets_dir / "api-keys.json")
    keys = {
        "hr": store.create("harriet", ["hr"], [])[1],
        "eng": store.create("eddie", ["eng"], [])[1],
        "hradmin": store.create("hana", ["hr", "hr-admins"], [])[1],
        "auditor": store.create("audrey", [], ["auditor"])[1],
        "admin": store.create("root", [], ["admin"])[1],
    }
    with running_gateway(settings) as url:
        yield Gateway(url, settings, keys)


def upload(client: httpx.Client, collection: str, files: dict[str, str], groups: str) -> dict:  # type: ignore[type-arg]
    parts = [("files", (name, text.encode())) for name, text in files.items()]
    response = client.post(f"/v1/collections/{collection}/documents", files=parts, data={"groups": groups})
    assert response.status_code == 200, response.text
    return dict(response.json())


def read_audit(settings: Settings) -> list[dict]:  # type: ignore[type-arg]
    import json

    path: Path = settings.audit_dir / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
