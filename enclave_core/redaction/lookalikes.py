"""Numbers and names that look like personal data but are not: the redactor drops such detections.

Cheap string rules, applied to pattern and NER detections when ``shape_checks`` is on:

- a number (or an "address") named by a business word right before it ("order 112-4455667", "PO 4500018891",
  "support case 0007741882", "Glasgow Coma Scale score was 14", "build 20240517") is an order,
  ticket, invoice, tracking, version or score number, not a phone number, an NHS number or an age;
- a number glued to a code prefix ("T-2024-118802", "#A-55810") is part of that code;
- a "phone number" shaped like a date ("05.02.2024") is a date;
- an IP address followed by a prefix length ("10.0.0.0/8") is a network, not a host;
- an identifier's name or a heading read as a person ("Aadhaar", "CURRICULUM VITAE");
- a name or place directly before "disease", "syndrome", "'s palsy", ... is an eponym
  ("Huntington's chorea", "Hodgkin lymphoma", "Kaplan-Meier curve", "Cox model").
"""

from __future__ import annotations

import re

__all__ = ["NUMERIC_ENTITIES", "is_lookalike"]

# Detections that are bare numbers and so can be any business number.
NUMERIC_ENTITIES = frozenset({"PHONE_NUMBER", "UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT", "AGE"})

_BUSINESS_WORD = (
    r"order|orders|invoice|inv|ticket|tracking|track|case|incident|PO|purchase[ \t]+order|ref|reference|serial"
    r"|SKU|part|model|version|build|release|registration|company|VAT|EORI|request|correlation|transaction|txn"
    r"|RMA|asset|article|item|sample|job|issue|batch|lot|shipment|parcel|consignment|confirmation|booking|receipt"
    r"|score|scale|grade|level|port|pid|KB|change|CHG|SR|PR|commit|checksum|hash|barcode|EAN|UPC|GTIN|ISBN"
    r"|Rechnung|Bestellung|Auftrag|Sendung|commande|facture|pedido|factura|ordine|fattura"
)
_BEFORE = re.compile(
    r"(?i:(?<![\w])(?:" + _BUSINESS_WORD + r"))"
    r"(?i:[ \t]*(?:number|num\.?|no\.?|nr\.?|n°|id|\#|is|was|tag|code|:|=))*[ \t:#=.-]*"
    r"(?:[A-Z]{2}[ \t]*)?(?:\d+[ .-])*$"
)
_CODE_PREFIX = re.compile(r"(?:#|[A-Za-z]-|[A-Za-z0-9]-\d+-|/)$")
_DATE_SHAPE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2}")
_NETWORK = re.compile(r"/\d{1,3}(?!\d)")
_EPONYM_AFTER = re.compile(
    r"(?:'s|’s)?[ \t]+(?i:disease|syndrome|sign|chorea|palsy|phenomenon|thyroiditis|lymphoma|sarcoma|disorder"
    r"|test|law|score|scale|criteria|procedure|reflex|anomaly|ulcer|tumou?r|effect|principle|equation|index"
    r"|oesophagus|esophagus|encephalopathy|dystrophy|ataxia|node|nodes|cell|cells|classification)\b"
)
# Methods named after people, without a possessive ("Kaplan-Meier curve", "Cox model"): "Ada's model" stays.
_METHOD_AFTER = re.compile(
    r"[ \t]+(?i:curve|curves|model|models|regression|estimator|estimate|distribution|coefficient|transform"
    r"|plot|algorithm|method|hazards?)\b"
)
_EPONYM_ENTITIES = frozenset({"PERSON", "LOCATION"})
# Names of identifiers and document headings the NER reads as a person ("Aadhaar", "CURRICULUM VITAE").
_NOT_A_NAME = frozenset(
    {
        "aadhaar",
        "aadhar",
        "pesel",
        "personnummer",
        "henkilötunnus",
        "fødselsnummer",
        "steuer-id",
        "iban",
        "bic",
        "swift",
        "nino",
        "passport",
        "reisepass",
        "codice fiscale",
        "curriculum vitae",
        "résumé",
        "resume",
    }
)


# "Rechnung Nr", "Invoice No", "Kunden-Nummer": a document label before its number, not a name.
_NUMBER_LABEL_END = re.compile(r"\b(?:Nr|No|Nº|Num|Nummer|Ref)\.?\s*$")
# "Ping me", "Bug us": a one-word name or place is never followed by "me"/"us"; a chat verb is.
_OBJECT_PRONOUN_AFTER = re.compile(r"\s+(?:me|us)\b")
# "2016–2019", "2019 - present": a CV's or a report's year range.
_YEAR_RANGE = re.compile(r"(?:19|20)\d{2}[ \t]*[–—-][ \t]*(?:(?:19|20)\d{2}|present|now|today)", re.IGNORECASE)
_DOTTED_DECIMAL = re.compile(r"[\[(]?\d+\.\d+[\])]?")


def is_lookalike(text: str, start: int, end: int, entity: str) -> bool:
    """True when ``text[start:end]``, detected as ``entity``, is one of the module doc's look-alikes."""
    if entity in _EPONYM_ENTITIES and (_EPONYM_AFTER.match(text, end) or _METHOD_AFTER.match(text, end)):
        return True
    if entity == "PERSON" and " ".join(text[start:end].split()).casefold() in _NOT_A_NAME:
        return True
    if entity == "PERSON" and _NUMBER_LABEL_END.search(text[start:end]):
        return True
    one_word = " " not in text[start:end].strip()
    if entity in ("PERSON", "LOCATION") and one_word and _OBJECT_PRONOUN_AFTER.match(text, end):
        return True
    if entity == "IP_ADDRESS":
        return "/" in text[start:end] or _NETWORK.match(text, end) is not None
    line_start = text.rfind("\n", 0, start) + 1
    if entity == "NATIONAL_ID":  # "Order ID number 4412345678": a national number's shape, a business word's id
        return _BEFORE.search(text[max(line_start, start - 48) : start]) is not None
    if not (
        entity in NUMERIC_ENTITIES
        or entity == "STREET_ADDRESS"
        or (entity == "LOCATION" and not any(ch.isalpha() for ch in text[start:end]))
    ):
        return False
    before = text[max(line_start, start - 48) : start]
    if _BEFORE.search(before) or _CODE_PREFIX.search(before):
        return True
    if entity != "PHONE_NUMBER":
        return False
    value = text[start:end].strip()
    # "[82331.10214]": a log's uptime stamp, a decimal; no phone plan writes one dot between two runs.
    return any(p.fullmatch(value) is not None for p in (_DATE_SHAPE, _DOTTED_DECIMAL, _YEAR_RANGE))
