"""Attack (review finding 1): user B floods the gateway with questions while user A searches. With the
int8 embedder (the default) activations are quantised with one scale per ONNX run, so if A's question
were embedded in one batch with B's, B's questions would move A's query vector and A's citation
scores: a cross-user flow, and results that cannot be replayed. A's citations (order and scores) must
be exactly those A gets when searching alone.

Through the real gateway over HTTP (two API keys), the session's int8 ONNX embedder and Presidio, and
the embedded store. B's questions have about the length of A's, so they would share its length bucket;
batched with any one of them, A's int8 vector moves by up to ~0.02 in a coordinate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_core.embedding.registry import variant_of
from enclave_core.keys import KeyStore
from tests.conftest import make_settings
from tests.integration.faults import admin_key, policies_with_limits, serve_gateway

COLLECTION = "handbook"
DOCUMENTS = {
    "leave.md": "Employees get sixteen weeks of fully paid parental leave, which can be split in two parts.",
    "holiday.md": "Every employee has twenty-eight days of annual holiday, and five may be carried over.",
    "travel.md": "Train travel is booked through the travel desk; flights need a manager's approval first.",
    "laptops.md": "Laptops are replaced every four years, or earlier when a repair costs more than half.",
    "canteen.md": "The canteen serves a vegetarian lunch every weekday between noon and two o'clock.",
    "parking.md": "Parking permits are issued by facilities and renewed each January for a small fee.",
}
QUESTION_A = "How many weeks of parental leave do employees get?"
# Within a few tokens of QUESTION_A's 12 (so they would share its length bucket and padded ONNX run).
QUESTIONS_B = [
    "What is the travel budget for the sales team?",
    "Which laptops are replaced after four years of use?",
    "When does the canteen serve its vegetarian lunch?",
    "WHAT IS THE PARKING PERMIT FEE FOR NEW STAFF???",
]
ROUNDS = 6
FLOOD = 12  # B's concurrent requests per round


@dataclass
class Users:
    alice: httpx.Client
    bob: httpx.Client


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Users]:
    assert variant_of(embedder) == "onnx-int8"  # the shipped default, whose activations are quantised
    root: Path = tmp_path_factory.mktemp("batching")
    settings = make_settings(root / "data", ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)))
    keys = KeyStore(settings.secrets_dir / "api-keys.json")
    alice, bob = keys.create("alice", ["sales"], [])[1], keys.create("bob", ["support"], [])[1]
    admin = admin_key(settings)
    with serve_gateway(settings, embedder, redactor) as gateway:

        def client(key: str) -> httpx.Client:
            limits = httpx.Limits(max_connections=FLOOD + 2)
            return httpx.Client(
                base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=120, limits=limits
            )

        with client(admin) as c:
            files = [("files", (name, text.encode())) for name, text in DOCUMENTS.items()]
            response = c.post(f"/v1/collections/{COLLECTION}/documents", files=files, data={"groups": "*"})
            assert response.status_code == 200 and response.json()["ingested"] == len(DOCUMENTS), response.text
        with client(alice) as a, client(bob) as b:
            yield Users(a, b)


def _search(client: httpx.Client, question: str) -> list[tuple[str, float]]:
    body = {"question": question, "collection": COLLECTION, "mode": "dense", "top_k": len(DOCUMENTS)}
    response = client.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    return [(c["source"], c["score"]) for c in response.json()["citations"]]


def test_another_users_concurrent_questions_do_not_change_a_users_results(users: Users) -> None:
    alone = _search(users.alice, QUESTION_A)
    assert alone[0][0] == "leave.md" and len(alone) == len(DOCUMENTS)
    assert _search(users.alice, QUESTION_A) == alone  # deterministic when alone

    with ThreadPoolExecutor(FLOOD + 1) as pool:
        for _ in range(ROUNDS):
            start = threading.Barrier(FLOOD + 1)

            def flood(i: int, start: threading.Barrier = start) -> None:
                start.wait()
                _search(users.bob, QUESTIONS_B[i % len(QUESTIONS_B)])

            def probe(start: threading.Barrier = start) -> list[tuple[str, float]]:
                start.wait()
                return _search(users.alice, QUESTION_A)

            floods = [pool.submit(flood, i) for i in range(FLOOD)]
            together = pool.submit(probe)
            for f in floods:
                f.result()
            assert together.result() == alone  # order and scores, to the last digit the API gives
