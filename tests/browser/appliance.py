"""A real appliance for the UI and OpenAI API end-to-end tests: the real gateway (uvicorn on
loopback), the real ingest path and, when given its URL, the real CPU vLLM.

Two collections with different readers: ``handbook`` (group ``staff``: alice) and
``finance`` (group ``finance``: bob, who also holds ``pii:reveal``). The access policy and
the documents' ACLs both say so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import REPO, make_settings
from tests.e2e.gateway_server import running_gateway

__all__ = ["ACCESS_POLICY", "EVAL", "Appliance", "running_appliance"]

EVAL = REPO / "tests" / "fixtures" / "eval_corpus"

ACCESS_POLICY = """\
version: 1
default:
  read: ["*"]
  write: []
  admin: []
collections:
  handbook:
    read: [staff]
    write: [staff]
  finance:
    read: [finance]
    write: [finance]
"""

# collection -> (uploading user, groups allowed to read, files from the eval corpus)
DOCUMENTS: dict[str, tuple[str, str, list[str]]] = {
    "handbook": ("alice", "staff", ["annual-leave-policy.md", "travel-reimbursement-guidelines.pdf"]),
    "finance": ("bob", "finance", ["procurement-and-purchase-approval.md"]),
}


@dataclass
class Appliance:
    url: str
    settings: Settings
    keys: dict[str, str]

    def http(self, user: str = "alice") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[user]}"}, timeout=300)


@contextmanager
def running_appliance(
    root: Path,
    llm_url: str = "http://127.0.0.1:9/v1",
    documents: dict[str, tuple[str, str, list[str]]] | None = None,
) -> Iterator[Appliance]:
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY)
    settings = make_settings(
        root / "data",
        llm_url,
        ENCLAVE_LLM__MAX_TOKENS="64",
        ENCLAVE_POLICIES_DIR=str(policies),
        ENCLAVE_ANSWERS__CHECK_EVIDENCE="true",  # the shipped default: the UI shows its verdicts
    )
    store = KeyStore(settings.secrets_dir / "api-keys.json")
    keys = {
        "alice": store.create("alice", ["staff"], [])[1],
        "bob": store.create("bob", ["finance"], ["pii:reveal"])[1],
    }
    with running_gateway(settings) as url:
        appliance = Appliance(url, settings, keys)
        for collection, (user, groups, names) in (DOCUMENTS if documents is None else documents).items():
            files = [("files", (name, (EVAL / name).read_bytes())) for name in names]
            with appliance.http(user) as http:
                r = http.post(f"/v1/collections/{collection}/documents", files=files, data={"groups": groups})
            assert r.status_code == 200, r.text
            assert r.json()["failed"] == 0, r.text
        yield appliance
