"""Citations say where: a slide deck, a workbook and an e-mail uploaded through the real gateway
(Presidio, embeddings, embedded Qdrant, a scripted LLM) come back from /v1/search, /v1/query
(JSON and stream) and /v1/chat/completions with the slide, the sheet and the message — and the
message's subject in the locator is as pseudonymized as the stored text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.fixtures.format_corpus import make_pptx, make_xlsx
from tests.integration.faults import FakeLLM, admin_key, policies_with_limits, serve_gateway

COLLECTION = "located"
NAME = "Margaret Thornbury"  # a person's name in the mail's subject: it must not reach the locator


def _mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Facilities <facilities@example.org>"
    message["To"] = "staff@example.org"
    message["Subject"] = f"Aquarium pump schedule for {NAME}"
    message["Date"] = "Mon, 07 Dec 2026 09:00:00 +0000"
    message.set_content("The axolotl aquarium pump is serviced every second Thursday.")
    return message.as_bytes()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[httpx.Client]:
    root: Path = tmp_path_factory.mktemp("locators")
    with FakeLLM(answer="See the sources [1].") as llm:
        settings = make_settings(root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)))
        key = admin_key(settings)
        headers = {"Authorization": f"Bearer {key}"}
        with (
            serve_gateway(settings, embedder, redactor) as gateway,
            httpx.Client(base_url=gateway.url, headers=headers, timeout=120) as c,
        ):
            files = [
                ("files", ("deck.pptx", make_pptx())),
                ("files", ("budget.xlsx", make_xlsx())),
                ("files", ("pump.eml", _mail())),
            ]
            response = c.post(f"/v1/collections/{COLLECTION}/documents", files=files, data={"groups": "*"})
            assert response.status_code == 200 and response.json()["ingested"] == 3, response.text
            yield c


def _cited(citations: list[dict[str, Any]], source: str) -> dict[str, Any]:
    return next(c for c in citations if c["source"] == source)


def _search(client: httpx.Client, question: str) -> list[dict[str, Any]]:
    response = client.post("/v1/search", json={"question": question, "collection": COLLECTION})
    assert response.status_code == 200, response.text
    return list(response.json()["citations"])


def test_search_cites_slide_sheet_and_message(client: httpx.Client) -> None:
    slide = _cited(_search(client, "quokka enclosure opens in spring"), "deck.pptx")
    assert slide["locator"] == {"kind": "slide", "number": 2, "name": None, "subject": None, "date": None}
    assert slide["location"] == "slide 2" and slide["page"] == 2  # page kept for older clients

    sheet = _cited(_search(client, "pelican feed Zoo supplies"), "budget.xlsx")
    assert (sheet["locator"]["kind"], sheet["locator"]["number"], sheet["locator"]["name"]) == ("sheet", 2, "Detail")
    assert sheet["location"] == "sheet 'Detail'"

    mail = _cited(_search(client, "When is the axolotl aquarium pump serviced?"), "pump.eml")
    locator = mail["locator"]
    assert locator["kind"] == "message" and locator["date"] == "Mon, 07 Dec 2026 09:00:00 +0000"
    assert locator["subject"] == mail["heading"] and locator["subject"].startswith("Aquarium pump schedule for ")
    assert "Thornbury" not in json.dumps(mail)  # the subject as stored: the name is a placeholder
    assert mail["location"] == f'message "{locator["subject"]}" ({locator["date"]})'


def test_query_stream_and_openai_carry_the_locator(client: httpx.Client) -> None:
    question = {"question": "Where does the quokka enclosure open?", "collection": COLLECTION}
    answer = client.post("/v1/query", json=question)
    assert answer.status_code == 200, answer.text
    assert _cited(answer.json()["citations"], "deck.pptx")["location"] == "slide 2"

    with client.stream("POST", "/v1/query", json={**question, "stream": True}) as stream:
        lines = [line[5:].strip() for line in stream.iter_lines() if line.startswith("data:")]
    events = [json.loads(line) for line in lines if line != "[DONE]"]
    cited = next(e for e in events if e.get("type") == "citations")["citations"]
    assert _cited(cited, "deck.pptx")["locator"]["kind"] == "slide"

    chat = client.post(
        "/v1/chat/completions",
        json={"model": f"rag-{COLLECTION}", "messages": [{"role": "user", "content": question["question"]}]},
    )
    assert chat.status_code == 200, chat.text
    assert _cited(chat.json()["citations"], "deck.pptx")["location"] == "slide 2"
