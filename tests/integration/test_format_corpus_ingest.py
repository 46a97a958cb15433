"""The generated format corpus through the real pipeline (Presidio, embeddings, embedded Qdrant):
every good file is searchable and cited with its page/slide/sheet, every bad one fails alone,
and a mail attachment is a child document with the message's readers."""

from __future__ import annotations

from typing import Any

import pytest

from enclave_core.errors import UnknownCollection
from enclave_core.identity import Principal
from enclave_core.service import RagService
from ingest import Ingestor, SourceFile
from ingest.loaders.ocr import tesseract_available
from tests.fixtures.format_corpus import MARKERS, bad_files, good_files

COLLECTION = "formats"
READERS = ["finance"]


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    good = good_files()
    return {**good, **bad_files(good)}


def _reader(groups: list[str]) -> Principal:
    return Principal(name="reader", groups=frozenset(groups), auth="api-key", subject="reader")


def test_every_format_ingests_alone_and_is_searchable(core: Any, corpus: dict[str, bytes]) -> None:
    if not tesseract_available():
        pytest.skip("tesseract-ocr not installed (make install)")
    ingestor = Ingestor(core)
    files = [SourceFile(name, data=data) for name, data in corpus.items()]
    report = ingestor.ingest(files, COLLECTION, READERS, attachments=True)
    status = {o.source: o.status for o in report.outcomes}
    assert {name for name, s in status.items() if s == "ingested"} == set(MARKERS)
    failed = {o.source: o.error or "" for o in report.failed}
    assert set(failed) == {name for name in corpus if name.startswith("bad-")}
    assert all(error.startswith(f"{name}: ") for name, error in failed.items())

    service = RagService(core)
    reader = _reader(READERS)
    for name, marker in MARKERS.items():
        hits = service.search(reader, COLLECTION, f"{marker}", top_k=3)
        assert any(h.source == name and marker in h.text.lower() for h in hits), (name, [h.source for h in hits])

    slide = next(h for h in service.search(reader, COLLECTION, "quokka enclosure", top_k=3) if h.source == "deck.pptx")
    assert (slide.page, slide.heading, slide.location) == (2, "Slide 2: Wildlife programme", "slide 2")
    sheet = next(h for h in service.search(reader, COLLECTION, "pelican feed", top_k=3) if h.source == "budget.xlsx")
    assert sheet.page == 2 and sheet.heading == "Sheet: Detail" and sheet.text.startswith("Item | Supplier | Cost")
    assert sheet.locator == {"kind": "sheet", "number": 2, "name": "Detail"}
    ocr = next(h for h in service.search(reader, COLLECTION, MARKERS["scan.pdf"], top_k=3) if h.source == "scan.pdf")
    assert ocr.location == "page 1"

    # The attachment inherited the message's readers: to someone outside them the collection holds
    # nothing, so it answers as unknown (the child is not visible on its own).
    with pytest.raises(UnknownCollection):
        service.search(_reader(["eng"]), COLLECTION, "capybara keeper", top_k=3)
    child = next(r for r in ingestor.manifest.documents(COLLECTION) if r.source == "message.eml/minutes.txt")
    assert list(child.acl) == READERS
    ingestor.manifest.close()
