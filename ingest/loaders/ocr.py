"""OCR with the Tesseract engine (Debian's tesseract-ocr, English and Japanese data).

Tesseract runs as a subprocess fed through stdin/stdout: the page image never touches
the disk (pytesseract, which LlamaIndex's ImageReader uses, writes every image to a
temporary file, and scanned pages are exactly the documents full of personal data).
Used for images and for PDF pages that have no text layer (see pdf.py).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from functools import lru_cache

from PIL import Image, ImageSequence

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, short_reason, source_stem

__all__ = [
    "IMAGE_EXTENSIONS",
    "OcrUnavailable",
    "load_image",
    "ocr_image",
    "ocr_languages",
    "tesseract_available",
]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
WANTED_LANGUAGES = ("eng", "jpn")
OCR_TIMEOUT_S = 120
MAX_PAGES = 500
# Tesseract is tuned for ~300 dpi text; a small image is enlarged towards it.
MIN_OCR_HEIGHT = 1600
# Tesseract puts a space between Japanese characters; no Japanese text has them.
_CJK = r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) +(?={_CJK})")
_MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff"}


class OcrUnavailable(InputError):
    """The file needs OCR and no Tesseract is installed (make install adds it)."""


@lru_cache(maxsize=1)
def ocr_languages() -> str:
    """ "eng+jpn" when both data files are installed, else whichever of them is."""
    binary = shutil.which("tesseract")
    if binary is None:
        return ""
    result = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    installed = set(result.stdout.split())
    return "+".join(lang for lang in WANTED_LANGUAGES if lang in installed)


def tesseract_available() -> bool:
    return bool(ocr_languages())


def _prepared(image: Image.Image) -> Image.Image:
    image = image.convert("L")
    if image.height < MIN_OCR_HEIGHT:
        factor = min(4.0, MIN_OCR_HEIGHT / max(image.height, 1))
        image = image.resize((int(image.width * factor), int(image.height * factor)), Image.Resampling.LANCZOS)
    return image


def ocr_image(image: Image.Image, source: str, languages: str | None = None) -> str:
    """The text Tesseract reads in one page image; the image goes over a pipe as PNG.

    languages defaults to every installed one of WANTED_LANGUAGES ("eng+jpn")."""
    languages = languages or ocr_languages()
    if not languages:
        raise OcrUnavailable(f"{source}: needs OCR, and the Tesseract engine is not installed")
    buffer = io.BytesIO()
    _prepared(image).save(buffer, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page: the host is shared
    try:
        result = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", languages, "--psm", "3"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CorruptDocument(f"{source}: OCR gave up after {OCR_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        raise CorruptDocument(f"{source}: OCR failed (tesseract exit status {result.returncode})")
    return _CJK_GAP.sub("", result.stdout.decode("utf-8", errors="replace"))


def text_blocks(blocks: list[Block], text: str, page: int | None) -> None:
    """OCR text split into paragraphs at blank lines, each a block on its page."""
    for paragraph in re.split(r"\n\s*\n", text):
        add_block(blocks, paragraph, page=page)


def load_image(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """An image (every frame of a multi-page TIFF) read with OCR; frame N is page N."""
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format or ""
        blocks: list[Block] = []
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > MAX_PAGES:
                raise CorruptDocument(f"{source}: rejected, more than {MAX_PAGES} pages")
            text_blocks(blocks, ocr_image(frame, source), number)
    except InputError:
        raise
    except Exception as exc:  # Pillow: UnidentifiedImageError, DecompressionBombError, OSError
        raise CorruptDocument(f"{source}: not a readable image ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source,
        title=source_stem(source),
        blocks=blocks,
        media_type=_MEDIA.get(image_format, "image/unknown"),
        metadata={"ocr": "tesseract"},
    )
