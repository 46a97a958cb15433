"""Recognizers Presidio lacks: street addresses, phone shapes its validator rejects, dates of birth.

Imported only when the analyzer is built (it pulls in Presidio, hence spaCy).

The address patterns are case-sensitive on purpose: street and city names are capitalised,
and that is most of what separates "12 High Street, London" from "12 more street lamps".
Street-type words ("Street", "Ave", "rue", ...) are matched case-insensitively inline.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

__all__ = [
    "DateOfBirthRecognizer",
    "ExtraPhoneRecognizer",
    "StreetAddressRecognizer",
    "deny_list_recognizer",
]

# Building blocks; "[ \t]" (not \s) keeps a match on one line unless a pattern allows a line break.
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"  # capitalised word (\w is Unicode: ß, é, ...)
_US_SUFFIX = (
    r"(?i:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Ter"
    r"|Way|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Row|Close|Crescent|Cres|Gardens"
    r"|Mews|Grove|Walk|Alley|Plaza|Loop|Pike)"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)"
_UNIT = r"(?:(?i:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Flat)\.?|\#)[ \t]*\#?[A-Za-z0-9-]{1,6}"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
_POSTAL = r"(?:\d{5}(?:-\d{4})?|" + _UK_POSTCODE + r")"
# City words: not a state ("IL", "NSW") nor the start of a UK postcode ("SW1A"), which follow it.
_CITY_WORD = r"(?![A-Z]{2,3}\b|[A-Z]{1,2}\d)" + _CAP
_CITY = _CITY_WORD + r"(?:[ \t]+" + _CITY_WORD + r"){0,2}"
_STATE = r"[A-Z]{2,3}\b(?:[ \t]+\d{4}\b)?"  # IL, NSW 2000 (AU postcodes follow the state)
# ", Springfield, IL 62704" / ", London SW1A 1AA"; on the next line (mailing label) only when a
# state or postal code confirms it, so a following sentence is not swallowed.
_LOCALITY = (
    r"(?:,[ \t]*" + _CITY + r"(?:,?[ \t]+" + _STATE + r")?(?:,?[ \t]+" + _POSTAL + r")?"
    r"|[ \t]*\r?\n[ \t]*"
    + _CITY
    + r",?[ \t]+(?:"
    + _STATE
    + r"(?:[ \t]+"
    + _POSTAL
    + r")?|"
    + _POSTAL
    + r"))?"
)

# 1234 Main Street, 221B Baker St., 1600 Pennsylvania Avenue NW, 350 5th Ave, Suite 3300, ...
_US_UK_STREET = (
    r"(?<![\w.-])(?:(?i:Flat|Apt|Apartment|Unit|Suite)[ \t]+[A-Za-z0-9]{1,5},[ \t]*)?"
    r"\d{1,6}[A-Za-z]?(?:-\d{1,6})?"
    r"(?:[ \t]+" + _DIRECTION + r"\.?)?"
    r"(?![ \t]+(?:The|A|An|In|On|Of|At|By|For|To|And|Or)\b)"  # "In 2020 The Street Journal"
    r"(?:[ \t]+(?:" + _CAP + r"|\d{1,3}(?i:st|nd|rd|th))){1,4}"
    r"[ \t]+" + _US_SUFFIX + r"\b\.?"
    r"(?:[ \t]+" + _DIRECTION + r"\b\.?)?"
    r"(?:,?[ \t]+" + _UNIT + r")?" + _LOCALITY
)

_PO_BOX = r"(?<![\w-])(?i:P\.?[ \t]?O\.?[ \t]?Box|Post[ \t]+Office[ \t]+Box)[ \t]+\d{1,7}" + _LOCALITY

# Hauptstraße 5, 10115 Berlin / Berliner Straße 12a / Kalverstraat 92, 1012 PH Amsterdam
_GERMANIC_STREET_NAME = (
    r"(?:[A-ZÄÖÜÅØÆ][\w-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig"
    r"|pfad|markt|straat|laan|plein|gracht|kade|vägen|gatan|gade|vej)"
    r"|" + _CAP + r"[ \t]+(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer))"
)
_EU_POSTAL_CITY = (
    r"(?:,?[ \t]+(?:[A-Z]{1,2}-)?(?:\d{4}[ \t]?[A-Z]{2}|\d{4,5})[ \t]+"
    + _CAP
    + r"|,[ \t]*"
    + _CITY_WORD
    + r")?"
)
_GERMANIC_STREET = (
    r"(?<![\w-])"
    + _GERMANIC_STREET_NAME
    + r"(?!\w)[ \t]+\d{1,5}[a-zA-Z]?(?:[-/]\d{1,5}[a-zA-Z]?)?(?!\w)"
    + _EU_POSTAL_CITY
)

# Via Roma 12, 00184 Roma / Calle Mayor 5 / Rua Augusta 100
_PARTICLES = r"(?:(?:de|del|della|delle|dei|di|da|do|dos|das|la|le|les|du|des)[ \t]+|[ld]')*"
_ROMANCE_STREET = (
    r"(?<![\w-])(?:Via|Viale|Piazza|Corso|Calle|Avenida|Avda\.|Paseo|Carrer|Rua|Largo|Travessa)[ \t]+"
    + _PARTICLES
    + _CAP
    + r"(?:[ \t]+"
    + _CAP
    + r"){0,2},?[ \t]+\d{1,5}[a-zA-Z]?(?!\w)"
    + _EU_POSTAL_CITY
)

# 12 rue de Rivoli, 75001 Paris / 5 bis avenue Victor Hugo
_FRENCH_STREET = (
    r"(?<![\w.-])\d{1,5}(?:[ \t]?(?:bis|ter))?,?[ \t]+"
    r"(?i:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|cours)[ \t]+"
    + _PARTICLES
    + _CAP
    + r"(?:[ \t]+"
    + _PARTICLES
    + _CAP
    + r"){0,3}"
    + _EU_POSTAL_CITY
)


class StreetAddressRecognizer(PatternRecognizer):
    """STREET_ADDRESS for common US, UK and continental European formats.

    Scores are moderate: a matching shape is strong evidence, but "5 Main Street" can also be a
    heading; context words (address, lives, ...) lift the score further.
    """

    CONTEXT: ClassVar[tuple[str, ...]] = (
        "address",
        "addresses",
        "live",
        "lives",
        "living",
        "reside",
        "resides",
        "residence",
        "street",
        "home",
        "mailing",
        "mail",
        "ship",
        "shipping",
        "deliver",
        "delivery",
        "located",
        "postal",
        "moved",
    )

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        patterns = [
            Pattern("street (US/UK)", _US_UK_STREET, 0.55),
            Pattern("PO box", _PO_BOX, 0.6),
            Pattern("street (DE/NL/Nordic)", _GERMANIC_STREET, 0.55),
            Pattern("street (IT/ES/PT)", _ROMANCE_STREET, 0.5),
            Pattern("street (FR)", _FRENCH_STREET, 0.55),
        ]
        super().__init__(
            supported_entity="STREET_ADDRESS",
            name="StreetAddressRecognizer",
            supported_language=supported_language,
            patterns=patterns,
            context=context if context is not None else list(self.CONTEXT),
            global_regex_flags=re.MULTILINE | re.UNICODE,
        )


# +CC then 2-6 digit groups (spaces, dots, dashes, "(0)"), optional extension.
_INTL_PHONE = (
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,5}\)?){2,6}"
    r"(?:[ \t]*(?:ext\.?|x|extension)[ \t]*\d{1,6})?(?![\w])"
)
# (555) 123-4567, 555.123.4567, +1 123 456 7890: NANP-shaped whether or not the number is assignable.
_NANP_PHONE = (
    r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"(?:[ \t]*(?:ext\.?|x|extension)[ \t]*\d{1,6})?(?![\w-])"
)
# 555-0143: too ambiguous on its own, so it needs a context word ("call", "phone", ...).
_LOCAL_PHONE = r"(?<![\w.-])\d{3}-\d{4}(?![\w-])"


class ExtraPhoneRecognizer(PatternRecognizer):
    """Phone shapes Presidio's PhoneRecognizer misses.

    PhoneRecognizer (python-phonenumbers, leniency VALID) drops numbers that are well formed but
    not assignable: "+1 123 456 7890", the UK drama range "+44 7700 900123", "+1 555 010 9999",
    and 7-digit local numbers. Redaction must not care whether a number could really ring.
    """

    # spaCy's stop words ("call") never count as context in Presidio, so they are not listed.
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "phone",
        "telephone",
        "tel",
        "cell",
        "mobile",
        "fax",
        "number",
        "contact",
    )

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        patterns = [
            Pattern("international (+CC)", _INTL_PHONE, 0.5),
            Pattern("NANP shape", _NANP_PHONE, 0.45),
            Pattern("local 7-digit (context needed)", _LOCAL_PHONE, 0.1),
        ]
        super().__init__(
            supported_entity="PHONE_NUMBER",
            name="ExtraPhoneRecognizer",
            supported_language=supported_language,
            patterns=patterns,
            context=context if context is not None else list(self.CONTEXT),
            global_regex_flags=re.IGNORECASE,
        )

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """E.164 numbers carry 7 to 15 digits (extension excluded); outside that it is something else."""
        main = re.split(r"(?i)ext|x", pattern_text, maxsplit=1)[0]
        digits = sum(ch.isdigit() for ch in main)
        return not 7 <= digits <= 15


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}"
    r"|(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?" + _MONTH + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+\d{4})"
)
_DOB = (
    r"(?<=\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
    r"\s*[:=–-]?\s*(?:is\s+|was\s+)?\(?)" + _DATE + r"(?!\d)"
)


class DateOfBirthRecognizer(PatternRecognizer):
    """A date right after "DOB", "date of birth", "born (on)": a quasi-identifier, unlike other dates.

    Plain dates (meeting on March 3) are not PII and stay; spaCy's DATE_TIME is not used.
    """

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="DATE_OF_BIRTH",
            name="DateOfBirthRecognizer",
            supported_language=supported_language,
            patterns=[Pattern("date after a birth keyword", _DOB, 0.65)],
            context=context or [],
            global_regex_flags=re.IGNORECASE,
        )


def deny_list_recognizer(entity: str, terms: list[str]) -> PatternRecognizer:
    """Whole-word, case-insensitive literals scored 1.0: a deny list is an instruction, not a guess."""
    return PatternRecognizer(
        supported_entity=entity,
        name=f"DenyList_{entity}",
        deny_list=sorted(
            set(terms), key=len, reverse=True
        ),  # longest first: "Bluebird Cloud" before "Bluebird"
        deny_list_score=1.0,
        global_regex_flags=re.IGNORECASE | re.MULTILINE,
    )
