"""A person-shaped name that is a company's: "Rosemann Pärtzelt AG", "Olsson Johnsson AB".

The NER and the name recognizer both read "Surname Surname" as a person; a legal-form suffix right
after it says it is a company, which the policy keeps (ORGANIZATION) and which names no one in
particular. Applied by the Redactor to every PERSON detection when the policy's ``shape_checks``
is on. No spaCy or Presidio import: the Redactor imports this at import time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

__all__ = ["brand_names", "names_a_brand", "names_a_company"]

_BRANDS_FILE = Path(__file__).resolve().parent / "data" / "brands.txt"
# Parts of a list of brands: "Apple, Siemens, Philips and Nestlé".
_LIST_SEPARATOR = re.compile(r"[ \t]*(?:,|;|/|&|\band\b)[ \t]*")

_COMPANY_SUFFIX = re.compile(
    r",?[ \t]+(?:AG|GmbH|mbH|KG|GbR|OHG|e\.[ \t]?[GV]\.|SE|AB|ASA|AS|A/S|ApS|Oy|Oyj|NV|N\.V\.|BV|B\.V\.|SA|S\.A\."
    r"|S\.A\.R\.L\.|SARL|SAS|S\.p\.A\.|SpA|S\.r\.l\.|Srl|S\.L\.|SL|Ltd\.?|Limited|LLC|L\.L\.C\.|LLP|Inc\.?"
    r"|Incorporated|Corp\.?|Corporation|PLC|plc|Co\.|& Co\.?|and Sons|& Sons|Group|Holding|Holdings"
    r"|sp\.[ \t]?z[ \t]?o\.o\."
    r"|s\.r\.o\.|a\.s\.|d\.o\.o\.|Kft\.?|Zrt\.?|Nyrt\.?|Pty Ltd|Pty\.? Ltd\.?|S\.C\.|Ltda\.?|S\.A\. de C\.V\.)"
    r"(?![\w])"
)


def names_a_company(text: str, end: int) -> bool:
    """Whether the name ending at ``text[end]`` is followed by a company's legal form."""
    return bool(_COMPANY_SUFFIX.match(text, end))


@lru_cache(maxsize=1)
def brand_names() -> frozenset[str]:
    """data/brands.txt, case-folded and NFC-normalised (loaded once)."""
    lines = _BRANDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(unicodedata.normalize("NFC", ln.strip()).casefold() for ln in lines if ln.strip() and ln[0] != "#")


def names_a_brand(value: str) -> bool:
    """Whether ``value`` (a PERSON or LOCATION detection) is a brand, a brand and its product ("Porsche
    Taycan", "Ferrari 296 GTB"), or a list of brands: each part must begin with a listed brand."""
    brands = brand_names()
    parts = [p for p in _LIST_SEPARATOR.split(" ".join(value.split())) if p]
    if not parts:
        return False
    for part in parts:
        words = unicodedata.normalize("NFC", part).casefold().split(" ")
        if not any(" ".join(words[:n]) in brands for n in range(min(3, len(words)), 0, -1)):
            return False
    return True
