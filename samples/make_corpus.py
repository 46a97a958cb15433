#!/usr/bin/env python3
"""Generate the binary documents (PDF, DOCX) of the Enclave sample corpus.

The Markdown, plain-text and HTML documents in ``samples/corpus/`` are written
by hand; this script produces the two binary ones from the content defined
below, so that they can be regenerated and reviewed in plain text:

* ``travel-and-expense-policy.pdf`` -- written by a tiny, dependency-free PDF
  writer (standard Helvetica fonts, WinAnsiEncoding, several pages, correct
  xref table), see :class:`SimplePdf`.
* ``vendor-contract-summary-cloudharbor.docx`` -- written with python-docx
  (headings, bullet lists and tables).

All people, companies, addresses, account numbers and identifiers in the
corpus are fictional.  Card numbers are public test numbers, IBANs are the
published example IBANs, SSNs use the never-issued 9xx area range.

Usage::

    python samples/make_corpus.py            # (re)generate the binaries
    python samples/make_corpus.py --verify   # check manifest vs. extracted text

The writer helpers (:func:`write_pdf`, :func:`write_docx`,
:func:`verify_manifest`, ...) are reused by
``tests/fixtures/eval_corpus/make_binaries.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html.parser
import io
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / "corpus"
MANIFEST = HERE / "corpus_manifest.yaml"

# A document is a list of blocks:
#   ("title", str) ("subtitle", str) ("h1", str) ("h2", str) ("p", str)
#   ("bullets", [str, ...]) ("numbered", [str, ...])
#   ("table", [[header cells], [row cells], ...])
Block = tuple[str, str | Sequence[str] | Sequence[Sequence[str]]]

FIXED_TIMESTAMP = _dt.datetime(2025, 1, 1, 9, 0, 0, tzinfo=_dt.UTC)

# --------------------------------------------------------------------------
# Minimal PDF writer
# --------------------------------------------------------------------------

# Advance widths (1/1000 em) of the standard Helvetica font for ASCII 32..126,
# from the Adobe core-14 AFM metrics.  Only used for line wrapping.
# fmt: off
_HELVETICA_WIDTHS = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p..~
]
# fmt: on
_NBSP = "\u00a0"


def _text_width(text: str, size: float, bold: bool = False) -> float:
    total = 0
    for ch in text:
        code = ord(ch)
        total += _HELVETICA_WIDTHS[code - 32] if 32 <= code <= 126 else 556
    # Helvetica-Bold is slightly wider on average; a flat factor is enough
    # for wrapping purposes.
    return total * size / 1000.0 * (1.08 if bold else 1.0)


def _wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap.  Non-breaking spaces glue words together."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = word if not current else current + " " + word
        if current and _text_width(candidate, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return [line.replace(_NBSP, " ") for line in lines]


def _protect(text: str, keep_together: Iterable[str]) -> str:
    """Replace spaces inside the given strings by non-breaking spaces."""
    for value in sorted(set(keep_together), key=len, reverse=True):
        if " " in value:
            text = text.replace(value, value.replace(" ", _NBSP))
    return text


def _pdf_string(text: str) -> bytes:
    """Encode text as a PDF literal string in WinAnsiEncoding."""
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in (0x28, 0x29, 0x5C):  # ( ) backslash
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


class SimplePdf:
    """A tiny multi-page PDF writer for text documents.

    Uses the standard (non-embedded) Helvetica and Helvetica-Bold fonts with
    WinAnsiEncoding, one uncompressed content stream per page and a classic
    cross-reference table with exact byte offsets.
    """

    PAGE_W = 612.0  # US Letter
    PAGE_H = 792.0
    MARGIN_X = 72.0
    MARGIN_TOP = 72.0
    MARGIN_BOTTOM = 72.0

    # name: (font, size, leading, space_before)
    STYLES: ClassVar[dict[str, tuple[str, float, float, float]]] = {
        "title": ("F2", 18.0, 22.0, 0.0),
        "subtitle": ("F1", 10.0, 13.0, 2.0),
        "h1": ("F2", 13.5, 17.0, 12.0),
        "h2": ("F2", 11.5, 15.0, 8.0),
        "p": ("F1", 10.5, 14.0, 5.0),
        "li": ("F1", 10.5, 14.0, 2.0),
        "cell": ("F1", 9.5, 12.5, 0.0),
        "th": ("F2", 9.5, 12.5, 4.0),
        "footer": ("F1", 8.0, 10.0, 0.0),
    }

    def __init__(self, title: str, author: str, footer: str, keep_together: Iterable[str] = ()):
        self.title = title
        self.author = author
        self.footer = footer
        self.keep_together = list(keep_together)
        self.pages: list[list[bytes]] = []
        self._y = 0.0
        self._new_page()

    # -- layout ---------------------------------------------------------
    @property
    def _text_w(self) -> float:
        return self.PAGE_W - 2 * self.MARGIN_X

    def _new_page(self) -> None:
        self.pages.append([])
        self._y = self.PAGE_H - self.MARGIN_TOP

    def _ensure(self, height: float) -> None:
        if self._y - height < self.MARGIN_BOTTOM:
            self._new_page()

    def _draw(self, x: float, y: float, font: str, size: float, text: str) -> None:
        op = b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET" % (font.encode(), size, x, y, _pdf_string(text))
        self.pages[-1].append(op)

    def _lines(self, style: str, text: str, indent: float = 0.0, prefix: str = "", keep_with_next: float = 0.0) -> None:
        font, size, leading, before = self.STYLES[style]
        bold = font == "F2"
        text = _protect(text, self.keep_together)
        lines = _wrap(text, self._text_w - indent, size, bold)
        if self._y != self.PAGE_H - self.MARGIN_TOP:
            self._y -= before
        self._ensure(leading * min(len(lines), 2) + keep_with_next)
        for i, line in enumerate(lines):
            self._ensure(leading)
            self._y -= leading
            if prefix and i == 0:
                self._draw(self.MARGIN_X + indent - 12, self._y, font, size, prefix)
            self._draw(self.MARGIN_X + indent, self._y, font, size, line)

    def _table(self, rows: Sequence[Sequence[str]]) -> None:
        ncols = len(rows[0])
        # Column widths proportional to the longest cell, with a minimum.
        longest = [max(_text_width(r[c], 9.5) for r in rows) for c in range(ncols)]
        total = sum(longest) or 1.0
        widths = [max(self._text_w * (w / total), 60.0) for w in longest]
        scale = self._text_w / sum(widths)
        widths = [w * scale for w in widths]
        for r, row in enumerate(rows):
            style = "th" if r == 0 else "cell"
            font, size, leading, before = self.STYLES[style]
            wrapped = [
                _wrap(_protect(cell, self.keep_together), widths[c] - 8, size, font == "F2")
                for c, cell in enumerate(row)
            ]
            height = leading * max(len(w) for w in wrapped) + 3
            self._y -= before
            self._ensure(height)
            x = self.MARGIN_X
            for c, cell_lines in enumerate(wrapped):
                y = self._y
                for line in cell_lines:
                    y -= leading
                    self._draw(x, y, font, size, line)
                x += widths[c]
            self._y -= height
            # a thin rule under the header row
            if r == 0:
                self.pages[-1].append(
                    b"0.5 w %.2f %.2f m %.2f %.2f l S"
                    % (self.MARGIN_X, self._y + 1, self.MARGIN_X + self._text_w, self._y + 1)
                )

    def add(self, blocks: Sequence[Block]) -> None:
        for kind, content in blocks:
            if kind in ("title", "subtitle", "p"):
                self._lines(kind, str(content))
            elif kind in ("h1", "h2"):
                self._lines(kind, str(content), keep_with_next=40.0)
            elif kind in ("bullets", "numbered"):
                for i, item in enumerate(content):
                    prefix = "\u2022" if kind == "bullets" else f"{i + 1}."
                    self._lines("li", str(item), indent=16.0, prefix=prefix)
            elif kind == "table":
                self._table(content)
                self._y -= 4
            else:
                raise ValueError(f"unknown block kind {kind!r}")

    # -- serialisation ----------------------------------------------------
    def to_bytes(self) -> bytes:
        n_pages = len(self.pages)
        font, size, _, _ = self.STYLES["footer"]
        for i, ops in enumerate(self.pages):
            footer = f"{self.footer} - Page {i + 1} of {n_pages}"
            ops.append(
                b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET"
                % (font.encode(), size, self.MARGIN_X, 40.0, _pdf_string(footer))
            )

        objects: list[bytes] = []  # object i+1 is objects[i]

        def add_obj(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add_obj(b"")  # placeholder, filled below
        pages_obj = add_obj(b"")
        f1 = add_obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        f2 = add_obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
        stamp = FIXED_TIMESTAMP.strftime("D:%Y%m%d%H%M%SZ").encode()
        info = add_obj(
            b"<< /Title %s /Author %s /Producer (Enclave samples/make_corpus.py) "
            b"/CreationDate (%s) >>" % (_pdf_string(self.title), _pdf_string(self.author), stamp)
        )
        kids = []
        for ops in self.pages:
            stream = b"\n".join(ops) + b"\n"
            content = add_obj(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
            page = add_obj(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, self.PAGE_W, self.PAGE_H, f1, f2, content)
            )
            kids.append(page)
        objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
        objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % k for k in kids),
            len(kids),
        )

        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for num, body in enumerate(objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n%s\nendobj\n" % (num, body))
        xref_at = out.tell()
        out.write(b"xref\n0 %d\n" % (len(objects) + 1))
        out.write(b"0000000000 65535 f \n")
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
        out.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, catalog, info, xref_at)
        )
        return out.getvalue()


def write_pdf(
    path: Path,
    blocks: Sequence[Block],
    *,
    title: str,
    author: str,
    footer: str,
    keep_together: Iterable[str] = (),
) -> int:
    """Render ``blocks`` to a PDF at ``path``; returns the number of pages.

    ``keep_together`` lists strings (e.g. planted PII values) that must never
    be split across two lines, so that text extraction returns them intact.
    """
    pdf = SimplePdf(title=title, author=author, footer=footer, keep_together=keep_together)
    pdf.add(blocks)
    path.write_bytes(pdf.to_bytes())
    return len(pdf.pages)


# --------------------------------------------------------------------------
# DOCX writer (python-docx)
# --------------------------------------------------------------------------


def write_docx(path: Path, blocks: Sequence[Block], *, title: str, author: str) -> None:
    """Render ``blocks`` to a .docx with real headings, lists and tables."""
    import docx  # python-docx
    from docx.shared import Pt

    document = docx.Document()
    props = document.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.created = FIXED_TIMESTAMP.replace(tzinfo=None)
    props.modified = FIXED_TIMESTAMP.replace(tzinfo=None)
    props.revision = 1
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(10.5)

    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), level=0)
        elif kind == "subtitle":
            para = document.add_paragraph()
            para.add_run(str(content)).italic = True
        elif kind == "h1":
            document.add_heading(str(content), level=1)
        elif kind == "h2":
            document.add_heading(str(content), level=2)
        elif kind == "p":
            document.add_paragraph(str(content))
        elif kind in ("bullets", "numbered"):
            style = "List Bullet" if kind == "bullets" else "List Number"
            for item in content:
                document.add_paragraph(str(item), style=style)
        elif kind == "table":
            rows = content
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = str(value)
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            document.add_paragraph()
        else:
            raise ValueError(f"unknown block kind {kind!r}")

    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_normalise_zip(buffer.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so regenerated files are stable."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------
# Verification helpers
# --------------------------------------------------------------------------


class _HtmlText(html.parser.HTMLParser):
    """Visible text of an HTML page; block-level tags become line breaks."""

    BLOCK_TAGS: ClassVar[set[str]] = {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "title",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self.BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def extract_text(path: Path) -> str:
    """Plain text of a corpus document, the way an ingest pipeline sees it."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    if suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.extend(cell.text for cell in row.cells)
        return "\n".join(parts)
    if suffix in (".html", ".htm"):
        parser = _HtmlText()
        parser.feed(path.read_text(encoding="utf-8"))
        return "".join(parser.parts)
    return path.read_text(encoding="utf-8")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(value: str) -> bool:
    compact = value.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def classify_pii(value: str) -> str:
    """Best-effort label of a planted PII value (for reporting and checks)."""
    v = value.strip()
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", v):
        return "EMAIL_ADDRESS"
    if re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", v):
        return "IP_ADDRESS"
    if re.fullmatch(r"\d{3}-\d{2}-\d{4}", v):
        return "US_SSN"
    if re.fullmatch(r"[A-Z]{2}\d{2}( ?[A-Z0-9]{1,4})+", v):
        return "IBAN_CODE"
    if re.fullmatch(r"\d{4}[ -]?\d{4,6}[ -]?\d{4,5}([ -]?\d{4})?", v) and _luhn_ok(re.sub(r"\D", "", v)):
        return "CREDIT_CARD"
    if (
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)
        or re.fullmatch(rf"\d{{1,2}} ({_MONTHS}) \d{{4}}", v)
        or re.fullmatch(rf"({_MONTHS}) \d{{1,2}}, \d{{4}}", v)
    ):
        return "DATE_OF_BIRTH"
    if re.fullmatch(r"[+(]?[\d][\d ()\-]{6,}\d", v):
        return "PHONE_NUMBER"
    if re.search(r"\d", v):
        return "STREET_ADDRESS"
    return "PERSON"


