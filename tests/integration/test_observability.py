"""Metrics and logs through the real gateway (issue 23): what they show, and what they never show.

A real gateway under uvicorn, started with the production server options (``uvicorn_options``:
JSON logging, no uvicorn access log) and ``logging.level: DEBUG``, with real Presidio,
embeddings and embedded Qdrant, and a scripted OpenAI-compatible LLM whose answer repeats a
personal value (so the output guard has something to redact). A document with a planted name,
e-mail address and phone number is uploaded and asked about in every way the API allows; then
``/metrics`` is scraped and every log line of the whole run is searched for each value and for
the question's words.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from enclave_core.keys import KeyStore
from enclave_core.logs import configure_logging
from enclave_core.requestctx import REQUEST_ID_HEADER
from enclave_core.settings import Settings
from services.gateway.app import create_app
from tests.conftest import REPO, make_settings
from tests.e2e.gateway_server import serving_app
from tests.integration.conftest import ACCESS_POLICY, upload
from tests.integration.faults import FakeLLM

NAME = "Marguerite Okonkwo"
EMAIL = "marguerite.okonkwo@example.org"
PHONE = "+1 415 555 0134"
DOCUMENT = (
    "# Zebrafish facility\n\n"
    f"{NAME} keeps the zebrafish husbandry log in the basement laboratory. "
    f"Reach her at {EMAIL} or on {PHONE} for feeding schedules and tank rotations."
)
QUESTION = f"Which telephone extension does {NAME} keep for zebrafish husbandry?"
ANSWER = f"Call {NAME} on {PHONE} or write to {EMAIL}."
# Every word of the question (5 letters or more) and every planted value, as they were sent.
FORBIDDEN = sorted({*(w.lower() for w in re.findall(r"[A-Za-z]{5,}", QUESTION)), EMAIL, PHONE, "okonkwo"})

# The metric families the gateway exports (counters without their _total suffix).
EXPORTED = {
    "enclave_http_requests": "counter",
    "enclave_http_request_duration_seconds": "histogram",
    "enclave_llm_queue_wait_seconds": "histogram",
    "enclave_llm_time_to_first_token_seconds": "histogram",
    "enclave_llm_generated_tokens_per_second": "histogram",
    "enclave_llm_generated_tokens": "counter",
    "enclave_llm_generations": "counter",
    "enclave_llm_queue_waiting": "gauge",
    "enclave_llm_requests_active": "gauge",
    "enclave_llm_queue_capacity": "gauge",
    "enclave_llm_concurrency_limit": "gauge",
    "enclave_requests_rejected": "counter",
    "enclave_ingest_documents": "counter",
    "enclave_ingest_chunks": "counter",
    "enclave_ingest_jobs": "gauge",
    "enclave_redactions": "counter",
    "enclave_vector_store_points": "gauge",
    "enclave_vector_store_up": "gauge",
    "enclave_audit_records_written": "counter",
    "enclave_audit_verify_ok": "gauge",
    "enclave_audit_verify_timestamp_seconds": "gauge",
    "enclave_audit_verify_records": "gauge",
    "enclave_disk_free_bytes": "gauge",
    "enclave_disk_reserve_bytes": "gauge",
}


@dataclass
class Observed:
    url: str
    settings: Settings
    keys: dict[str, str]
    logs: io.StringIO
    llm: FakeLLM

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def scrape(self) -> str:
        with self.client("auditor") as c:
            response = c.get("/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return response.text


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Observed]:
    root = tmp_path_factory.mktemp("observed")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY, encoding="utf-8")
    logs = io.StringIO()
    root_logger = logging.getLogger()
    level = root_logger.level
    handler = configure_logging("DEBUG", logs)  # what `enclave serve` does, into a buffer
    with FakeLLM(answer=ANSWER) as llm:
        settings = make_settings(
            root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies), ENCLAVE_LOGGING__LEVEL="DEBUG"
        )
        store = KeyStore(settings.secrets_dir / "api-keys.json")
        keys = {
            "hr": store.create("harriet", ["hr"], [])[1],
            "auditor": store.create("audrey", [], ["auditor"])[1],
            "admin": store.create("root", [], ["admin"])[1],
        }
        app = create_app(settings, warm=False)
        try:
            with serving_app(app, settings) as port:
                core = app.state.enclave.core
                core.__dict__["embedder"] = embedder
                core.__dict__["redactor"] = redactor
                yield Observed(f"http://127.0.0.1:{port}", settings, keys, logs, llm)
        finally:
            root_logger.removeHandler(handler)
            root_logger.setLevel(level)


@pytest.fixture(scope="module")
def exercised(observed: Observed) -> dict[str, httpx.Response]:
    """Every way the planted values can reach the gateway: upload, search, answers (JSON and
    streamed, OpenAI-compatible), values in query strings and paths, refusals."""
    out: dict[str, httpx.Response] = {}
    with observed.client("hr") as hr:
        upload(hr, "shared", {"zebrafish-facility.md": DOCUMENT}, "hr")
        out["search"] = hr.post("/v1/search", json={"question": QUESTION, "collection": "shared"})
        out["query"] = hr.post(
            "/v1/query",
            json={"question": QUESTION, "collection": "shared"},
            headers={REQUEST_ID_HEADER: "trace-0001-abcd"},
        )
        with hr.stream("POST", "/v1/query", json={"question": QUESTION, "collection": "shared", "stream": True}) as s:
            s.read()
            out["stream"] = s
        out["openai"] = hr.post(
            "/v1/chat/completions",
            json={"model": "rag-shared", "messages": [{"role": "user", "content": QUESTION}]},
        )
        observed.llm.fail_with = 500  # the LLM fails: the 503 is logged (route, status, class)
        try:
            out["llm_down"] = hr.post(
                "/v1/chat/completions",
                json={"model": "rag-shared", "messages": [{"role": "user", "content": QUESTION}]},
            )
        finally:
            observed.llm.fail_with = None
        out["query_string"] = hr.get("/v1/collections/shared/documents", params={"q": EMAIL, "who": NAME})
        out["path"] = hr.get(f"/v1/jobs/{EMAIL}")
        out["forbidden"] = hr.get("/metrics")
        out["bad_id"] = hr.get("/v1/collections", headers={REQUEST_ID_HEADER: f"id {EMAIL}"})
    with observed.client(None) as anonymous:
        out["unauthenticated"] = anonymous.post("/v1/search", json={"question": QUESTION, "collection": "shared"})
    return out


def test_the_questions_were_served(exercised: dict[str, httpx.Response]) -> None:
    """The test only means something if the planted values went all the way through."""
    for name in ("search", "query", "stream", "openai"):
        assert exercised[name].status_code == 200, (name, exercised[name].status_code)
    assert exercised["search"].json()["citations"], "the planted document was not retrieved"
    assert exercised["forbidden"].status_code == 403
    assert exercised["llm_down"].status_code == 503
    assert exercised["unauthenticated"].status_code == 401


def test_metrics_show_no_text_and_no_personal_value(observed: Observed, exercised: dict[str, httpx.Response]) -> None:
    text = observed.scrape().lower()
    leaked = [value for value in FORBIDDEN if value.lower() in text]
    assert not leaked, f"metrics show {leaked}"
    assert "harriet" not in text and "audrey" not in text  # no user names either


def test_every_answer_carries_a_request_id_that_its_log_lines_share(
    observed: Observed, exercised: dict[str, httpx.Response]
) -> None:
    for name, response in exercised.items():
        assert re.fullmatch(r"[A-Za-z0-9._:-]{8,64}", response.headers.get(REQUEST_ID_HEADER, "")), name
    assert exercised["query"].headers[REQUEST_ID_HEADER] == "trace-0001-abcd"  # a plain caller id is kept
    assert EMAIL not in exercised["bad_id"].headers[REQUEST_ID_HEADER]  # one that is not is replaced
    ids = {r.headers[REQUEST_ID_HEADER] for r in exercised.values()}
    assert len(ids) == len(exercised)
    records = [json.loads(line) for line in observed.logs.getvalue().splitlines() if line.strip()]
    access = [r for r in records if r["logger"] == "enclave.access"]
    by_id = {r["request_id"]: r for r in access}
    for name in ("query", "unauthenticated", "forbidden", "path"):
        line = by_id[exercised[name].headers[REQUEST_ID_HEADER]]
        assert line["status"] == exercised[name].status_code
    assert by_id["trace-0001-abcd"]["route"] == "/v1/query"
    assert by_id[exercised["path"].headers[REQUEST_ID_HEADER]]["route"] == "/v1/jobs/{job_id}"


def test_metrics_count_requests_by_route_template(observed: Observed, exercised: dict[str, httpx.Response]) -> None:
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(observed.scrape())
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("enclave_http_requests_total", method="POST", route="/v1/query", status="200") >= 2
    assert value("enclave_http_requests_total", method="POST", route="/v1/search", status="401") >= 1
    assert value("enclave_http_requests_total", method="GET", route="/metrics", status="403") >= 1
    assert value("enclave_http_requests_total", method="GET", route="/v1/jobs/{job_id}", status="404") >= 1
    assert value("enclave_llm_time_to_first_token_seconds_count") >= 1  # the streamed answer
    assert value("enclave_llm_generated_tokens_total") > 0
    assert value("enclave_ingest_documents_total", status="ingested") >= 1
    assert value("enclave_ingest_chunks_total") >= 1
    assert value("enclave_vector_store_points", collection="shared") >= 1
    assert value("enclave_redactions_total", stage="ingest", entity="EMAIL_ADDRESS") >= 1
    assert value("enclave_redactions_total", stage="answer", entity="EMAIL_ADDRESS") >= 1
    assert value("enclave_audit_records_written_total", action="query") >= 2
    assert value("enclave_llm_queue_wait_seconds_count") >= 2
    assert value("enclave_llm_queue_capacity") > 0


def test_exported_metric_names(observed: Observed, exercised: dict[str, httpx.Response]) -> None:
    """The names and types the dashboards and alert rules rely on (infra/monitoring)."""
    families = {f.name: f.type for f in text_string_to_metric_families(observed.scrape())}
    assert families == EXPORTED


def test_metrics_need_the_auditor_or_admin_role(observed: Observed) -> None:
    with observed.client("admin") as admin:
        assert admin.get("/metrics").status_code == 200
    with observed.client(None) as anonymous:
        refused = anonymous.get("/metrics")
    assert refused.status_code == 401 and refused.headers[REQUEST_ID_HEADER]


def test_logs_at_debug_show_no_text_and_no_personal_value(  # last: it sees every line of the module
    observed: Observed, exercised: dict[str, httpx.Response]
) -> None:
    lines = [line for line in observed.logs.getvalue().splitlines() if line.strip()]
    assert len(lines) >= len(exercised), "the gateway's log lines were not captured"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    text = "\n".join(lines).lower()
    leaked = [value for value in FORBIDDEN if value.lower() in text]
    assert not leaked, f"logs show {leaked}"
    assert "harriet" not in text
    assert not [r for r in records if r["logger"] == "uvicorn.access"], "uvicorn's access log (raw paths) is on"
    levels = {r["level"] for r in records}
    assert "DEBUG" in levels or "INFO" in levels
