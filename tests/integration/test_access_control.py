"""A member of one group never receives a chunk of another group's document: checked in the
search results, in the answer path's retrieval and in the audit record, through real HTTP."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Gateway, read_audit, upload

HR_DOC = (
    "# Salary bands 2026\n\nThe salary band for senior engineers is 95,000 to 120,000 euros. "
    "Bands are reviewed every March by the compensation committee."
)
ENG_DOC = (
    "# Salary bands 2026 (draft)\n\nThe salary band for senior engineers is 90,000 to 110,000 euros. "
    "Bands are reviewed every March by the compensation committee."
)
QUESTION = "What is the salary band for senior engineers?"


@pytest.fixture(scope="module")
def near_duplicates(gateway: Gateway) -> dict[str, str]:
    with gateway.client("admin") as admin:
        hr = upload(admin, "shared", {"hr-bands.md": HR_DOC}, "hr")
        eng = upload(admin, "shared", {"eng-bands.md": ENG_DOC}, "eng")
    return {"hr": hr["files"][0]["doc_id"], "eng": eng["files"][0]["doc_id"]}


def _search(gateway: Gateway, who: str, collection: str = "shared") -> list[dict]:  # type: ignore[type-arg]
    with gateway.client(who) as c:
        r = c.post("/v1/search", json={"question": QUESTION, "collection": collection, "top_k": 10})
    assert r.status_code == 200, r.text
    return list(r.json()["citations"])


@pytest.mark.parametrize("who,own,other", [("hr", "hr", "eng"), ("eng", "eng", "hr")])
def test_group_members_see_only_their_documents(
    gateway: Gateway, near_duplicates: dict[str, str], who: str, own: str, other: str
) -> None:
    citations = _search(gateway, who)
    doc_ids = {c["doc_id"] for c in citations}
    assert doc_ids == {near_duplicates[own]}
    last_search = [r for r in read_audit(gateway.settings) if r["action"] == "search"][-1]
    assert {c["doc_id"] for c in last_search["chunks"]} == {near_duplicates[own]}
    assert near_duplicates[other] not in str(last_search)


def test_admin_sees_both(gateway: Gateway, near_duplicates: dict[str, str]) -> None:
    assert {c["doc_id"] for c in _search(gateway, "admin")} == set(near_duplicates.values())


def test_principal_without_the_group_gets_nothing_and_it_is_audited(
    gateway: Gateway, near_duplicates: dict[str, str]
) -> None:
    # No groups at all: the collection answers as an unknown one would (no existence probe).
    with gateway.client("auditor") as c:
        r = c.post("/v1/search", json={"question": QUESTION, "collection": "shared", "top_k": 10})
    assert r.status_code == 404, r.text
    record = [r for r in read_audit(gateway.settings) if r["action"] == "search"][-1]
    assert record["principal"] == "audrey" and record["outcome"] == "error" and "chunks" not in record


def test_collection_restricted_to_one_group(gateway: Gateway) -> None:
    with gateway.client("hr") as hr:
        upload(hr, "hr-only", {"handbook.md": "# Handbook\n\nOvertime is paid at 150 percent."}, "hr")
        ok = hr.post("/v1/search", json={"question": "How is overtime paid?", "collection": "hr-only"})
    assert ok.status_code == 200 and ok.json()["citations"]
    with gateway.client("eng") as eng:
        denied = eng.post("/v1/search", json={"question": "How is overtime paid?", "collection": "hr-only"})
        listed = eng.get("/v1/collections").json()["collections"]
    assert denied.status_code == 403
    assert "hr-only" in denied.json()["detail"]
    assert "hr-only" not in [c["name"] for c in listed]
    record = [r for r in read_audit(gateway.settings) if r["action"] == "access.denied"][-1]
    assert record["action"] == "access.denied" and record["principal"] == "eddie" and record["collection"] == "hr-only"


def test_upload_needs_write_permission(gateway: Gateway) -> None:
    with gateway.client("eng") as eng:
        r = eng.post("/v1/collections/hr-only/documents", files=[("files", ("x.md", b"# X\n\ntext"))])
    assert r.status_code == 403


def _doc_chunk_ids(gateway: Gateway, who: str, question: str, doc_id: str) -> set[str]:
    with gateway.client(who) as c:
        r = c.post("/v1/search", json={"question": question, "collection": "shared", "top_k": 50})
    assert r.status_code == 200, r.text
    return {c["chunk_id"] for c in r.json()["citations"] if c["doc_id"] == doc_id}


def test_changing_a_documents_acl_updates_payloads_without_reembedding(gateway: Gateway) -> None:
    text = "# Reorganisation\n\nThe platform team merges into infrastructure in May."
    question = "When does the platform team merge?"
    with gateway.client("hradmin") as hradmin:
        doc_id = upload(hradmin, "shared", {"reorg.md": text}, "hr")["files"][0]["doc_id"]
    before = _doc_chunk_ids(gateway, "admin", question, doc_id)
    assert before and _doc_chunk_ids(gateway, "eng", question, doc_id) == set()
    with gateway.client("hradmin") as hradmin:
        r = hradmin.put(f"/v1/collections/shared/documents/{doc_id}/acl", json={"groups": ["hr", "eng"]})
    assert r.status_code == 200, r.text
    assert r.json()["acl"] == ["eng", "hr"]
    # Same points (ids) now visible to eng: a payload update, not a re-ingest.
    assert _doc_chunk_ids(gateway, "eng", question, doc_id) == before
    assert [r for r in read_audit(gateway.settings) if r["action"] == "acl.change"][-1]["documents"] == [doc_id]
    assert not [r for r in read_audit(gateway.settings) if r["action"] == "ingest" and r["documents"] == [doc_id]][1:]


def test_acl_change_needs_collection_admin(gateway: Gateway, near_duplicates: dict[str, str]) -> None:
    with gateway.client("hr") as hr:
        r = hr.put(f"/v1/collections/shared/documents/{near_duplicates['hr']}/acl", json={"groups": ["*"]})
    assert r.status_code == 403


def test_missing_and_bad_credentials_are_refused_and_audited(gateway: Gateway) -> None:
    with gateway.client(None) as anon:
        assert anon.get("/healthz").status_code == 200
        r = anon.post("/v1/search", json={"question": "x", "collection": "shared"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert anon.get("/readyz").status_code == 401
        r = anon.post(
            "/v1/search",
            json={"question": "x", "collection": "shared"},
            headers={"Authorization": "Bearer enc_forged"},
        )
        assert r.status_code == 401
    denied = [r for r in read_audit(gateway.settings) if r["action"] == "auth.denied"]
    assert len(denied) >= 3
    assert all("enc_forged" not in str(r) for r in denied)


def test_revoked_key_is_refused(gateway: Gateway) -> None:
    from enclave_core.keys import KeyStore

    store = KeyStore(gateway.settings.secrets_dir / "api-keys.json")
    record, secret = store.create("temp", ["eng"], [])
    with gateway.client(None) as c:
        headers = {"Authorization": f"Bearer {secret}"}
        assert c.get("/v1/collections", headers=headers).status_code == 200
        store.revoke(record.key_id)
        assert c.get("/v1/collections", headers=headers).status_code == 401


def test_audit_endpoint_is_for_auditors_only(gateway: Gateway) -> None:
    with gateway.client("auditor") as auditor:
        r = auditor.get("/v1/audit")
    assert r.status_code == 200
    assert r.json()["chain"]["ok"] is True and r.json()["records"]
    with gateway.client("hr") as hr:
        assert hr.get("/v1/audit").status_code == 403