def load_manifest_documents(manifest: dict) -> dict[str, list[str]]:
    """Normalise both manifest layouts to {file name: [pii strings]}."""
    documents = manifest["documents"]
    if isinstance(documents, list):  # samples/corpus_manifest.yaml layout
        return {d["file"]: list(d.get("pii") or []) for d in documents}
    return {name: list(values or []) for name, values in documents.items()}


def verify_manifest(
    corpus_dir: Path, manifest_path: Path, *, min_pii_per_doc: int = 1, n_questions: int | None = None
) -> bool:
    """Check that every planted PII value occurs in its document's text.

    Also validates card checksums (Luhn) and IBAN checksums (mod 97), that all
    questions point to existing documents, and that every file in the corpus
    folder is listed.  Prints a per-document and per-type summary.
    """
    import yaml

    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    documents = load_manifest_documents(manifest)
    ok = True
    counts: Counter[str] = Counter()

    on_disk = {
        p.name
        for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in (".md", ".txt", ".html", ".pdf", ".docx")
    }
    for extra in sorted(on_disk - set(documents)):
        print(f"FAIL {extra}: present in {corpus_dir} but not listed in the manifest")
        ok = False

    for name, values in documents.items():
        path = corpus_dir / name
        if not path.exists():
            print(f"FAIL {name}: listed in manifest but missing")
            ok = False
            continue
        text = extract_text(path)
        words = len(text.split())
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            print(f"FAIL {name}: non-string PII values (quote them in YAML): {bad!r}")
            ok = False
            values = [str(v) for v in values]
        missing = [v for v in values if v not in text]
        if len(values) < min_pii_per_doc:
            print(f"FAIL {name}: only {len(values)} PII values (need {min_pii_per_doc})")
            ok = False
        for value in values:
            kind = classify_pii(value)
            counts[kind] += 1
            digits = re.sub(r"\D", "", value)
            if kind == "CREDIT_CARD" and not _luhn_ok(digits):
                print(f"FAIL {name}: card number {value!r} fails the Luhn check")
                ok = False
            if kind == "IBAN_CODE" and not _iban_ok(value):
                print(f"FAIL {name}: IBAN {value!r} has a wrong checksum")
                ok = False
        if len(set(values)) != len(values):
            print(f"FAIL {name}: duplicate PII values in manifest")
            ok = False
        status = "ok  " if not missing else "FAIL"
        print(f"{status} {name}: {words} words, {len(values) - len(missing)}/{len(values)} PII found")
        for value in missing:
            print(f"       missing: {value!r}")
        ok = ok and not missing

    questions = manifest.get("questions") or []
    for q in questions:
        if q.get("expected_source") not in documents:
            print(f"FAIL question {q.get('question')!r}: unknown expected_source {q.get('expected_source')!r}")
            ok = False
    if n_questions is not None and len(questions) != n_questions:
        print(f"FAIL expected {n_questions} questions, found {len(questions)}")
        ok = False

    print("PII per type: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"documents={len(documents)} questions={len(questions)} pii_total={sum(counts.values())}")
    print("VERIFY " + ("PASSED" if ok else "FAILED"))
    return ok


# --------------------------------------------------------------------------
# Sample corpus content: travel & expense policy (PDF)
# --------------------------------------------------------------------------

TRAVEL_PII = [
    "Olivia Brennan",
    "travel@northwindlabs.example.com",
    "(206) 555-0168",
    "5555 5555 5555 4444",
    "Elena Marchetti",
    "Via dei Tigli 27, 20123 Milano, Italy",
    "IT60 X054 2811 1010 0000 0123 456",
    "+39 02 8734 5521",
    "Daniel Okonkwo",
    "daniel.okonkwo@northwindlabs.example.com",
]

TRAVEL_BLOCKS: list[Block] = [
    ("title", "Northwind Labs Travel and Expense Policy"),
    (
        "subtitle",
        "Policy owner: Finance - Version 5.1 - Effective 1 February 2025 - "
        "Applies to all employees and contractors travelling on company business",
    ),
    ("h1", "1. Purpose"),
    (
        "p",
        "This policy sets out how business travel is booked, which costs Northwind Labs "
        "reimburses and how expenses are approved and paid. The aim is simple: travel "
        "safely and comfortably, spend company money as if it were your own, and get "
        "reimbursed quickly. Where this policy does not cover a situation, ask the Travel "
        "Desk before you spend, not afterwards.",
    ),
    ("h1", "2. Before you travel"),
    (
        "bullets",
        [
            "All trips must be approved in advance by your manager in TripDesk, our travel "
            "booking tool. Trips outside your home region also need approval from your "
            "department head.",
            "Book flights, trains, hotels and rental cars through TripDesk so that we can "
            "locate and support you in an emergency. Bookings made elsewhere are only "
            "reimbursed if they were at least 10% cheaper.",
            "Book at least 14 days ahead for domestic trips and 21 days ahead for "
            "international trips whenever possible.",
            "Check entry requirements and register your trip with the Travel Desk if you go "
            "to a country rated high risk by our travel security provider.",
        ],
    ),
    ("h1", "3. Transport"),
    ("h2", "3.1 Air travel"),
    (
        "p",
        "Economy class is the standard for all flights. Premium economy may be booked for "
        "flights with a scheduled duration of more than 6 hours, and business class only "
        "for flights over 10 hours or with written approval from the CFO. Choose the "
        "lowest logical fare within a two-hour window of your preferred departure time. "
        "Checked baggage, seat selection on flights over 3 hours and airport lounge access "
        "of up to USD 50 per trip are reimbursable.",
    ),
    ("h2", "3.2 Rail, taxis and rental cars"),
    (
        "p",
        "Rail is preferred over flights for journeys of under four hours, for example "
        "Berlin to Hamburg or Seattle to Portland. Taxis and ride-hailing are fine when "
        "public transport is impractical, late at night or when carrying equipment. "
        "Rental cars must be compact or intermediate class; decline the optional "
        "insurance, because our corporate policy already covers collision damage.",
    ),
    ("h2", "3.3 Using your own car"),
    (
        "p",
        "When you use your private car for business travel, Northwind Labs reimburses "
        "mileage at USD 0.67 per mile in the US (the current IRS standard rate) and "
        "EUR 0.30 per kilometre in Germany. Record the start and end address, the purpose "
        "of the trip and the distance in the expense report. Parking and tolls are "
        "reimbursed separately; fuel is not, because it is included in the mileage rate. "
        "Commuting between your home and your regular office is not business travel.",
    ),
    ("h1", "4. Accommodation"),
    (
        "p",
        "Book standard rooms in hotels close to your meeting location. The nightly limits "
        "below include taxes and apply unless the Travel Desk has confirmed a higher "
        "negotiated rate. If a conference hotel is more expensive, you may stay there.",
    ),
    (
        "table",
        [
            ["City or region", "Nightly limit", "Notes"],
            ["New York, San Francisco, London", "USD 325", "Use negotiated hotels first"],
            ["Seattle, Boston, Berlin, Munich", "USD 240", "EUR 220 in Germany"],
            ["Other US and EU cities", "USD 190", "EUR 170 in the EU"],
            ["Rest of world", "USD 210", "Check with the Travel Desk"],
        ],
    ),
    (
        "p",
        "Staying with friends or family instead of a hotel is welcome; you may claim a "
        "flat USD 50 per night to cover a thank-you gift or meal for your hosts.",
    ),
    ("h1", "5. Meals and per diem"),
    (
        "p",
        "Meals while travelling are covered by a daily per diem instead of itemised "
        "receipts. The per diem is USD 75 per full day for domestic travel and EUR 70 "
        "(or the USD equivalent) per full day for international travel. On the first and "
        "last day of a trip you receive 75% of the daily amount. If a meal is provided by "
        "a conference, a customer or the hotel, deduct 20% of the per diem for breakfast "
        "and 30% each for lunch and dinner. Alcohol is not reimbursed except at approved "
        "client entertainment events.",
    ),
    ("h1", "6. Client entertainment and gifts"),
    (
        "p",
        "Client meals must have a clear business purpose and be approved in advance by "
        "your manager. The limit is USD 120 per person including tax and tip. List all "
        "attendees and their companies in the expense report. Gifts to customers must not "
        "exceed USD 100 in value and must be recorded in the gifts register; gifts to "
        "public officials are not allowed at all.",
    ),
    ("h1", "7. Corporate cards"),
    (
        "p",
        "Employees who travel more than four times a year receive a personal corporate "
        "Visa card. Use it for all business expenses and never for personal purchases. "
        "Team events and shared bookings can be charged to the Travel Desk card, which is "
        "held by Olivia Brennan. For phone bookings the Travel Desk quotes the card "
        "number 5555 5555 5555 4444 only after verifying the supplier; never forward "
        "this number by e-mail or chat. Lost or stolen cards must be reported to the "
        "card issuer and the Travel Desk within 24 hours.",
    ),
    ("h1", "8. Submitting expenses"),
    (
        "numbered",
        [
            "Submit your expense report in TripDesk within 30 days of the end of the trip. "
            "Reports older than 90 days are not reimbursed.",
            "Attach itemised receipts for every expense over USD 25 (or EUR 25). A photo taken "
            "with the TripDesk mobile app is enough; keep the original until the report is paid.",
            "Your manager approves reports up to USD 5,000. Reports above USD 5,000, and all "
            "reports of department heads, are approved by the responsible Vice President.",
            "Finance reviews approved reports and pays them with the next payroll run, or "
            "within ten working days by bank transfer for employees outside the US.",
        ],
    ),
    ("h2", "8.1 Worked example: reimbursement to a European bank account"),
    (
        "p",
        "Elena Marchetti, a field application scientist based in Milan, travelled to a "
        "customer in Munich for three days. Her report claimed the train ticket, two "
        "hotel nights at EUR 205, the per diem (EUR 52.50 + EUR 70 + EUR 52.50) and a "
        "taxi to the customer site. Because Elena is employed by the Italian branch, "
        "Finance paid the approved amount of EUR 841.60 by SEPA transfer to the account "
        "on file: IBAN IT60 X054 2811 1010 0000 0123 456, account holder Elena Marchetti, "
        "Via dei Tigli 27, 20123 Milano, Italy. Finance confirmed the payment by phone "
        "on +39 02 8734 5521 after the bank details were updated.",
    ),
    ("h1", "9. Non-reimbursable expenses"),
    (
        "bullets",
        [
            "Fines for traffic or parking violations, and late check-out fees caused by personal choice.",
            "Personal entertainment such as films, minibar items, spa treatments or gym fees.",
            "Upgrades of flights, trains or hotel rooms that are not covered by this policy.",
            "Travel costs of partners or family members accompanying you.",
            "Lost personal belongings, luggage excess fees for personal items.",
        ],
    ),
    ("h1", "10. Contacts"),
    (
        "p",
        "Travel Desk: Olivia Brennan, travel@northwindlabs.example.com, (206) 555-0168, "
        "available Monday to Friday 8:00 to 18:00 Pacific time. Expense policy questions "
        "and exceptions: Daniel Okonkwo, Finance Controller, "
        "daniel.okonkwo@northwindlabs.example.com. In an emergency while travelling, call "
        "the 24-hour number printed on the back of your corporate card.",
    ),
]

# --------------------------------------------------------------------------
# Sample corpus content: vendor contract summary (DOCX)
# --------------------------------------------------------------------------

VENDOR_PII = [
    "Samuel Okafor",
    "samuel.okafor@northwindlabs.example.com",
    "Katrin Vogel",
    "katrin.vogel@cloudharbor.example.com",
    "+49 69 2019 4471",
    "Hafenbogen 9, 60327 Frankfurt am Main, Germany",
    "DE89 3704 0044 0532 0130 00",
    "Matthias Brandt",
    "+49 151 2345 6789",
    "192.0.2.45",
    "192.0.2.46",
]

VENDOR_BLOCKS: list[Block] = [
    ("title", "Vendor Contract Summary: CloudHarbor Hosting GmbH"),
    (
        "subtitle",
        "Prepared by Procurement and Legal for the Vendor Management Board - "
        "Contract reference NWL-VC-2024-118 - Status: active - Last reviewed 12 May 2025",
    ),
    ("h1", "1. Overview"),
    (
        "p",
        "CloudHarbor Hosting GmbH provides the dedicated bare-metal servers, colocation "
        "space and managed backup service for the European instance of Northwind Cloud. "
        "All European customer data is processed in CloudHarbor's Frankfurt data centre "
        "(FRA-2) with backups replicated to its Nuremberg site. CloudHarbor was selected "
        "in a competitive tender in spring 2024 against two other providers because it "
        "offered the best combination of price, German data residency and certified "
        "security controls (ISO 27001, BSI C5 Type 2).",
    ),
    (
        "table",
        [
            ["Item", "Details"],
            ["Contract reference", "NWL-VC-2024-118"],
            ["Vendor", "CloudHarbor Hosting GmbH, Hafenbogen 9, 60327 Frankfurt am Main, Germany"],
            ["Contract owner (Northwind Labs)", "Samuel Okafor, Head of Infrastructure"],
            ["Start date", "1 July 2024"],
            ["Initial term", "36 months, until 30 June 2027"],
            ["Renewal", "Automatic renewal for successive 12-month periods"],
            ["Termination notice", "90 days written notice before the end of the current term"],
            ["Annual contract value", "EUR 486,000 (excluding VAT)"],
            ["Governing law", "German law; courts of Frankfurt am Main"],
        ],
    ),
    ("h1", "2. Scope of services"),
    (
        "bullets",
        [
            "24 dedicated servers in two racks, with remote hands available 24/7 and a four-hour "
            "hardware replacement commitment.",
            "Managed backup with daily snapshots, 35-day retention and quarterly restore tests.",
            "Two redundant 10 Gbit/s uplinks; Northwind's public addresses in Frankfurt are "
            "192.0.2.45 (primary load balancer) and 192.0.2.46 (secondary).",
            "DDoS protection up to 200 Gbit/s included in the base fee.",
            "Dedicated technical account management with a quarterly service review.",
        ],
    ),
    ("h1", "3. Service levels and credits"),
    (
        "p",
        "CloudHarbor guarantees 99.95% monthly availability of power and network for the "
        "racks. Availability is measured by CloudHarbor's monitoring and reported monthly. "
        "If the guarantee is missed, Northwind Labs is entitled to the following service "
        "credits against the monthly fee. Credits must be claimed within 30 days after the "
        "monthly report.",
    ),
    (
        "table",
        [
            ["Monthly availability", "Service credit", "Additional remedy"],
            ["99.95% or higher", "None", "-"],
            ["99.90% to below 99.95%", "5% of the monthly fee", "-"],
            ["99.50% to below 99.90%", "15% of the monthly fee", "Root cause report within 5 days"],
            ["Below 99.50%", "30% of the monthly fee", "Right to terminate if it happens twice in 6 months"],
        ],
    ),
    (
        "p",
        "Response times for support tickets: priority 1 (outage) within 15 minutes, "
        "priority 2 (degraded service) within 1 hour, priority 3 within 1 business day.",
    ),
    ("h1", "4. Pricing and payment"),
    (
        "table",
        [
            ["Component", "Monthly fee (EUR)", "Annual (EUR)"],
            ["Dedicated servers (24)", "28,800", "345,600"],
            ["Colocation and power (2 racks)", "6,200", "74,400"],
            ["Managed backup", "3,750", "45,000"],
            ["Network and DDoS protection", "1,750", "21,000"],
            ["Total", "40,500", "486,000"],
        ],
    ),
    (
        "p",
        "Invoices are issued monthly in advance and are payable within 30 days of the "
        "invoice date. Prices are fixed for the initial term; on renewal they may rise by "
        "at most the German consumer price index change, capped at 4% per year. Payments "
        "are made by SEPA transfer to CloudHarbor's account: IBAN "
        "DE89 3704 0044 0532 0130 00, account name CloudHarbor Hosting GmbH. Any change of "
        "bank details must be confirmed by a call-back to the account manager at the "
        "number on file before Accounts Payable updates the vendor record.",
    ),
    ("h1", "5. Data protection and security"),
    (
        "bullets",
        [
            "A data processing agreement (DPA) under Article 28 GDPR is signed and attached as "
            "Annex 3. CloudHarbor acts as a processor for Northwind Labs.",
            "No customer data leaves the European Economic Area. Subprocessors are listed in "
            "Annex 4; new subprocessors require 30 days' notice and Northwind may object.",
            "CloudHarbor staff have physical access to the racks only; they have no logical "
            "access to Northwind systems.",
            "Security incidents affecting Northwind must be reported within 24 hours.",
            "Northwind may audit CloudHarbor once per year with 30 days' notice.",
        ],
    ),
    ("h1", "6. Risks and open points"),
    (
        "p",
        "The Vendor Management Board rated the overall risk as medium. The main risks are "
        "concentration (all European production runs in one provider) and the automatic "
        "renewal clause. Procurement will put a reminder in the contract calendar for "
        "1 March 2027, leaving enough time to decide on renewal before the 90-day notice "
        "deadline. Infrastructure is evaluating a second provider for disaster recovery.",
    ),
    ("h1", "7. Contacts"),
    (
        "table",
        [
            ["Role", "Name", "E-mail / phone"],
            ["Contract owner, Northwind Labs", "Samuel Okafor", "samuel.okafor@northwindlabs.example.com"],
            [
                "Account manager, CloudHarbor",
                "Katrin Vogel",
                "katrin.vogel@cloudharbor.example.com, +49 69 2019 4471",
            ],
            ["Escalation (service delivery), CloudHarbor", "Matthias Brandt", "+49 151 2345 6789"],
        ],
    ),
]


def build(corpus_dir: Path = CORPUS_DIR) -> None:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = corpus_dir / "travel-and-expense-policy.pdf"
    pages = write_pdf(
        pdf_path,
        TRAVEL_BLOCKS,
        title="Northwind Labs Travel and Expense Policy",
        author="Northwind Labs Finance",
        footer="Northwind Labs - Travel and Expense Policy v5.1 - Internal",
        keep_together=TRAVEL_PII,
    )
    print(f"wrote {pdf_path.relative_to(HERE.parent)} ({pages} pages)")
    docx_path = corpus_dir / "vendor-contract-summary-cloudharbor.docx"
    write_docx(
        docx_path,
        VENDOR_BLOCKS,
        title="Vendor Contract Summary: CloudHarbor Hosting GmbH",
        author="Northwind Labs Procurement",
    )
    print(f"wrote {docx_path.relative_to(HERE.parent)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not generate; check corpus_manifest.yaml against the documents",
    )
    args = parser.parse_args(argv)
    if args.verify:
        return 0 if verify_manifest(CORPUS_DIR, MANIFEST, n_questions=8) else 1
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
