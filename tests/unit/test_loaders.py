"""Tests for ingest.loaders: every format, every rejection path, and robustness to junk.

Fixtures are generated in memory (python-docx, a hand-written PDF, zipfile) so the
tests need no binary files in the repository and exercise the bytes-only contract.
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from collections.abc import Iterator

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    InputError,
    UnsupportedFileType,
)
from ingest.loaders import SUPPORTED_EXTENSIONS, load_document

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- fixture builders ------------------------------------------------------------------


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF: catalog, page tree, Helvetica, one content stream per page,
    optional /Info title, and an exact cross-reference table."""
    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for pid, lines in zip(page_ids, pages, strict=True):
        ops = ["BT /F1 12 Tf 14 TL 72 720 Td", *(f"({_pdf_string(line)}) Tj T*" for line in lines), "ET"]
        content = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {pid + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    info = ""
    if title is not None:
        objects.append(f"<< /Title ({_pdf_string(title)}) >>".encode("latin-1"))
        info = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def encrypt_pdf(data: bytes, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx(core_title: str | None = None) -> bytes:
    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    document.add_heading("Employee Handbook", level=0)  # "Title" style
    document.add_paragraph("Welcome   to the\tcompany.")
    document.add_heading("Benefits", level=1)
    document.add_paragraph("Everyone gets benefits.")
    document.add_heading("Parental leave", level=2)
    document.add_paragraph("Sixteen weeks, fully paid.")
    document.add_paragraph("First item", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for r, row in enumerate([("Country", "Weeks"), ("FR", "16"), ("DE", "14")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Holidays", level=1)
    document.add_paragraph("")  # empty paragraphs are dropped
    document.add_paragraph("Twenty-five days.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def texts(doc: LoadedDocument) -> list[str]:
    return [block.text for block in doc.blocks]


def block_with(doc: LoadedDocument, needle: str) -> Block:
    return next(block for block in doc.blocks if needle in block.text)


# -- dispatch and generic rejections --------------------------------------------------


def test_supported_extensions() -> None:
    expected = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
    expected |= {".pptx", ".xlsx", ".xls", ".csv", ".eml", ".msg", ".odt", ".rtf", ".epub"}
    expected |= {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
    assert expected == SUPPORTED_EXTENSIONS


@pytest.mark.parametrize(
    ("source", "shown"),
    [("setup.exe", "'.exe'"), ("dir/archive.ZIP", "'.zip'"), ("README", "(no extension)")],
)
def test_unsupported_extension_names_it_and_the_supported_list(source: str, shown: str) -> None:
    with pytest.raises(UnsupportedFileType) as info:
        load_document(b"MZ\x90\x00", source)
    message = str(info.value)
    assert shown in message
    assert ".pdf" in message and ".docx" in message


def test_extension_is_case_insensitive_and_source_is_kept() -> None:
    doc = load_document(b"Hello there.", "Notes/Readme.TXT")
    assert doc.source == "Notes/Readme.TXT"
    assert doc.media_type == "text/plain"


@pytest.mark.parametrize("ext", sorted(SUPPORTED_EXTENSIONS))
def test_empty_file_is_empty_document(ext: str) -> None:
    with pytest.raises(EmptyDocument, match="no text found"):
        load_document(b"", f"empty{ext}")


@pytest.mark.parametrize("ext", sorted(SUPPORTED_EXTENSIONS))
def test_too_large_is_rejected_before_parsing(ext: str) -> None:
    with pytest.raises(DocumentTooLarge):
        load_document(b"x" * 101, f"big{ext}", max_bytes=100)


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("blank.txt", b"  \n\n \t \n"),
        ("blank.md", b"# Only a heading\n\n---\n"),
        ("blank.html", b"<html><head><title>T</title></head><body><script>x()</script></body></html>"),
        ("blank.pdf", make_pdf([[]])),
    ],
)
def test_no_text_after_extraction_is_empty_document(source: str, data: bytes) -> None:
    with pytest.raises(EmptyDocument, match=f"{source}: no text found"):
        load_document(data, source)


def test_no_temporary_files_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents hold personal data: loading must never spill plaintext to temp files."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a loader tried to create a temporary file")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, forbidden)
    samples = {
        "a.txt": b"hello",
        "a.md": b"# h\n\nbody",
        "a.html": b"<p>body</p>",
        "a.pdf": make_pdf([["body"]]),
        "a.docx": make_docx(),
    }
    for source, data in samples.items():
        assert load_document(data, source).blocks


# -- plain text -----------------------------------------------------------------------


SAMPLE = "Café – “quoted” 5 €"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SAMPLE.encode(), "utf-8"),
        (SAMPLE.encode("utf-8-sig"), "utf-8-sig"),
        (SAMPLE.encode("utf-16"), "utf-16"),
        (SAMPLE.encode("utf-16-be"), None),  # UTF-16 without a BOM has NULs: treated as binary
        (SAMPLE.encode("cp1252"), "cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16-no-bom", "cp1252"],
)
def test_text_encodings(data: bytes, encoding: str | None) -> None:
    if encoding is None:
        with pytest.raises(CorruptDocument):
            load_document(data, "t.txt")
        return
    doc = load_document(data, "t.txt")
    assert texts(doc) == [SAMPLE]
    assert doc.metadata["encoding"] == encoding


def test_text_latin1_fallback_drops_c1_controls() -> None:
    # 0x81 is undefined in cp1252, so the file falls back to latin-1, where it is a control.
    doc = load_document(b"caf\xe9 \x81ok", "t.txt")
    assert texts(doc) == ["café ok"]
    assert doc.metadata["encoding"] == "latin-1"


def test_text_paragraphs_whitespace_and_title() -> None:
    data = b"Quarterly report\r\n\r\nLine one\r\nstill   one.\n \n\n\nSecond\tparagraph.\n"
    doc = load_document(data, "reports/q1.txt")
    assert doc.title == "Quarterly report"
    assert texts(doc) == ["Quarterly report", "Line one still one.", "Second paragraph."]
    assert all(block.page is None and block.heading is None for block in doc.blocks)
    assert doc.metadata == {"encoding": "utf-8"}


def test_text_title_falls_back_to_stem_when_first_line_is_long() -> None:
    doc = load_document(("word " * 40).encode(), "folder/long-line.txt")
    assert doc.title == "long-line"


def test_binary_junk_named_txt_is_corrupt() -> None:
    """Decision: bytes with NULs (and no UTF-16/32 BOM) or mostly control characters are
    binary, not text. Rejecting them as CorruptDocument keeps garbage out of the index
    (latin-1 would otherwise "decode" any executable)."""
    with pytest.raises(CorruptDocument, match="binary"):
        load_document(bytes(range(256)) * 8, "renamed.txt")
    with pytest.raises(CorruptDocument, match="binary"):
        load_document(bytes(range(1, 32)) * 20, "controls.txt")


# -- markdown -------------------------------------------------------------------------

MARKDOWN = b"""---
layout: page
---
Preamble with *emphasis*, __strong__ and a [link](https://example.org "t").

# Employee Handbook

Intro paragraph
spanning two lines.

## Leave

- first **item**
- second item
  continued here

1. ordered
2. list

| Country | Weeks |
|---------|:-----:|
| FR      | 16    |
| DE      | 14    |

```python
def leave(weeks):
    return weeks * 5
```

### Details
> quoted `code` text ![diagram](d.png)

Setext heading
--------------

snake_case_name and 2 * 3 * 4 stay as written.

# Second top
Body.
"""


def test_markdown_structure() -> None:
    doc = load_document(MARKDOWN, "docs/handbook.md")
    assert doc.title == "Employee Handbook"
    assert doc.media_type == "text/markdown"
    got = [(block.kind, block.heading, block.text) for block in doc.blocks]
    assert got == [
        ("paragraph", None, "Preamble with emphasis, strong and a link."),
        ("paragraph", "Employee Handbook", "Intro paragraph spanning two lines."),
        ("list", "Employee Handbook > Leave", "- first item\n- second item continued here"),
        ("list", "Employee Handbook > Leave", "1. ordered\n2. list"),
        ("table", "Employee Handbook > Leave", "| Country | Weeks |\n| FR | 16 |\n| DE | 14 |"),
        ("code", "Employee Handbook > Leave", "def leave(weeks):\n    return weeks * 5"),
        ("paragraph", "Employee Handbook > Leave > Details", "quoted code text diagram"),
        (
            "paragraph",
            "Employee Handbook > Setext heading",
            "snake_case_name and 2 * 3 * 4 stay as written.",
        ),
        ("paragraph", "Second top", "Body."),
    ]


@pytest.mark.parametrize(
    ("data", "title"),
    [
        (b"---\ntitle: 'From front matter'\n---\n# H1\n\ntext", "From front matter"),
        (b"## Not an H1\n\ntext\n\n# Real H1\n", "Real H1"),
        (b"no heading at all", "notes"),
    ],
)
def test_markdown_title(data: bytes, title: str) -> None:
    assert load_document(data, "notes.markdown").title == title


def test_markdown_unclosed_fence_keeps_code() -> None:
    doc = load_document(b"# T\n\n```\nx = 1\n\ny = 2\n", "a.md")
    assert [(b.kind, b.text) for b in doc.blocks] == [("code", "x = 1\n\ny = 2")]


def test_markdown_pathological_inline_syntax_is_fast() -> None:
    line = "*a " * 50_000 + "[" * 50_000 + "_b " * 50_000
    start = time.perf_counter()
    doc = load_document(line.encode(), "p.md")
    assert time.perf_counter() - start < 5
    assert doc.blocks


# -- html -----------------------------------------------------------------------------

HTML = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title> Staff   Portal </title>
<style>body { color: red }</style><script>var secret = "do not index";</script>
</head><body>
<noscript>Enable JavaScript</noscript>
<h1>Welcome</h1>
<p>Hello <b>dear</b> colleague &amp; friend.<br>Second line.</p>
<div>Loose div text<div>nested div text</div></div>
<h2>Leave <small>policy</small></h2>
<ul><li>First<li>Second <a href="#">link</a></ul>
<table><tr><th>Country</th><th>Weeks</th></tr>
<tr><td>FR</td><td><p>16</p></td></tr><tr><td>DE<td>14</table>
<pre>line one
    indented</pre>
<blockquote>Quoted words.</blockquote>
<h2>Other</h2><p>After.</p>
<!-- a comment that must not appear -->
</body></html>"""


def test_html_structure() -> None:
    doc = load_document(HTML, "portal/index.html")
    assert doc.title == "Staff Portal"
    assert doc.media_type == "text/html"
    got = [(block.kind, block.heading, block.text) for block in doc.blocks]
    assert got == [
        ("paragraph", "Welcome", "Hello dear colleague & friend. Second line."),
        ("paragraph", "Welcome", "Loose div text"),
        ("paragraph", "Welcome", "nested div text"),
        ("list", "Welcome > Leave policy", "First"),
        ("list", "Welcome > Leave policy", "Second link"),
        ("table", "Welcome > Leave policy", "Country | Weeks\nFR | 16\nDE | 14"),
        ("code", "Welcome > Leave policy", "line one\n    indented"),
        ("paragraph", "Welcome > Leave policy", "Quoted words."),
        ("paragraph", "Welcome > Other", "After."),
    ]
    joined = " ".join(texts(doc))
    for dropped in ("secret", "color", "JavaScript", "comment"):
        assert dropped not in joined


@pytest.mark.parametrize(
    ("data", "title"),
    [
        (b"<h1>Heading title</h1><p>x</p>", "Heading title"),
        (b"<p>no headings</p>", "page"),
        (b"<head><title>Unclosed head<p>body text</p>", "Unclosed head"),
    ],
)
def test_html_title_fallbacks(data: bytes, title: str) -> None:
    assert load_document(data, "site/page.htm").title == title


def test_html_unclosed_head_does_not_swallow_body() -> None:
    doc = load_document(b"<html><head><title>T</title><p>Body text</p>", "a.html")
    assert texts(doc) == ["Body text"]


def test_html_declared_charset_is_honoured() -> None:
    data = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>Café “x”</p>'
    doc = load_document(data.encode("cp1252"), "a.html")
    assert texts(doc) == ["Café “x”"]


def test_html_nested_tables_stay_in_one_block() -> None:
    data = b"<table><tr><td>a<table><tr><td>in1</td><td>in2</td></tr></table></td><td>b</td></tr></table>"
    assert texts(load_document(data, "a.html")) == ["a in1 in2 | b"]


@pytest.mark.parametrize("tag", ["div", "span", "li", "table", "b"])
def test_html_deep_nesting_is_fast_and_safe(tag: str) -> None:
    depth = 100_000
    data = f"<{tag}>" * depth + "deep text" + f"</{tag}>" * depth
    start = time.perf_counter()
    doc = load_document(data.encode(), "deep.html")
    assert time.perf_counter() - start < 10
    assert "deep text" in " ".join(texts(doc))


# -- pdf ------------------------------------------------------------------------------


def test_pdf_pages_and_title() -> None:
    data = make_pdf([["Leave policy (v2).", "Sixteen weeks."], ["Holidays: 25 days."]], title="HR (2024)")
    doc = load_document(data, "hr/policy.pdf")
    assert doc.title == "HR (2024)"
    assert doc.media_type == "application/pdf"
    assert doc.metadata == {"pages": "2"}
    assert [block.page for block in doc.blocks] == [1, 2]
    assert "Leave policy (v2)." in doc.blocks[0].text
    assert "Sixteen weeks." in doc.blocks[0].text
    assert doc.blocks[1].text == "Holidays: 25 days."


def test_pdf_without_title_uses_stem_and_skips_blank_pages() -> None:
    doc = load_document(make_pdf([[], ["Only page two."]], title=" "), "scan_0001.pdf")
    assert doc.title == "scan_0001"
    assert [(block.page, block.text) for block in doc.blocks] == [(2, "Only page two.")]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nthis is not really a pdf",
        b"not a pdf at all",
        make_pdf([["text"]])[:200],
        bytes(range(256)) * 4,
    ],
    ids=["header-only", "text", "truncated", "junk"],
)
def test_corrupt_pdf(data: bytes) -> None:
    with pytest.raises(CorruptDocument, match=r"^bad\.pdf: not a readable PDF \(.+\)$"):
        load_document(data, "bad.pdf")


def test_pdf_with_user_password_is_corrupt() -> None:
    data = encrypt_pdf(make_pdf([["secret"]]), user_password="hunter2", owner_password="owner")
    with pytest.raises(CorruptDocument, match="encrypted"):
        load_document(data, "locked.pdf")


def test_pdf_with_empty_user_password_opens() -> None:
    data = encrypt_pdf(make_pdf([["Readable text."]]), user_password="", owner_password="owner")
    assert texts(load_document(data, "restricted.pdf")) == ["Readable text."]


# -- docx -----------------------------------------------------------------------------


def test_docx_headings_tables_and_title() -> None:
    doc = load_document(make_docx(), "hr/handbook.docx")
    assert doc.title == "Employee Handbook"
    assert doc.media_type.endswith("wordprocessingml.document")
    got = [(block.kind, block.heading, block.text) for block in doc.blocks]
    assert got == [
        ("paragraph", "Employee Handbook", "Welcome to the company."),
        ("paragraph", "Employee Handbook > Benefits", "Everyone gets benefits."),
        ("paragraph", "Employee Handbook > Benefits > Parental leave", "Sixteen weeks, fully paid."),
        ("list", "Employee Handbook > Benefits > Parental leave", "First item"),
        ("table", "Employee Handbook > Benefits > Parental leave", "Country | Weeks\nFR | 16\nDE | 14"),
        ("paragraph", "Employee Handbook > Holidays", "Twenty-five days."),
    ]


def test_docx_core_title_wins() -> None:
    assert load_document(make_docx(core_title="Official title"), "h.docx").title == "Official title"


def test_docx_merged_cells_are_not_repeated() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Merged"
    table.cell(0, 2).text = "C"
    table.cell(1, 0).text = "1"
    buffer = io.BytesIO()
    document.save(buffer)
    assert texts(load_document(buffer.getvalue(), "m.docx")) == ["Merged | C\n1 | |"]


def test_docx_highly_compressed_entry_is_a_zip_bomb() -> None:
    bomb = make_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"\0" * (5 * 1024 * 1024)})
    assert len(bomb) < 50_000
    with pytest.raises(CorruptDocument, match="compression ratio"):
        load_document(bomb, "bomb.docx")


def test_docx_total_uncompressed_size_is_limited() -> None:
    archive = make_zip({f"word/part{i}.xml": b"<a/>" * 20_000 for i in range(4)})
    assert len(archive) < 10_000
    with pytest.raises(CorruptDocument, match="exceeds"):
        load_document(archive, "big.docx", max_bytes=10_000)


@pytest.mark.parametrize(
    "data",
    [b"not a zip", make_zip({"hello.txt": b"not a word document"}), make_docx()[:-100]],
    ids=["not-zip", "zip-without-document", "truncated"],
)
def test_corrupt_docx(data: bytes) -> None:
    with pytest.raises(CorruptDocument, match=r"^bad\.docx: ") as info:
        load_document(data, "bad.docx")
    assert "\n" not in str(info.value)


def test_docx_absurd_grid_span_is_rejected() -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "x"
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    xml = entries["word/document.xml"]
    assert b'w:gridSpan w:val="2"' in xml
    entries["word/document.xml"] = xml.replace(b'w:gridSpan w:val="2"', b'w:gridSpan w:val="999999999"')
    with pytest.raises(CorruptDocument, match="spans"):
        load_document(make_zip(entries), "span.docx")


# -- robustness: random and mutated input only ever yields InputError ----------------------


def _load_or_input_error(data: bytes, source: str) -> None:
    try:
        doc = load_document(data, source)
    except InputError:
        return
    assert isinstance(doc, LoadedDocument)
    assert doc.blocks
    assert all(block.text.strip() for block in doc.blocks)


@pytest.mark.parametrize("ext", sorted(SUPPORTED_EXTENSIONS))
@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_escape_as_other_errors(ext: str, data: bytes) -> None:
    _load_or_input_error(data, f"x{ext}")


def _valid_samples() -> Iterator[tuple[str, bytes]]:
    yield "x.pdf", make_pdf([["Some text here."], ["More text."]], title="T")
    yield "x.docx", make_docx()
    yield "x.html", HTML
    yield "x.md", MARKDOWN


@pytest.mark.parametrize(("source", "original"), list(_valid_samples()), ids=lambda v: str(v)[:8])
@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8))
def test_mutated_documents_never_escape_as_other_errors(
    source: str, original: bytes, edits: list[tuple[float, int]]
) -> None:
    data = bytearray(original)
    for where, value in edits:
        data[int(where * len(data))] = value
    _load_or_input_error(bytes(data), source)


def _docx_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(make_docx())) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


DOCX_PARTS = _docx_parts()


@FUZZ
@given(
    part=st.sampled_from(["word/document.xml", "word/styles.xml", "[Content_Types].xml", "docProps/core.xml"]),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(list(b'<>/"= wp:09\x00\xff'))),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_docx_xml_never_escapes_as_other_errors(part: str, edits: list[tuple[float, int]]) -> None:
    """Byte flips in the zip mostly fail the CRC; this reaches python-docx and lxml."""
    xml = bytearray(DOCX_PARTS[part])
    for where, value in edits:
        xml[int(where * len(xml))] = value
    _load_or_input_error(make_zip({**DOCX_PARTS, part: bytes(xml)}), "x.docx")


def test_parser_messages_never_reach_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parsers quote the document in their messages; the error a user (and the job journal) sees
    # names only the parser's exception class.
    import ingest.loaders as loaders

    def leaky(data: bytes, source: str, max_bytes: int) -> None:
        raise ValueError("unexpected token near 'Jane Doe, 078-05-1120' at line 3")

    monkeypatch.setattr(loaders, "_loader", lambda extension: leaky)  # loaders are looked up lazily
    with pytest.raises(CorruptDocument) as info:
        load_document(b"Jane Doe, 078-05-1120", "notes.txt")
    assert str(info.value) == "notes.txt: could not be parsed (ValueError)"
