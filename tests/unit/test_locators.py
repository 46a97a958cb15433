"""Locators: what each format's chunks say about where they are, and how citations word it."""

from __future__ import annotations

from typing import Any

import pytest

from enclave_core.documents import Block, Chunk, LoadedDocument
from enclave_core.locators import describe, from_payload, normalized
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.loaders.locators import chunk_locator
from tests.fixtures import format_corpus


def _doc(media_type: str, blocks: list[Block] | None = None) -> LoadedDocument:
    return LoadedDocument(source="x", title="T", blocks=blocks or [Block("text")], media_type=media_type)


@pytest.mark.parametrize(
    ("locator", "words"),
    [
        ({"kind": "page", "number": 3}, "page 3"),
        ({"kind": "slide", "number": 2}, "slide 2"),
        ({"kind": "sheet", "number": 2, "name": "Budget"}, "sheet 'Budget'"),
        ({"kind": "sheet", "number": 2}, "sheet 2"),
        ({"kind": "chapter", "number": 5}, "chapter 5"),
        ({"kind": "message", "subject": "Q3", "date": "Mon, 2 Mar 2026"}, 'message "Q3" (Mon, 2 Mar 2026)'),
        ({"kind": "message", "subject": "Q3"}, 'message "Q3"'),
        ({"kind": "line", "number": 3}, None),  # unknown kind
        ({"kind": "page", "number": 0}, None),
        ({"kind": "page", "number": True}, None),
        ({"kind": "message"}, None),
        (None, None),
    ],
)
def test_describe(locator: dict[str, Any] | None, words: str | None) -> None:
    assert describe(locator) == words


def test_old_payloads_read_as_pages() -> None:
    assert from_payload({"page": 7}) == {"kind": "page", "number": 7}
    assert from_payload({"page": None}) is None
    assert from_payload({}) is None
    assert from_payload({"page": 7, "locator": {"kind": "slide", "number": 7}}) == {"kind": "slide", "number": 7}


def test_normalized_drops_unknown_keys_and_cuts_long_text() -> None:
    loc = normalized({"kind": "sheet", "name": "n" * 500, "secret": "x"})
    assert loc is not None and set(loc) == {"kind", "name"} and len(loc["name"]) == 200


def test_chunk_locator_per_media_type() -> None:
    assert chunk_locator(_doc("application/pdf"), Chunk(0, "t", page=2)) == {"kind": "page", "number": 2}
    assert chunk_locator(_doc("text/markdown"), Chunk(0, "t")) is None
    assert chunk_locator(_doc("text/csv"), Chunk(0, "t", page=1, heading="Sheet: <PERSON_1>")) == {
        "kind": "sheet",
        "number": 1,
        "name": "<PERSON_1>",
    }
    mail = _doc("message/rfc822", [Block("From: <EMAIL_1>\nDate: Tue, 3 Mar 2026 10:00:00 +0900\nSubject: S")])
    assert chunk_locator(mail, Chunk(1, "body", heading="S")) == {
        "kind": "message",
        "subject": "S",
        "date": "Tue, 3 Mar 2026 10:00:00 +0900",
    }


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (format_corpus.make_pptx, "deck.pptx", {"kind": "slide", "number": 2}),
        (format_corpus.make_xlsx, "budget.xlsx", {"kind": "sheet", "number": 2, "name": "Detail"}),
        (format_corpus.make_xls, "legacy.xls", {"kind": "sheet", "number": 1, "name": "Stock"}),
        (format_corpus.make_csv, "roster.csv", {"kind": "sheet", "number": 1, "name": "roster"}),
        (format_corpus.make_epub, "handbook.epub", {"kind": "chapter"}),
        (
            format_corpus.make_eml,
            "message.eml",
            {"kind": "message", "subject": "Enclosure opening", "date": "Mon, 07 Dec 2026 09:00:00 +0000"},
        ),
    ],
)
def test_the_marker_chunk_of_each_format_is_located(make: Any, name: str, expected: dict[str, Any]) -> None:
    doc = load_document(make(), name)
    chunk = next(c for c in chunk_document(doc) if format_corpus.MARKERS[name] in c.text)
    locator = chunk_locator(doc, chunk)
    assert locator is not None
    assert {k: v for k, v in locator.items() if k in expected} == expected
