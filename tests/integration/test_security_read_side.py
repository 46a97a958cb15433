"""Attacks on the read side, performed through the real REST API (issue 18, findings 2, 3, 6, 8).

A real gateway (uvicorn on loopback, real Presidio, embeddings and embedded Qdrant) with a
scripted OpenAI-compatible LLM: the attacks need a model that repeats what it is given (a
placeholder typed into the question) or fails after the passages were sent, which the small
CPU model does only by chance. Every test here failed on the code before its fix.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import REPO, make_settings
from tests.integration.conftest import ACCESS_POLICY, read_audit, upload
from tests.integration.faults import FakeLLM, serve_gateway

ISSUER = "https://idp.example.internal/realms/enclave"
AUDIENCE = "enclave-gateway"

HR_REVIEW = (
    "# Disciplinary note\n\nJane Doe (phone 555-0143) received a written warning for repeated "
    "late arrivals at the warehouse in March."
)
ENG_NOTE = "# Build server\n\nThe build server is maintained by the platform team and patched every Tuesday."


@dataclass
class ReadSide:
    url: str
    settings: Settings
    keys: dict[str, str]
    llm: FakeLLM
    signing_key: rsa.RSAPrivateKey
    hr_doc: str

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=120)

    def sso(self, username: str, groups: list[str], subject: str = "sso-user-7f3a") -> httpx.Client:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "preferred_username": username,
            "groups": groups,
            "iat": now,
            "exp": now + 600,
        }
        token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": "rsa-1"})
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


@pytest.fixture(scope="module")
def read_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadSide]:
    root = tmp_path_factory.mktemp("read-side")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY, encoding="utf-8")
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = {"keys": [{**RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True), "kid": "rsa-1", "alg": "RS256"}]}
    jwks_file = root / "jwks.json"
    jwks_file.write_text(json.dumps(jwks), encoding="utf-8")
    with FakeLLM() as llm:
        settings = make_settings(
            root / "data",
            llm.url,
            ENCLAVE_POLICIES_DIR=str(policies),
            ENCLAVE_AUTH__OIDC_ISSUER=ISSUER,
            ENCLAVE_AUTH__OIDC_AUDIENCE=AUDIENCE,
            ENCLAVE_AUTH__OIDC_JWKS_FILE=str(jwks_file),
        )
        store = KeyStore(settings.secrets_dir / "api-keys.json")
        keys = {
            "hr-reveal": store.create("harriet", ["hr"], ["pii:reveal"])[1],
            "eng-reveal": store.create("eddie", ["eng"], ["pii:reveal"])[1],
            "eng": store.create("erin", ["eng"], [])[1],
            "admin": store.create("root", [], ["admin"])[1],
        }
        with serve_gateway(settings) as gw:
            side = ReadSide(gw.url, settings, keys, llm, signing_key, "")
            with side.client("admin") as admin:
                side.hr_doc = upload(admin, "shared", {"disciplinary-note.md": HR_REVIEW}, "hr")["files"][0]["doc_id"]
                upload(admin, "shared", {"build-server.md": ENG_NOTE}, "eng")
            yield side


def _records(side: ReadSide, action: str) -> list[dict[str, Any]]:
    return [r for r in read_audit(side.settings) if r["action"] == action]


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


# --- finding 2: reveal beyond one's groups ----------------------------------------------------


def test_reveal_does_not_replace_placeholders_typed_into_the_question(read_side: ReadSide) -> None:
    """The attack: an engineer with pii:reveal types HR's placeholders into a question; the model
    repeats them and the reveal step used to replace them with HR-only values."""
    read_side.llm.answer = "<PERSON_1> <PHONE_NUMBER_1>"
    with read_side.client("eng-reveal") as eddie:
        r = eddie.post(
            "/v1/query",
            json={
                "question": "<PERSON_1> <PHONE_NUMBER_1>",
                "collection": "shared",
                "reveal": True,
                "reveal_reason": "audit of the build server",
            },
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "Jane" not in body["answer"] and "555" not in body["answer"]
    assert "<PERSON_1>" in body["answer"]
    assert all(c["doc_id"] != read_side.hr_doc for c in body["citations"])
    record = _records(read_side, "pii.reveal")[-1]
    assert record["principal"] == "eddie"
    assert record["placeholders"] == []
    assert set(record["withheld"]) == {"<PERSON_1>", "<PHONE_NUMBER_1>"}


def test_reveal_still_works_for_passages_the_caller_can_read(read_side: ReadSide) -> None:
    read_side.llm.answer = "<PERSON_1> received a written warning."
    with read_side.client("hr-reveal") as harriet:
        r = harriet.post(
            "/v1/query",
            json={
                "question": "Who received a written warning for late arrivals?",
                "collection": "shared",
                "reveal": True,
                "reveal_reason": "disciplinary appeal 2026-114",
            },
        )
    assert r.status_code == 200, r.text
    assert r.json()["answer"].startswith("Jane Doe received")
    record = _records(read_side, "pii.reveal")[-1]
    assert record["placeholders"] == ["<PERSON_1>"]
    assert record["placeholder_documents"] == {"<PERSON_1>": [read_side.hr_doc]}
    assert record["documents"] == [read_side.hr_doc]
    assert "Jane" not in json.dumps(record)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reveal_needs_a_reason_on_the_rest_api(read_side: ReadSide, reason: str | None) -> None:
    read_side.llm.answer = "<PERSON_1> received a written warning."
    before = len(_records(read_side, "pii.reveal"))
    with read_side.client("hr-reveal") as harriet:
        r = harriet.post(
            "/v1/query",
            json={
                "question": "Who received a written warning?",
                "collection": "shared",
                "reveal": True,
                "reveal_reason": reason,
            },
        )
    assert r.status_code == 400, r.text
    assert "reveal_reason" in r.json()["detail"]
    assert len(_records(read_side, "pii.reveal")) == before


# --- finding 3: probing names through pseudonyms ---------------------------------------------


def _question_as_audited(side: ReadSide, who: str, question: str) -> str:
    with side.client(who) as c:
        r = c.post("/v1/search", json={"question": question, "collection": "shared"})
    assert r.status_code == 200, r.text
    return str(_records(side, "search")[-1]["question"])


def test_a_question_does_not_reveal_that_a_name_occurs_in_unreadable_documents(read_side: ReadSide) -> None:
    """'Jane Doe' occurs only in an HR document. For an engineer, her name must become the same
    typed placeholder as a name that occurs nowhere."""
    known = _question_as_audited(read_side, "eng", "Did Jane Doe get a warning?")
    unknown = _question_as_audited(read_side, "eng", "Did Mary Quinlan get a warning?")
    assert "<PERSON_1>" not in known
    assert known.replace("<PERSON>", "X") == unknown.replace("<PERSON>", "X")
    # The LLM sees the same form as the audit record.
    read_side.llm.answer = "No."
    with read_side.client("eng") as erin:
        assert erin.post(
            "/v1/query", json={"question": "Did Jane Doe get a warning?", "collection": "shared"}
        ).is_success
    assert "<PERSON_1>" not in json.dumps(read_side.llm.prompts[-1])


def test_a_reader_of_the_document_still_gets_its_placeholder(read_side: ReadSide) -> None:
    assert "<PERSON_1>" in _question_as_audited(read_side, "hr-reveal", "Did Jane Doe get a warning?")
    assert "<PERSON_1>" in _question_as_audited(read_side, "admin", "Did Jane Doe get a warning?")


# --- finding 6: passages shown without a trace -------------------------------------------------


def test_passages_sent_before_an_llm_failure_are_in_the_audit_trail(read_side: ReadSide) -> None:
    """The chat UI's stream sends the citations (full chunk text) before the answer; when the
    LLM then fails, the trail must still hold the question and the chunks that left."""
    before = len(read_audit(read_side.settings))
    read_side.llm.fail_with = 500
    try:
        with read_side.client("hr-reveal") as harriet:
            r = harriet.post("/v1/chat", json={"question": "Who got a written warning?", "collection": "shared"})
    finally:
        read_side.llm.fail_with = None
    assert r.status_code == 200, r.text
    events = _events(r)
    sent = next(e for e in events if e["type"] == "citations")["citations"]
    assert sent and any(e["type"] == "error" for e in events)
    sent_ids = {c["chunk_id"] for c in sent}
    records = read_audit(read_side.settings)[before:]
    with_chunks = [r for r in records if {c["id"] for c in r.get("chunks", [])} == sent_ids]
    assert with_chunks, records
    assert all("written warning" in r["question"] for r in with_chunks), with_chunks
    failed = [r for r in records if r["action"] == "query" and r["outcome"] == "error"]
    assert failed and {c["id"] for c in failed[-1]["chunks"]} == sent_ids


# --- finding 8: identity by name only -----------------------------------------------------------


def test_an_sso_user_with_an_api_key_users_name_sees_none_of_their_jobs_or_conversations(
    read_side: ReadSide,
) -> None:
    read_side.llm.answer = "The platform team maintains it."
    with read_side.client("eng") as erin:
        job = erin.post(
            "/v1/collections/shared/documents?wait=false",
            files=[("files", ("erin-notes.md", b"# Notes\n\nThe staging cluster is rebuilt on Fridays."))],
            data={"groups": "eng"},
        )
        assert job.status_code == 202, job.text
        job_id = job.json()["job_id"]
        assert erin.get(f"/v1/jobs/{job_id}").status_code == 200
        chat = erin.post("/v1/chat", json={"question": "Who maintains the build server?", "collection": "shared"})
        assert chat.status_code == 200
        mine = erin.get("/v1/conversations").json()["conversations"]
        assert mine
    with read_side.sso("erin", ["eng"]) as impostor:
        assert impostor.get("/v1/collections").status_code == 200  # a valid SSO user
        assert impostor.get(f"/v1/jobs/{job_id}").status_code == 404
        assert impostor.get("/v1/conversations").json()["conversations"] == []
        assert impostor.get(f"/v1/conversations/{mine[0]['id']}").status_code == 404
