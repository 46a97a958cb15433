"""A person-shaped name that is a company's: "Rosemann Pärtzelt AG", "Olsson Johnsson AB".

The NER and the name recognizer both read "Surname Surname" as a person; a legal-form suffix right
after it says it is a company, which the policy keeps (ORGANIZATION) and which names no one in
particular. Applied by the Redactor to every PERSON detection when the policy's ``shape_checks``
is on. No spaCy or Presidio import: the Redactor imports this at import time.
"""

from __future__ import annotations

import re

__all__ = ["names_a_company"]

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
