"""The office, mail, e-book and image loaders on the generated format corpus.

The corpus (tests/fixtures/format_corpus.py) is built in memory: every good file must load
with its marker word and its page/slide/sheet numbers, every bad one must fail on its own
with a CorruptDocument naming the file and the reason.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

from enclave_core.documents import LoadedDocument
from enclave_core.errors import CorruptDocument, InputError
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.loaders.mail import mail_attachments
from ingest.loaders.ocr import OcrUnavailable, tesseract_available
from tests.fixtures import format_corpus
from tests.fixtures.format_corpus import MARKERS, bad_files, good_files

needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract-ocr not installed (make install)")
OCR_FILES = {"scan.pdf", "photo.png", "photo.jpg", "fax.tiff"}


@lru_cache(maxsize=1)
def corpus() -> tuple[dict[str, bytes], dict[str, bytes]]:
    good = good_files()
    return good, bad_files(good)


def text_of(doc: LoadedDocument) -> str:
    return "\n".join(block.text for block in doc.blocks)


@pytest.mark.parametrize("name", sorted(set(MARKERS) - OCR_FILES - {"message.eml/minutes.txt"}))
def test_good_file_loads_with_its_marker(name: str) -> None:
    doc = load_document(corpus()[0][name], name)
    assert MARKERS[name] in text_of(doc)


@needs_tesseract
@pytest.mark.parametrize("name", sorted(OCR_FILES))
def test_scans_and_images_are_read_with_ocr(name: str) -> None:
    doc = load_document(corpus()[0][name], name)
    assert MARKERS[name] in text_of(doc).lower()
    assert {block.page for block in doc.blocks} == {1}


def test_every_bad_file_fails_alone_with_a_clear_reason() -> None:
    for name, data in corpus()[1].items():
        with pytest.raises(CorruptDocument) as caught:
            load_document(data, name)
        message = str(caught.value)
        assert message.startswith(f"{name}: "), message
        if "locked" in name:
            assert "encrypted" in message, message


def test_slides_are_pages_with_title_headings_and_notes() -> None:
    doc = load_document(corpus()[0]["deck.pptx"], "deck.pptx")
    assert doc.title == "Quarterly review"
    marker = next(b for b in doc.blocks if MARKERS["deck.pptx"] in b.text)
    assert (marker.page, marker.heading) == (2, "Slide 2: Wildlife programme")
    notes = next(b for b in doc.blocks if "volunteer rota" in b.text)
    assert notes.heading == "Slide 2: Wildlife programme > Speaker notes" and notes.page == 2
    assert all(b.text != "Quarterly review" for b in doc.blocks)  # the title is the heading, not a block


def test_sheet_chunks_repeat_the_header_and_never_split_a_row() -> None:
    doc = load_document(corpus()[0]["budget.xlsx"], "budget.xlsx")
    detail = [b for b in doc.blocks if b.heading == "Sheet: Detail"]
    assert len(detail) == 1 and detail[0].page == 2
    rows = detail[0].text.split("\n")
    chunks = [c for c in chunk_document(doc, max_words=40, overlap_words=10) if c.heading == "Sheet: Detail"]
    assert len(chunks) > 3
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[0] == "Item | Supplier | Cost"
        assert all(line in rows for line in lines)  # whole rows only
        assert chunk.page == 2
    assert any(f"{MARKERS['budget.xlsx']} feed | Zoo supplies | 99" in c.text for c in chunks)


def test_csv_delimiter_is_sniffed() -> None:
    doc = load_document(corpus()[0]["roster.csv"], "roster.csv")
    assert doc.blocks[0].text.split("\n")[:2] == ["name | team | animal", f"Ada | Research | {MARKERS['roster.csv']}"]


def test_mail_headers_body_and_attachments_as_children() -> None:
    data = corpus()[0]["message.eml"]
    doc = load_document(data, "inbox/message.eml")
    assert doc.title == "Enclosure opening"
    header = doc.blocks[0].text
    assert "From: Facilities <facilities@example.org>" in header and "Attachments: minutes.txt" in header
    children = mail_attachments(data, "inbox/message.eml")
    assert [c.name for c in children] == ["inbox/message.eml/minutes.txt"]
    child = load_document(children[0].data, children[0].name)
    assert MARKERS["message.eml/minutes.txt"] in text_of(child)


def test_attachments_of_an_unreadable_message_are_none() -> None:
    assert mail_attachments(b"\x00 junk", "x.eml") == []
    assert mail_attachments(b"\x00 junk", "x.msg") == []


def test_epub_chapters_are_pages() -> None:
    doc = load_document(corpus()[0]["handbook.epub"], "handbook.epub")
    assert doc.title == "Keeper handbook"
    marker = next(b for b in doc.blocks if MARKERS["handbook.epub"] in b.text)
    assert (marker.page, marker.heading) == (2, "Care")


def test_odt_heading_and_rtf_escapes() -> None:
    odt = load_document(corpus()[0]["letter.odt"], "letter.odt")
    assert odt.title == "Letter of thanks" and odt.blocks[0].heading == "Letter of thanks"
    rtf = load_document(corpus()[0]["memo.rtf"], "memo.rtf")
    assert "café-bound" in text_of(rtf)


@needs_tesseract
def test_text_layer_pages_skip_ocr_and_scanned_pages_keep_their_place() -> None:
    from pypdf import PdfReader, PdfWriter

    from tests.unit.test_loaders import make_pdf

    writer = PdfWriter()
    for part in (make_pdf([["typed first page"]]), corpus()[0]["scan.pdf"], make_pdf([["typed last page"]])):
        writer.add_page(PdfReader(io.BytesIO(part)).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = load_document(buffer.getvalue(), "mixed.pdf")
    assert [b.page for b in doc.blocks] == sorted(b.page or 0 for b in doc.blocks)
    assert doc.blocks[0].text == "typed first page" and doc.blocks[-1].text == "typed last page"
    assert any(MARKERS["scan.pdf"] in b.text and b.page == 2 for b in doc.blocks)
    assert doc.metadata["ocr_pages"] == "1"


def test_scan_only_files_say_that_ocr_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.loaders import ocr

    monkeypatch.setattr(ocr, "ocr_languages", lambda: "")
    for name in ("scan.pdf", "photo.png"):
        with pytest.raises(OcrUnavailable, match="Tesseract engine is not installed"):
            load_document(corpus()[0][name], name)


def test_loaders_write_no_temporary_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a loader tried to create a temporary file")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, forbidden)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # tesseract and its libraries would write here
    good, bad = corpus()
    for name, data in {**good, **bad}.items():
        if name in OCR_FILES and not tesseract_available():
            continue
        with contextlib.suppress(InputError):
            load_document(data, name)
    assert list(tmp_path.iterdir()) == []


def test_corpus_script_writes_every_file(tmp_path: Path) -> None:
    target = tmp_path / "corpus"
    assert format_corpus.main(["x", str(target)]) == 0
    assert len(list(target.iterdir())) == len(corpus()[0]) + len(corpus()[1])
