"""Locust users for ``enclave bench load`` (benchmarks/load.py): a mix of search, query and upload
against one gateway, each simulated user with its own API key (so per-user rate limits apply
as they would to real people).

Environment (set by benchmarks/load.py):
  ENCLAVE_LOAD_KEYS        JSON file: a list of API keys, one per simulated user (round-robin)
  ENCLAVE_LOAD_COLLECTION  the collection to search, ask and upload into
  ENCLAVE_LOAD_WEIGHTS     "search,query,upload" task weights (default 6,3,1)

A 429 with Retry-After is the gateway's documented back-pressure: it is recorded as a failure
named "429 ..." so that the error breakdown shows it, and load.py tells it apart from real errors.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import uuid
from typing import Any

from locust import HttpUser, between, task

DOCUMENTED_429 = "429 Too Many Requests (documented back-pressure, Retry-After)"

_KEYS: list[str] = json.loads(open(os.environ["ENCLAVE_LOAD_KEYS"], encoding="utf-8").read())  # noqa: SIM115
_NEXT_KEY = itertools.cycle(range(len(_KEYS)))
_KEY_LOCK = threading.Lock()
COLLECTION = os.environ.get("ENCLAVE_LOAD_COLLECTION", "samples")
W_SEARCH, W_QUERY, W_UPLOAD = (int(w) for w in os.environ.get("ENCLAVE_LOAD_WEIGHTS", "6,3,1").split(","))

QUESTIONS = [
    "How many weeks of paid parental leave do employees get?",
    "What is the hotel cap for business travel?",
    "How often must passwords be changed?",
    "Is the VPN required when working remotely?",
    "What caused the payments outage?",
    "What did engineering ship in the second quarter?",
    "Who is the contact for the CloudHarbor contract?",
    "What should a new employee do in the first week?",
    "Are train tickets reimbursed in first class?",
    "How is overtime compensated?",
]
TOPICS = ["travel", "security", "onboarding", "benefits", "procurement", "incident", "payroll", "facilities"]


def _document() -> tuple[str, bytes]:
    name = f"load/{uuid.uuid4().hex}.md"
    topic = random.choice(TOPICS)
    body = " ".join(
        f"The {topic} guideline number {random.randint(1, 999)} applies to {random.choice(TOPICS)} requests."
        for _ in range(random.randint(5, 40))
    )
    return name, f"# {topic.title()} note\n\n{body}\n".encode()


class EnclaveUser(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        with _KEY_LOCK:
            key = _KEYS[next(_NEXT_KEY)]
        self.client.headers["Authorization"] = f"Bearer {key}"

    def _check(self, response: Any) -> None:
        if response.status_code == 200:
            response.success()
        elif response.status_code == 429 and response.headers.get("Retry-After"):
            response.failure(DOCUMENTED_429)
        elif response.status_code == 0:
            # No HTTP response at all: name the client-side exception, or the breakdown says nothing.
            error = response.error
            response.failure(f"0 {type(error).__name__}: {str(error)[:160]}")
        else:
            detail = (response.text or "")[:120].replace("\n", " ")
            response.failure(f"{response.status_code} {detail}")

    @task(W_SEARCH)
    def search(self) -> None:
        body = {"question": random.choice(QUESTIONS), "collection": COLLECTION, "top_k": 5}
        with self.client.post("/v1/search", json=body, name="POST /v1/search", catch_response=True) as response:
            self._check(response)

    @task(W_QUERY)
    def query(self) -> None:
        body = {"question": random.choice(QUESTIONS), "collection": COLLECTION}
        with self.client.post(
            "/v1/query", json=body, name="POST /v1/query", catch_response=True, timeout=300
        ) as response:
            self._check(response)

    @task(W_UPLOAD)
    def upload(self) -> None:
        name, data = _document()
        with self.client.post(
            f"/v1/collections/{COLLECTION}/documents",
            files=[("files", (name, data, "text/markdown"))],
            data={"groups": "staff"},
            name="POST /v1/collections/{name}/documents",
            catch_response=True,
            timeout=300,
        ) as response:
            if response.status_code == 200 and response.json().get("failed"):
                response.failure(f"ingest failed: {response.json()['files'][0].get('error')}")
            else:
                self._check(response)
