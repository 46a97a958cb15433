"""The admin console's routes (``/v1/admin/*``) on the real gateway: an admin manages keys, reads the
filtered trail, verifies the chain, sees the health of each component and the jobs with their
per-file errors; everyone else gets 403 from each route, and each refusal is audited. Changes made
here go through the write-side service and leave the same records as the CLI's (``via`` differs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from enclave_core.audit import AuditLog
from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import make_settings
from tests.integration.faults import FakeLLM, policies_with_limits, serve_gateway

ADMIN_ROUTES = [
    ("GET", "/v1/admin/jobs", None),
    ("GET", "/v1/admin/keys", None),
    ("POST", "/v1/admin/keys", {"user": "mallory", "roles": ["admin"]}),
    ("DELETE", "/v1/admin/keys/0123456789ab", None),
    ("GET", "/v1/admin/audit", None),
    ("POST", "/v1/admin/audit/verify", None),
    ("GET", "/v1/admin/health", None),
]


def read_audit(settings: Settings) -> list[dict[str, Any]]:
    return list(AuditLog(settings.audit_dir).records())


@dataclass
class Env:
    url: str
    settings: Settings
    keys: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=120)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("admin-routes")
    with FakeLLM() as llm:
        settings = make_settings(root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)))
        store = KeyStore(settings.secrets_dir / "api-keys.json")
        keys = {
            "admin": store.create("root", [], ["admin"])[1],
            "auditor": store.create("audrey", [], ["auditor"])[1],
            "staff": store.create("sam", ["staff"], [])[1],
        }
        with serve_gateway(settings, embedder, redactor) as gateway:
            yield Env(gateway.url, settings, keys)


@pytest.mark.parametrize("who", ["staff", "auditor"])
def test_everyone_but_an_admin_gets_403_from_every_admin_route_and_is_audited(env: Env, who: str) -> None:
    before = len(read_audit(env.settings))
    with env.client(who) as client:
        for method, path, body in ADMIN_ROUTES:
            response = client.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
    denied = [r for r in read_audit(env.settings)[before:] if r["action"] == "access.denied"]
    assert len(denied) == len(ADMIN_ROUTES)
    assert {r["path"] for r in denied} == {p for _, p, _ in ADMIN_ROUTES}
    assert all(r["via"] == "console" and r["request_id"] for r in denied)
    assert not any(k.user == "mallory" for k in KeyStore(env.settings.secrets_dir / "api-keys.json").list())


def test_an_admin_creates_lists_and_revokes_a_key_and_the_trail_shows_it(env: Env) -> None:
    with env.client("admin") as client:
        created = client.post("/v1/admin/keys", json={"user": "carol", "groups": ["staff"], "roles": ["auditor"]})
        assert created.status_code == 201, created.text
        key = created.json()
        assert key["secret"].startswith("enc_") and "key_sha256" not in key
        listed = client.get("/v1/admin/keys").json()["keys"]
        assert any(k["key_id"] == key["key_id"] and not k["revoked_at"] for k in listed)
        assert all("key_sha256" not in k and "secret" not in k for k in listed)
        with httpx.Client(base_url=env.url, headers={"Authorization": f"Bearer {key['secret']}"}) as carol:
            assert carol.get("/v1/me").status_code == 200
            assert client.delete(f"/v1/admin/keys/{key['key_id']}").status_code == 200
            assert carol.get("/v1/me").status_code == 401
        assert client.post("/v1/admin/keys", json={"user": "x", "roles": ["root"]}).status_code == 400

        trail = client.get("/v1/admin/audit", params={"action": "key", "who": "root"}).json()["records"]
    assert [r["action"] for r in trail][:2] == ["key.revoke", "key.create"]  # newest first
    create = trail[1]
    assert create["via"] == "console" and create["key_id"] == key["key_id"] and create["roles"] == ["auditor"]
    assert key["secret"] not in str(read_audit(env.settings))


def test_the_trail_filters_by_request_id_and_the_chain_verifies(env: Env) -> None:
    with env.client("admin") as client:
        client.get("/v1/admin/keys", headers={"X-Request-ID": "console-filter-0001"})
        client.post("/v1/admin/keys", json={"user": "dave"}, headers={"X-Request-ID": "console-filter-0002"})
        found = client.get("/v1/admin/audit", params={"request_id": "console-filter-0002"}).json()["records"]
        assert [r["action"] for r in found] == ["key.create"] and found[0]["user"] == "dave"
        assert client.get("/v1/admin/audit", params={"request_id": "console-filter-0001"}).json()["records"] == []
        verified = client.post("/v1/admin/audit/verify").json()
    assert verified["ok"] is True and verified["records"] == len(read_audit(env.settings))


def test_health_names_every_component_and_jobs_show_per_file_errors(env: Env) -> None:
    with env.client("admin") as client:
        files = [("files", ("ok.md", b"# Leave\n\nSixteen weeks.")), ("files", ("broken.pdf", b"not a pdf"))]
        upload = client.post("/v1/collections/handbook/documents", files=files, data={"groups": "*"})
        assert upload.status_code == 200, upload.text
        health = client.get("/v1/admin/health").json()
        jobs = client.get("/v1/admin/jobs").json()["jobs"]
    assert set(health["components"]) >= {"gateway", "vector_store", "llm", "audit_chain", "audit_volume", "ingest_jobs"}
    assert health["components"]["llm"]["ok"] and health["components"]["vector_store"]["ok"]
    job = jobs[0]
    assert job["job_id"] == upload.json()["job_id"] and job["progress"]["files_total"] == 2
    failed = [f for f in job["files"] if f["status"] == "failed"]
    assert [f["source"] for f in failed] == ["broken.pdf"] and failed[0]["error"]
