"""Where in its document a chunk sits: the locator stored with each chunk and shown in citations.

"page 3" is right for a PDF and wrong for a slide deck, a workbook or a mailbox, so a chunk's
payload carries a small structured locator ({"kind": "slide", "number": 3}) written at ingest,
and every citation carries it plus a human ``location`` string derived from it here, in one
place for the REST API, the stream, the OpenAI extension fields and the CLI. Chunks stored
before locators existed have only a page number; they read as {"kind": "page"}.

The names and subjects a locator holds are taken from the document after redaction, so they
are exactly as pseudonymized as the stored text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["KINDS", "describe", "from_payload", "normalized"]

# page: PDF/image page · slide: presentation slide · sheet: workbook sheet (or CSV file)
# chapter: e-book chapter · message: e-mail message
KINDS = frozenset({"page", "slide", "sheet", "chapter", "message"})
_FIELDS = ("number", "name", "subject", "date")
_MAX_TEXT = 200


def normalized(locator: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A locator with only known keys and sane values; None when it locates nothing."""
    if not locator or locator.get("kind") not in KINDS:
        return None
    out: dict[str, Any] = {"kind": locator["kind"]}
    for key in _FIELDS:
        value = locator.get(key)
        if key == "number":
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                out[key] = value
        elif isinstance(value, str) and value.strip():
            out[key] = value.strip()[:_MAX_TEXT]
    return out if len(out) > 1 else None


def from_payload(stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """The locator of a stored chunk; old chunks with only a page number read as a page."""
    locator = normalized(stored.get("locator"))
    if locator is not None:
        return locator
    return normalized({"kind": "page", "number": stored.get("page")})


def describe(locator: Mapping[str, Any] | None) -> str | None:
    """English words for a locator ("slide 3", "sheet 'Budget'", 'message "Q3" (date)')."""
    loc = normalized(locator)
    if loc is None:
        return None
    kind, number = loc["kind"], loc.get("number")
    if kind == "sheet":
        if "name" in loc:
            return f"sheet '{loc['name']}'"
        return f"sheet {number}"
    if kind == "message":
        subject = f'"{loc["subject"]}"' if "subject" in loc else ""
        date = f"({loc['date']})" if "date" in loc else ""
        return " ".join(part for part in ("message", subject, date) if part)
    if number is None:
        return kind
    return f"{kind} {number}"
