"""``POST /v1/search`` serialises its response in the worker thread (one thread-pool trip, no second
validation on the event loop): the bytes must be the ones FastAPI's own response-model path gives."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from enclave_core.identity import Principal
from enclave_core.retrieval import Citation
from services.gateway.api.routes import search as route
from services.gateway.deps import get_principal, get_rag
from services.gateway.schemas import SearchResponse

CITATIONS = [
    Citation("hr/leave.md", "c1", 0.123456789, 'Leave is 16 weeks — "paid".', "d1", "Leave", None, "Parents", 1, None),
    Citation(
        "deck.pptx",
        "c2",
        1 / 3,
        "Zoë's slide\nwith ünïcode",
        "d2",
        "Deck",
        3,
        None,
        None,
        2,
        {"kind": "slide", "number": 3},
    ),
    Citation("a.pdf", "c3", -0.5, "", "d3", "", 7, None, 4, 5),
]


class FakeRag:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def search(self, principal: Principal, collection: str, question: str, top_k: Any, mode: Any) -> list[Citation]:
        self.calls.append((principal.name, collection, question, top_k, mode))
        return CITATIONS


def app_with(rag: FakeRag, *, old_style: bool) -> FastAPI:
    app = FastAPI()
    if old_style:  # the previous route: a plain function returning a dict through response_model

        @app.post("/v1/search", response_model=SearchResponse)
        def search(body: route.SearchRequest) -> dict[str, object]:
            return {
                "citations": [
                    c.to_json()
                    for c in rag.search(
                        Principal("u", frozenset()), body.collection, body.question, body.top_k, body.mode
                    )
                ]
            }

    else:
        app.include_router(route.router)

        async def principal() -> Principal:
            return Principal("u", frozenset())

        async def rag_dep() -> FakeRag:
            return rag

        app.dependency_overrides[get_principal] = principal
        app.dependency_overrides[get_rag] = rag_dep
    return app


def test_the_search_response_is_byte_for_byte_the_response_models() -> None:
    body = {"question": "How long is leave?", "collection": "hr", "top_k": 3, "mode": "dense"}
    rag = FakeRag()
    with TestClient(app_with(rag, old_style=False)) as new, TestClient(app_with(FakeRag(), old_style=True)) as old:
        got, want = new.post("/v1/search", json=body), old.post("/v1/search", json=body)
    assert got.status_code == want.status_code == 200
    assert got.headers["content-type"] == want.headers["content-type"]
    assert got.content == want.content
    locator = json.loads(got.content)["citations"][1]["locator"]
    assert (locator["kind"], locator["number"], locator["name"]) == ("slide", 3, None)  # the model's fields
    assert rag.calls == [("u", "hr", "How long is leave?", 3, "dense")]


def test_the_search_route_still_documents_its_response_model() -> None:
    schema = app_with(FakeRag(), old_style=False).openapi()
    ok = schema["paths"]["/v1/search"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/SearchResponse"}
