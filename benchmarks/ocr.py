"""OCR benchmark: character error rate and cost per page of the scanned-page path.

Pages are rendered from known text (samples/corpus in English, samples/corpus_ja in Japanese)
with Pillow at 300 dpi, wrapped into image-only PDFs, and loaded through ingest.loaders
exactly as an upload is (pypdfium2 render + Tesseract over a pipe). Two conditions: a clean
render, and a "scanned" one (0.7 degree skew, blur, noise, JPEG at quality 60). The baseline in
the same run is the same English text in a PDF with a text layer (no OCR), so the cost is
also printed as a ratio. CER = Levenshtein distance / reference length, whitespace removed
(Tesseract's line breaks and Japanese spacing are not errors a reader sees).

    enclave bench ocr [--pages 4] [--out results]   (or .venv/bin/python -m benchmarks.ocr)
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest.loaders import load_document
from ingest.loaders.ocr import ocr_image, ocr_languages

__all__ = ["bench", "character_error_rate", "main", "run_ocr_bench"]

REPO = Path(__file__).resolve().parent.parent
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
JAPANESE_FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
LINES_PER_PAGE = 24
FONT_PX = 42  # 10 pt at 300 dpi


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over reference length, both with all whitespace removed."""
    ref, hyp = re.sub(r"\s+", "", reference), re.sub(r"\s+", "", hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)


def _plain_lines(folder: Path, width: int) -> list[str]:
    lines: list[str] = []
    for path in sorted(folder.glob("*.md")) + sorted(folder.glob("*.txt")):
        try:
            text_of_file = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # the corpus holds Shift_JIS/EUC-JP files on purpose; UTF-8 ones suffice
            continue
        for raw in text_of_file.splitlines():
            text = re.sub(r"[#*_`>|\[\]]", "", raw).strip()
            if len(text) > 20:
                lines.extend(textwrap.wrap(text, width))
    return lines


def _pages(lines: list[str], count: int) -> list[list[str]]:
    return [lines[i * LINES_PER_PAGE : (i + 1) * LINES_PER_PAGE] for i in range(count)]


def _render(lines: list[str], font_path: str) -> Image.Image:
    font = ImageFont.truetype(font_path, FONT_PX)
    image = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((200, 250 + row * int(FONT_PX * 1.7)), line, font=font, fill=0)
    return image


def _scanned(image: Image.Image, seed: int) -> Image.Image:
    rng = random.Random(seed)
    skewed = image.rotate(0.7, resample=Image.Resampling.BICUBIC, fillcolor=255).filter(ImageFilter.GaussianBlur(0.8))
    noise = Image.effect_noise(skewed.size, 18).point(lambda v: v - 128 + rng.randint(-2, 2))
    noisy = Image.blend(skewed, Image.eval(noise, lambda v: 255 - abs(v) // 2), 0.12)
    buffer = io.BytesIO()
    noisy.save(buffer, format="JPEG", quality=60)
    return Image.open(io.BytesIO(buffer.getvalue()))


def _image_pdf(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=300.0)
    return buffer.getvalue()


def _text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer (Helvetica), the no-OCR baseline."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    content = ("BT /F1 10 Tf 14 TL 60 780 Td " + " ".join(f"({t}) Tj T*" for t in escaped) + " ET").encode(
        "latin-1", "replace"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _timed_text(data: bytes, name: str) -> tuple[str, float]:
    started = time.perf_counter()
    doc = load_document(data, name)
    return "\n".join(block.text for block in doc.blocks), time.perf_counter() - started


def _case(pages: list[list[str]], font: str, condition: str, languages: str | None) -> dict[str, float]:
    cers, seconds = [], []
    for number, lines in enumerate(pages):
        image = _render(lines, font)
        if condition == "scanned":
            image = _scanned(image, number)
        if languages is None:  # the product path: PDF without text layer -> render -> OCR
            text, elapsed = _timed_text(_image_pdf(image), f"page-{number}.pdf")
        else:  # the engine alone with another language set, for comparison
            started = time.perf_counter()
            text = ocr_image(image, "bench", languages)
            elapsed = time.perf_counter() - started
        cers.append(character_error_rate("\n".join(lines), text))
        seconds.append(elapsed)
    return {
        "pages": len(pages),
        "cer_mean": round(statistics.mean(cers), 4),
        "cer_max": round(max(cers), 4),
        "seconds_per_page": round(statistics.mean(seconds), 3),
    }


def run_ocr_bench(page_count: int, out_dir: Path) -> dict[str, object]:
    english = _pages(_plain_lines(REPO / "samples" / "corpus", 60), page_count)
    japanese = _pages(_plain_lines(REPO / "samples" / "corpus_ja", 40), page_count)
    baseline = [_timed_text(_text_pdf(lines), "text.pdf")[1] for lines in english]
    cases: dict[str, dict[str, float]] = {}
    for condition in ("clean", "scanned"):
        cases[f"en/{condition}/{ocr_languages()}"] = _case(english, LATIN_FONT, condition, None)
        cases[f"ja/{condition}/{ocr_languages()}"] = _case(japanese, JAPANESE_FONT, condition, None)
    cases["en/clean/eng (engine only)"] = _case(english, LATIN_FONT, "clean", "eng")
    cases["ja/clean/jpn (engine only)"] = _case(japanese, JAPANESE_FONT, "clean", "jpn")
    text_layer = statistics.mean(baseline)
    for case in cases.values():
        case["x_text_layer_time"] = round(case["seconds_per_page"] / text_layer, 1)
    result: dict[str, object] = {
        "benchmark": "ocr",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "text_layer_seconds_per_page": round(text_layer, 4),
        "cases": cases,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"ocr-{stamp}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return result


def format_ocr(result: dict[str, object]) -> str:
    rows = [f"{'case':34} {'pages':>5} {'CER':>7} {'CER max':>8} {'s/page':>7} {'x text layer':>12}"]
    cases = result["cases"]
    assert isinstance(cases, dict)
    for name, case in cases.items():
        rows.append(
            f"{name:34} {case['pages']:>5} {case['cer_mean']:>7.2%} {case['cer_max']:>8.2%}"
            f" {case['seconds_per_page']:>7.2f} {case['x_text_layer_time']:>12.1f}"
        )
    baseline = result["text_layer_seconds_per_page"]
    assert isinstance(baseline, float)
    rows.append(f"baseline: text-layer PDF page {baseline * 1000:.1f} ms")
    return "\n".join(rows)


def bench(args: argparse.Namespace) -> int:
    print(format_ocr(run_ocr_bench(args.pages, args.out)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from benchmarks.formats_cli import ocr_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ocr_arguments(parser)
    return bench(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
