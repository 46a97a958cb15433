"""Attacks on the write side, performed through the real REST API (issue 18, findings 1, 7, 9b).

A real gateway (uvicorn on loopback, real Presidio, embeddings and embedded Qdrant) with a
scripted OpenAI-compatible LLM, so the prompt the model receives can be inspected. Every test
here failed on the code before its fix.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from ingest.erasure import Eraser, find_plaintext
from tests.conftest import REPO, make_settings
from tests.integration.conftest import ACCESS_POLICY
from tests.integration.faults import FakeLLM, serve_gateway

HR_SALARIES = "# Salaries\n\nThe salary of the head of payroll is 84,000 euros a year, reviewed in March."
ENG_SALARIES = "# Salaries (engineering draft)\n\nContractor day rates in engineering are 650 euros."
NAME = "Jane Doe"
REVIEW_PATH = f"reviews/{NAME} - performance review.txt"
REVIEW = "# Annual review\n\nShe exceeded every delivery target this year and mentors two new analysts."


@dataclass
class WriteSide:
    url: str
    settings: Settings
    keys: dict[str, str]
    llm: FakeLLM
    app: Any

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=120)


@pytest.fixture(scope="module")
def write_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WriteSide]:
    root = tmp_path_factory.mktemp("write-side")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY, encoding="utf-8")
    with FakeLLM(answer="See the sources.") as llm:
        # The instruct profile names each source's file in the prompt: the case where a path reaches the LLM.
        settings = make_settings(
            root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies), ENCLAVE_LLM__PROMPT_PROFILE="instruct"
        )
        store = KeyStore(settings.secrets_dir / "api-keys.json")
        keys = {
            "hr": store.create("harriet", ["hr"], [])[1],
            "hr2": store.create("hugo", ["hr"], [])[1],
            "eng": store.create("eddie", ["eng"], [])[1],
            "hradmin": store.create("hana", ["hr", "hr-admins"], [])[1],
            "nobody": store.create("nora", ["visitors"], [])[1],
        }
        with serve_gateway(settings) as gw:
            yield WriteSide(gw.url, settings, keys, llm, gw.app)


def _upload(client: httpx.Client, name: str, text: str, groups: str, path: str | None = None) -> httpx.Response:
    data: dict[str, Any] = {"groups": groups}
    if path is not None:
        data["paths"] = [path]
    return client.post("/v1/collections/shared/documents", files=[("files", (name, text.encode()))], data=data)


def _search(client: httpx.Client, question: str) -> list[dict[str, Any]]:
    r = client.post("/v1/search", json={"question": question, "collection": "shared", "top_k": 10})
    assert r.status_code == 200, r.text
    return list(r.json()["citations"])


def _documents(client: httpx.Client) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/collections/shared/documents")
    assert r.status_code == 200, r.text
    return {d["doc_id"]: d for d in r.json()["documents"]}


# --- finding 1: overwrite by a writer ----------------------------------------------------------


@pytest.fixture(scope="module")
def hr_salaries(write_side: WriteSide) -> str:
    with write_side.client("hr") as harriet:
        r = _upload(harriet, "salaries.txt", HR_SALARIES, "hr")
    assert r.status_code == 200, r.text
    return str(r.json()["files"][0]["doc_id"])


def test_a_writer_of_another_group_cannot_replace_a_document_by_its_name(
    write_side: WriteSide, hr_salaries: str
) -> None:
    """The attack: an engineer with write access uploads 'salaries.txt'. HR's document of that
    name used to be replaced - its text and its readers."""
    with write_side.client("eng") as eddie:
        mine = _upload(eddie, "salaries.txt", ENG_SALARIES, "eng")
        assert mine.status_code == 200, mine.text
        assert mine.json()["files"][0]["doc_id"] != hr_salaries  # a document of its own
        # Naming HR as the readers does not get them a way in either.
        assert _upload(eddie, "salaries.txt", ENG_SALARIES, "hr").status_code == 403
    with write_side.client("hr") as harriet:
        docs = _documents(harriet)
        assert docs[hr_salaries]["acl"] == ["hr"]
        found = _search(harriet, "salary of the head of payroll")
        assert any(c["doc_id"] == hr_salaries and "84,000" in c["text"] for c in found)
        assert all("650 euros" not in c["text"] for c in found)


def test_a_writer_of_the_same_group_gets_409_not_a_silent_replace(write_side: WriteSide, hr_salaries: str) -> None:
    with write_side.client("hr2") as hugo:
        r = _upload(hugo, "salaries.txt", "# Salaries\n\nEveryone earns 1 euro.", "hr")
        assert r.status_code == 409, r.text
        assert "salaries.txt" in r.json()["detail"] and "admin" in r.json()["detail"]
        same = _upload(hugo, "salaries.txt", HR_SALARIES, "hr")  # the same bytes: nothing to replace
        assert same.status_code == 200 and same.json()["unchanged"] == 1
        assert "84,000" in " ".join(c["text"] for c in _search(hugo, "salary of the head of payroll"))


def test_the_collections_admin_may_replace(write_side: WriteSide, hr_salaries: str) -> None:
    newer = HR_SALARIES.replace("84,000", "86,500")
    with write_side.client("hradmin") as hana:
        r = _upload(hana, "salaries.txt", newer, "hr")
        assert r.status_code == 200, r.text
        assert r.json()["files"][0]["doc_id"] == hr_salaries and r.json()["ingested"] == 1
        assert "86,500" in " ".join(c["text"] for c in _search(hana, "salary of the head of payroll"))
    with write_side.client("hradmin") as hana:  # restore for the other tests
        assert _upload(hana, "salaries.txt", HR_SALARIES, "hr").status_code == 200


# --- finding 7: personal data in file names -----------------------------------------------------


@pytest.fixture(scope="module")
def review(write_side: WriteSide) -> dict[str, Any]:
    with write_side.client("hr") as harriet:
        r = _upload(harriet, "review.txt", REVIEW, "hr", path=REVIEW_PATH)
    assert r.status_code == 200, r.text
    return dict(r.json()["files"][0])


def test_a_name_in_a_file_path_is_pseudonymized_everywhere(write_side: WriteSide, review: dict[str, Any]) -> None:
    assert review["status"] == "ingested"
    assert NAME not in review["source"] and "<PERSON_" in review["source"]
    assert review["source"].startswith("reviews/") and review["source"].endswith(" - performance review.txt")
    with write_side.client("hr") as harriet:
        docs = _documents(harriet)
        assert NAME not in docs[review["doc_id"]]["source"]
        found = _search(harriet, "who mentors two new analysts")
        cited = [c for c in found if c["doc_id"] == review["doc_id"]]
        assert cited and all(NAME not in str(c) for c in cited)
        write_side.llm.answer = "She mentors two analysts."
        r = harriet.post("/v1/query", json={"question": "Who mentors two new analysts?", "collection": "shared"})
        assert r.status_code == 200, r.text
    assert any(review["doc_id"] in str(m) or "performance review" in str(m) for m in write_side.llm.prompts[-1])
    assert NAME not in str(write_side.llm.prompts[-1])
    # Nothing under the data directory holds the name in clear: store payload pages and WAL,
    # ingest.sqlite, jobs.sqlite (the vault is encrypted).
    assert find_plaintext(write_side.settings.data_dir, [NAME]) == []
    with sqlite3.connect(write_side.settings.state_dir / "jobs.sqlite") as db:
        sources = [row[0] for row in db.execute("SELECT source FROM job_files")]
    assert sources and all(NAME not in s for s in sources)


def test_erasure_of_the_name_is_clean(write_side: WriteSide, review: dict[str, Any]) -> None:
    state = write_side.app.state.enclave
    report = Eraser(state.ingestor, state.jobs.journal).forget_value("shared", NAME)
    assert report.vault_entries_removed  # the name's pseudonym, from the path
    assert report.clean, report.remaining_plaintext


# --- finding 9b: existence probe ----------------------------------------------------------------


def test_a_collection_with_nothing_readable_answers_like_an_unknown_one(
    write_side: WriteSide, hr_salaries: str
) -> None:
    with write_side.client("nobody") as nora:
        answers = []
        for collection in ("shared", "no-such-collection"):
            search = nora.post("/v1/search", json={"question": "salaries", "collection": collection})
            listing = nora.get(f"/v1/collections/{collection}/documents")
            answers.append((search.status_code, listing.status_code))
            assert collection in search.json()["detail"] and collection in listing.json()["detail"]
    assert answers[0] == answers[1] == (404, 404)


# --- a job whose staged copy is gone fails that file alone --------------------------------------


def test_a_missing_staged_file_fails_alone_and_the_job_goes_on(write_side: WriteSide) -> None:
    """A crash between journaling a job and staging its bytes (or a damaged staged copy) must not
    stop the worker: that file fails with a clear error, the others are ingested."""
    jobs = write_side.app.state.enclave.jobs
    files = [("lost.md", b"# Lost\n\nThis upload's staged copy disappears."), ("kept.md", b"# Kept\n\nStill here.")]
    job_id = jobs.submit("shared", ["hr"], "api-key:harriet", files)
    (jobs.staging.directory / job_id / "0.bin").unlink()
    result = jobs.run(job_id)
    by_source = {f["source"]: f for f in result["files"]}
    assert by_source["lost.md"]["status"] == "failed"
    assert "staged copy" in by_source["lost.md"]["error"] and "upload the file again" in by_source["lost.md"]["error"]
    assert by_source["kept.md"]["status"] == "ingested"
    assert result["status"] == "done"
