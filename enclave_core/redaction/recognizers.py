"""Recognizers Presidio lacks: street addresses, phone shapes its validator rejects, dates of birth.

Dates of birth and ages live in ``dates_ages`` (re-exported here).

Imported only when the analyzer is built (it pulls in Presidio, hence spaCy).

The address patterns are case-sensitive on purpose: street and city names are capitalised,
and that is most of what separates "12 High Street, London" from "12 more street lamps".
Street-type words ("Street", "Ave", "rue", ...) are matched case-insensitively inline.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from enclave_core.redaction.cities import city_names
from enclave_core.redaction.dates_ages import AgeRecognizer, DateOfBirthRecognizer
from enclave_core.redaction.gated_patterns import LazyPattern
from enclave_core.redaction.person import place_names

__all__ = [
    "LOCALITY_AFTER_STREET",
    "AgeRecognizer",
    "AnyDomainEmailRecognizer",
    "CardNearKeywordRecognizer",
    "CjkNameRecognizer",
    "DateOfBirthRecognizer",
    "ExtraPhoneRecognizer",
    "LowerCaseIbanRecognizer",
    "PlaceNameRecognizer",
    "StreetAddressRecognizer",
    "UpperCasePlaceRecognizer",
    "deny_list_recognizer",
    "with_building_number",
]

# Building blocks; "[ \t]" (not \s) keeps a match on one line unless a pattern allows a line break.
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"  # capitalised word (\w is Unicode: ß, é, ...)
_US_SUFFIX = (
    r"(?i:Street|St|Str|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Ter"
    r"|Way|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Row|Close|Crescent|Cres|Gardens"
    r"|Mews|Grove|Walk|Alley|Plaza|Loop|Pike|Streets|Avenues|Roads|Drives|Courts|Lanes|Ways|Annex|Arcade"
    r"|Bypass|Canyon|Causeway|Center|Centre|Common|Commons|Corners?|Cove|Creek|Crest|Crossing|Curve|Dale"
    r"|Estates?|Expressway|Expy|Extension|Falls|Ferry|Fields?|Forest|Forge|Fork|Freeway|Fwy|Glen|Greens?"
    r"|Groves|Harbou?rs?|Haven|Heights|Hts|Hills?|Hollow|Isle|Junction|Knolls?|Lakes?|Landing|Lodge|Manor"
    r"|Meadows?|Mills?|Motorway|Mount|Orchard|Oval|Parks?|Pass|Path|Pines|Plains?|Points?|Ports?|Prairie"
    r"|Ranch|Ridges?|River|Route|Rte|Run|Shores?|Springs?|Station|Summit|Trace|Track|Turnpike|Valley"
    r"|Via|Viaduct|Views?|Village|Ville|Vista|Wells?|Wharf|Wynd|Rise|Hill|Parade|Esplanade|Quay|Embankment"
    r"|Unions?|Throughway|Burgs?|Stravenue|Trafficway|Skyway|Spurs?|Squares|Tunnel|Underpass|Overpass|Locks?"
    r"|Lights?|Keys?|Islands?|Fords?|Flats?|Forks|Gateway|Fort|Inlet|Mission|Mountains?|Neck|Radial|Ramp"
    r"|Rapids?|Rest|Shoals?|Stream|Walks|Pines?|Estates|Gardens?|Crossroad|Divide|Junctions|Glens|Harbor)"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)"
_UNIT = r"(?:(?i:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Flat)\.?|\#)[ \t]*\#?[A-Za-z0-9-]{1,6}"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
_CA_POSTCODE = r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"
_POSTAL = r"(?:\d{5}(?:-\d{4})?|" + _UK_POSTCODE + r"|" + _CA_POSTCODE + r")"
# City words: not a state ("IL", "NSW") nor the start of a UK postcode ("SW1A"), which follow it.
_CITY_WORD = r"(?![A-Z]{2,3}\b|[A-Z]{1,2}\d)" + _CAP
_CITY = _CITY_WORD + r"(?:[ \t]+" + _CITY_WORD + r"){0,2}"
_STATE = r"[A-Z]{2,3}\b(?:[ \t]+\d{4}\b)?"  # IL, NSW 2000 (AU postcodes follow the state)
# Longest first; ties by text, so every process builds the same pattern text (enclave_core/regex_cache.py).
_PLACES = sorted(place_names(), key=lambda p: (-len(p), p))
_COUNTRY = r"(?:" + "|".join(re.escape(p).replace(r"\ ", r"[ \t]+") for p in _PLACES) + r")"
_UPPER_WORD = r"(?![A-Z]{1,2}\d)[A-ZÀ-ÖØ-Þ]{2,}(?:[-'][A-ZÀ-ÖØ-Þ]+)?"  # LAPPEENRANTA
# One item of a locality: a city word, a state code, a postcode, a country.
_LOC_ITEM = r"(?:" + _POSTAL + r"|\d{4,6}(?:-\d{3,4})?|" + _COUNTRY + r"|" + _CITY_WORD + r"|" + _UPPER_WORD + r")"
# ", Springfield, IL 62704" / ", London SW1A 1AA" on the same line; then up to four more lines made
# only of locality items (mailing labels: city / ", ST" / "Country 12345"). A line with anything
# else (lower-case words, a sentence) ends the address.
_LOC_ITEMS = _LOC_ITEM + r"(?:[ \t]*,?[ \t]+" + _LOC_ITEM + r"){0,4}[ \t]*(?=\r?\n|$|[.;,)])"
# A line holding a postcode, a number, a state code or an all-caps town, or a country name only...
_STRONG_LINE = (
    r"[ \t]*,?[ \t]*(?:(?=[^\n]*(?:\d|\b[A-Z]{2,}\b))" + _LOC_ITEMS + r"|" + _COUNTRY + r"[ \t]*(?=\r?\n|$|[.;,)]))"
)
# ... or a line of town words only when a strong line follows ("Artilleros" then ", CO").
_LOC_LINE = r"(?:" + _STRONG_LINE + r"|[ \t]*,?[ \t]*" + _LOC_ITEMS + r"(?=\r?\n" + _STRONG_LINE + r"))"
_UNIT_LINE = r"[ \t]*" + _UNIT + r"[ \t]*(?=\r?\n|$|[.;,)])"
_LOCALITY = (
    r"(?:,[ \t]*" + _CITY + r"(?:,?[ \t]+" + _STATE + r")?(?:,?[ \t]+" + _POSTAL + r")?"
    r"(?:,?[ \t]+" + _COUNTRY + r"(?:[ \t]+\d{4,6})?)?"
    r"|[ \t]+" + _CITY + r",?[ \t]+(?:" + _STATE + r"(?:[ \t]+" + _POSTAL + r")?|" + _COUNTRY + r"|" + _POSTAL + r")"
    r")?"
    r"(?:[ \t]*\r?\n(?:" + _UNIT_LINE + r"|" + _LOC_LINE + r")){0,4}"
)

# 1234 Main Street, 221B Baker St., 1600 Pennsylvania Avenue NW, 350 5th Ave, Suite 3300, ...
_US_UK_STREET = (
    r"(?<![\w.-])(?:(?i:Flat|Apt|Apartment|Unit|Suite)[ \t]+[A-Za-z0-9]{1,5},[ \t]*)?(?:\d{1,6}[ \t]+(?=\d))?"
    r"\d{1,6}[A-Za-z]?(?:-\d{1,6})?"
    r"(?:[ \t]+" + _DIRECTION + r"\.?)?"
    r"(?![ \t]+(?:The|A|An|In|On|Of|At|By|For|To|And|Or)\b)"  # "In 2020 The Street Journal"
    r"(?:[ \t]+(?:" + _CAP + r"|\d{1,3}(?i:st|nd|rd|th))){1,4}"
    r"[ \t]+" + _US_SUFFIX + r"\b\.?"
    r"(?:[ \t]+" + _DIRECTION + r"\b\.?)?"
    r"(?:,?[ \t]+" + _UNIT + r")?" + _LOCALITY
)

# A postcode named as one ("ZIP: 94105", "my postal code is 560034"): US ZIP+4, Brazilian "01310-100",
# Japanese "100-0001", Dutch "1012 AB", Czech "110 00", Polish "00-950", UK, Canadian, then 3-8 digits
# (most countries; Brazil and Israel write 8 and 7 without a separator). Longer shapes first.
_ZIP_AFTER_KEYWORD = (
    r"(?<=\b(?i:zip|zip[ \t]?code|postal[ \t]+code|post[ \t]?code)(?:[ \t]+(?i:is|was))?[ \t]*[:#]?[ \t]*)"
    r"(?:\d{5}-\d{3,4}|\d{3}-\d{4}|\d{4}[ \t]?[A-Z]{2}|\d{3}[ \t]\d{2}|\d{2}-\d{3}|"
    + _UK_POSTCODE
    + r"|"
    + _CA_POSTCODE
    + r"|\d{3,8})(?![\w-])"
)

# Street name + house number, then (comma or line break) postcode + town: the European shape
# ("Simonsenlunden 70, 0547 Oslo", "Debreceni utca 18.\nH-5130 Szerbfalu", "Lizdreef 1\n2170GG\nTonden").
# The postcode + capitalised town confirm it, so the street part can be any capitalised words.
_EU_POSTCODE = r"(?:[A-Z]{1,2}-)?(?:\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ \t]\d{2}|\d{4}[ \t]?[A-Z]{2}|\d{4,5})"
_TOWN = (
    _CAP
    + r"(?:[ \t]+(?:(?:op|am|an|im|de|la|le|sur|en|del|di|da|do|dos|das|du|des|upon|on)[ \t]+)?"
    + _CAP
    + r"){0,2}(?:[ \t]+\([A-Z]{2}\))?"
)
# A capitalised word then a preposition or verb starts a clause, not a street name: "Residents near
# Schweitzerweg 12, 1953 Mödling" is an address from its third word on.
_CLAUSE_START = (
    r"(?!" + _CAP + r"[ \t]+(?:near|at|on|in|into|to|from|by|for|of|with|and|or|the|is|was|are|were|has|had)\b)"
)
_ANY_STREET = (
    r"(?<![\w.-])"
    + _CLAUSE_START
    + r"(?:(?:\d{1,6}[ \t]+)?(?:(?:"
    + _CAP
    + r"|(?i:ulica|ul\.|utca|u\.|pod|nad|na|via|rua|calle))[ \t]+){0,3}"
    + _CAP
    + r"(?:[ \t]+[^\W\d_][\w'’.-]*){0,2},?[ \t]+\d{1,5}[a-zA-Z]?(?:[/-]\d{1,5}[a-zA-Z]?)?\.?"
    + r"(?:,?[ \t]+(?:"
    + _UNIT
    + r"|(?i:Appartamento|Piso|Piano|Étage|Puerta)[ \t]+\w{1,4}|S/N))?)"
    + r"(?:,[ \t]*|[ \t]*\r?\n[ \t]*)"
    + _EU_POSTCODE
    + r",?(?:[ \t]+|[ \t]*\r?\n[ \t]*)"
    + _TOWN
    + _LOCALITY
)

# US military mail: "USNS Ortiz\nFPO AP 54321", "Unit 8524 Box 0979\nDPO AA 56703", "PSC 1234, Box 56".
_MILITARY = (
    r"(?<![\w])(?i:(?:USNS|USNV|USS|USCGC)[ \t]+[^\W\d_][\w'-]*(?:[ \t]+[^\W\d_][\w'-]*)?"
    r"|(?:Unit|PSC|CMR)[ \t]+\d{1,5},?[ \t]+Box[ \t]+\d{1,5})"
    r"(?:[ \t]*,?[ \t]*\r?\n?[ \t]*(?i:FPO|APO|DPO)[ \t]+(?i:AA|AE|AP)[ \t]+\d{5})"
)
_PO_BOX = r"(?<![\w-])(?i:P\.?[ \t]?O\.?[ \t]?Box|Post[ \t]+Office[ \t]+Box)[ \t]+\d{1,7}" + _LOCALITY

# Hauptstraße 5, 10115 Berlin / Berliner Straße 12a / Kalverstraat 92, 1012 PH Amsterdam
# English words that end like a street type ("During 2008, Sp..." is no "-ring" street).
_NOT_A_STREET_NAME = (
    r"(?!(?:During|Spring|String|Bring|Offering|Morning|Evening|Earring|Committee|Employee|Trustee|Guarantee"
    r"|Referee|Nominee|Attendee|Coffee|Toffee|Jubilee|Yankee|Refugee|Meeting|Greeting|Setting)\b)"
)
_GERMANIC_STREET_NAME = (
    _NOT_A_STREET_NAME
    + r"(?:[A-ZÄÖÜÅØÆ][\w-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig"
    r"|pfad|markt|straat|laan|plein|gracht|kade|vägen|gatan|gade|vej|katu|tie|kuja|polku|väylä|gata|veien"
    r"|vegen|utca|út|tér|ulica|cesta|iela|gatvė|tee|steeg|hof|stræti|straeti|vænget|gränd|torget|stigen"
    r"|sokak|sokağı|caddesi|bulvarı|straße|strada|stradă|ulice|náměstí|trg|vænge|bakken|brekka)"
    r"|" + _CAP + r"[ \t]+(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer)"
    # Nordic streets written as two words: "Karl Johans gate", "Strandvejen", "Storgata"
    r"|(?:" + _CAP + r"[ \t]+)?" + _CAP + r"[ \t]+(?:gate|gata|gatan|vei|veien|vej|väg|vägen|allé|plass|torg))"
)
_EU_POSTAL_CITY = (
    r"(?:,?[ \t]+(?:[A-Z]{1,2}-)?(?:\d{4}[ \t]?[A-Z]{2}|\d{3,5})[ \t]+" + _CAP + r"|,[ \t]*" + _CITY_WORD + r")?"
)
_GERMANIC_STREET = (
    r"(?<![\w-])(?:\d{1,6}[ \t]+)?"
    + _GERMANIC_STREET_NAME
    + r"(?!\w)[ \t]+\d{1,5}[a-zA-Z]?(?:[-/]\d{1,5}[a-zA-Z]?)?(?!\w)"
    + r"(?:,?[ \t]+"
    + _UNIT
    + r")?"
    + _EU_POSTAL_CITY
    + _LOCALITY
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
    + _LOCALITY
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


# Mailing-label lines: a postcode after the country at the end of a line ("\n Estonia 62488"; a 4-digit
# year is not one), and a line holding only a unit ("\n Suite 179").
_COUNTRY_POSTCODE_LINE = (
    r"(?<=^[ \t?]*" + _COUNTRY + r"[ \t]+)(?!(?:19|20)\d{2}[ \t]*$)\d{4,6}(?:-\d{3,4})?(?=[ \t]*\r?$)"
)
_UNIT_ONLY_LINE = r"(?<=^[ \t?]*)(?i:Suite|Apt\.?|Apartment|Unit|Flat)[ \t]+\#?[A-Za-z0-9-]{1,6}(?=[ \t]*\r?$)"


# "the corner of 3744 Retreat Avenue and Władysława Route": an intersection is an address as a whole.
# The first street holds a digit or a capital ("the corner of the room and the door" is no address);
# the second ends at punctuation or the end of the line.
_CORNER = (
    r"(?<![\w])(?i:the[ \t]+corner[ \t]+of)[ \t]+(?=[^\n]{0,40}?(?:\d|[A-ZÀ-ÖØ-Þ]))(?:[^\n,;.!?]|\.(?=[ \t]))"
    r"{2,60}?"
    r"[ \t]+and[ \t]+[^\W\d_][\w'’.-]*(?:[ \t]+[^\W\d_][\w'’.-]*){0,3}?(?=[ \t]*(?:[,;!?]|\.(?!\w)|\r?$))"
)
# Japanese and Chinese addresses: a prefecture (or 〒 postcode) / a city and district, then the block.
_JP_ADDRESS = (
    r"(?:〒[ \t]?\d{3}-?\d{4}[ \t　]*)?(?:東京都|北海道|京都府|大阪府|\p{Han}{2,3}県)"
    r"[\p{Han}\p{Hiragana}\p{Katakana}ー々〇\d０-９\-－‐]+"
)
_JP_POSTCODE = r"〒[ \t]?\d{3}-?\d{4}"
_CN_ADDRESS = (
    r"(?:\p{Han}{2,6}(?:省|自治区))?\p{Han}{1,6}市\p{Han}{1,8}(?:区|县|市)[\p{Han}\d]{1,16}?(?:路|街|道|巷|弄|胡同)"
    r"\d{1,5}号(?:[\p{Han}\d\-]{0,12}?(?:室|楼|栋|单元|层))?"
)
#: Locality lines after a street (", Springfield, IL 62704", "\nNicosia\n, NI\n 61089"); the NER's
#: STREET_ADDRESS spans are extended with it (engine._NerRecognizer).
LOCALITY_AFTER_STREET = re.compile(_LOCALITY, re.MULTILINE | re.UNICODE)


_BUILDING_BEFORE = re.compile(r"(?<![\w.,:/+-])\d{1,6}[A-Za-z]?[ \t]+$")


def with_building_number(text: str, start: int) -> int:
    """Start of an address span moved back over a building number right before it ("20789 Allika 46")."""
    m = _BUILDING_BEFORE.search(text, max(0, start - 10), start)
    return m.start() if m is not None else start


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
        patterns: list[Pattern] = [
            LazyPattern("street (US/UK)", _US_UK_STREET, 0.55),
            LazyPattern("PO box", _PO_BOX, 0.6),
            LazyPattern("US military mail", _MILITARY, 0.6),
            LazyPattern("street (DE/NL/Nordic)", _GERMANIC_STREET, 0.55),
            LazyPattern("street (IT/ES/PT)", _ROMANCE_STREET, 0.5),
            LazyPattern("street (FR)", _FRENCH_STREET, 0.55),
            LazyPattern("postcode after 'zip' / 'postal code'", _ZIP_AFTER_KEYWORD, 0.6),
            LazyPattern("street + number, postcode + town", _ANY_STREET, 0.55),
            LazyPattern("postcode after the country, end of line", _COUNTRY_POSTCODE_LINE, 0.5),
            LazyPattern("a line holding only a unit", _UNIT_ONLY_LINE, 0.5),
            LazyPattern("the corner of A and B", _CORNER, 0.55),
            LazyPattern("Japanese address", _JP_ADDRESS, 0.55),
            LazyPattern("Japanese postcode", _JP_POSTCODE, 0.55),
            LazyPattern("Chinese address", _CN_ADDRESS, 0.55),
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
    r"(?<![\w+])(?:\+|\b00)\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,5}\)?){2,6}"
    r"(?:[ \t]*(?:ext\.?|x|extension)[ \t]*\d{1,6})?(?![\w])"
)
# (555) 123-4567, 555.123.4567, +1 123 456 7890: NANP-shaped whether or not the number is assignable.
_NANP_PHONE = (
    r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"(?:[ \t]*(?:ext\.?|x|extension)[ \t]*\d{1,6})?(?![\w-])"
)
# Chinese mobile numbers (138 1234 5678) after a phone word in Chinese, Japanese or English.
_CN_MOBILE = (
    r"(?<=(?:手机|手機|电话|電話|携帯|联系电话|(?i:mobile|phone|tel|cell))[ \t]*[：:]?[ \t]*(?:\+?86[ \t-]?)?)"
    r"1[3-9]\d[ \t-]?\d{4}[ \t-]?\d{4}(?!\d)"
)
# A number labelled after it: "28-64-66-98 office", "3660170548-Fax", "(37) 788-063-Office".
_LABELLED_AFTER_PHONE = (
    r"(?<![\w.+-])\+?(?:\(?\d{1,5}\)?[ .-]?){1,5}\d{2,5}"
    r"(?=[ \t]*-?[ \t]*(?i:office|fax|mobile|cell|home|work|direct|desk)\b)"
)
# 555-0143: too ambiguous on its own, so it needs a context word ("call", "phone", ...).
_LOCAL_PHONE = r"(?<![\w.-])\d{3}-\d{4}(?![\w-])"
# Trunk-prefixed national numbers: 07700 900123, (07700) 900 123, 020 7946 0958, 0301234567.
_TRUNK_PHONE = r"(?<![\w.+-])(?:\(0\d{2,5}\)|0\d{2,5})[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-])"
# Unseparated 10-11 digits, 3-7 split, digit pairs (60-56-85-91, 84 23 30): context needed.
_BARE_PHONE = (
    r"(?<![\w.+-])(?:\d{10,11}|\d{3}-\d{7}|\d{2}(?:[ .-]\d{2}){2,4}|\d{4}[ .-]\d{4})"
    r"(?:[ \t]*(?:ext\.?|x)[ \t]*\d{1,6})?(?![\w-])"
)


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
        "reach",
        "dial",
        "text",
        "registered",
        "whatsapp",
        "sms",
        "landline",
        "ph",
        "tel.",
    )

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        patterns: list[Pattern] = [
            LazyPattern("international (+CC)", _INTL_PHONE, 0.5),
            LazyPattern("NANP shape", _NANP_PHONE, 0.45),
            LazyPattern("local 7-digit (context needed)", _LOCAL_PHONE, 0.1),
            LazyPattern("trunk-prefixed national", _TRUNK_PHONE, 0.4),
            LazyPattern("bare digits (context needed)", _BARE_PHONE, 0.1),
            LazyPattern("Chinese mobile after a phone word", _CN_MOBILE, 0.6),
            LazyPattern("number labelled after it (office, fax, ...)", _LABELLED_AFTER_PHONE, 0.5),
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


# local@domain (common local-part characters: "user=a@b.c" in a log is a@b.c), a dot in the domain, any
# labels: no top-level-domain check, so internal and reserved names (corp.local, company.internal, .lan,
# .test, .example, .intranet) are addresses too.
_EMAIL = (
    r"(?<![\w.%+'-])[\w%+'-]+(?:\.[\w%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?![\w@-])"
)


class AnyDomainEmailRecognizer(PatternRecognizer):
    """EMAIL_ADDRESS on any domain. Presidio's EmailRecognizer validates the top-level domain against the
    public suffix list, so ``jane@corp.local`` or ``ops@company.internal`` passed untouched; an address
    is personal data whatever its domain. The output guard uses the same detection (Redactor.guard)."""

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="AnyDomainEmailRecognizer",
            supported_language=supported_language,
            patterns=[LazyPattern("local@domain.label", _EMAIL, 0.9)],
            context=context or [],
        )


class CardNearKeywordRecognizer(PatternRecognizer):
    """A 12-19 digit number shortly after "card", "cc", "visa", ...: redacted even if the Luhn check fails
    (Maestro numbers start at 12 digits).

    Presidio's CreditCardRecognizer drops numbers that fail the checksum (typos, test data,
    partial numbers); for redaction the keyword is evidence enough.
    """

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        keyword = (
            r"(?i:card|cc|visa|mastercard|master[ \t]card|amex|american[ \t]express|credit|debit|discover|maestro)"
        )
        pattern = r"(?<=\b" + keyword + r"\b[^\d\n]{0,40})(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])"
        super().__init__(
            supported_entity="CREDIT_CARD",
            name="CardNearKeywordRecognizer",
            supported_language=supported_language,
            patterns=[LazyPattern("card number after a card keyword", pattern, 0.6)],
            context=context or [],
        )


# "Cyprus (Greek)", "Cyprus (Turkish)": a qualifier in brackets is part of the country's name.
_QUALIFIER = r"(?:[ \t]+\((?i:Greek|Turkish|North|South|French|Dutch|British|U\.?S\.?|Northern|Southern)\))?"


class PlaceNameRecognizer(PatternRecognizer):
    """LOCATION: country and US state names (data/places.txt), case-sensitive whole words."""

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="LOCATION",
            name="PlaceNameRecognizer",
            supported_language=supported_language,
            patterns=[LazyPattern("country or state name", r"(?<![\w-])" + _COUNTRY + _QUALIFIER + r"(?![\w-])", 0.6)],
            context=context or [],
        )


# A name written in Han or kana right after a form label (姓名：王小明, 氏名: 佐藤 健, 社員情報：...).
_CJK_LABEL = (
    r"(?:姓名|氏名|名前|お名前|客户信息|客户姓名|客户|顾客|社員情報|社員名|従業員"
    r"|患者(?:名|姓名)?|联系人|担当者|申请人|申請者|本人|收件人|收货人|お届け先|宛名|宛先|お客様名)"
)
_CJK_NAME = (
    r"(?<=" + _CJK_LABEL + r"[ \t]*[：:][ \t]*)"
    r"\p{Han}{1,3}(?:[ \t　]?[\p{Han}\p{Hiragana}\p{Katakana}]{1,3})?(?=[、，,。；;（(\s]|$)"
)


# 山本 花子 様, 佐藤さん, 王先生: a Han name before an honorific.
_CJK_HONORIFIC = r"(?<![\p{Han}])\p{Han}{1,3}(?:[ \t　]?\p{Han}{1,3})?(?=[ \t　]?(?:様|さん|先生|氏|殿|女士|小姐))"


class CjkNameRecognizer(PatternRecognizer):
    """PERSON: a Chinese or Japanese name after a form label ("姓名：", "氏名:", "社員情報："); spaCy's
    English model does not read Han script."""

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PERSON",
            name="CjkNameRecognizer",
            supported_language=supported_language,
            patterns=[
                LazyPattern("Han/kana name after a form label", _CJK_NAME, 0.6),
                LazyPattern("Han name before an honorific", _CJK_HONORIFIC, 0.6),
            ],
            context=context or [],
        )


class LowerCaseIbanRecognizer(PatternRecognizer):
    """IBAN_CODE written in lower case ("my iban is gb42nawi04454264788619"), which Presidio's
    IbanRecognizer (upper case only) misses; the ISO 13616 mod-97 check decides."""

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        pattern = r"(?<![\w])[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,4})?(?![\w])"
        super().__init__(
            supported_entity="IBAN_CODE",
            name="LowerCaseIbanRecognizer",
            supported_language=supported_language,
            patterns=[LazyPattern("lower-case IBAN", pattern, 0.5)],
            context=context or [],
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        compact = pattern_text.replace(" ", "").upper()
        if not 15 <= len(compact) <= 34 or not compact.isalnum():
            return False
        digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
        return int(digits) % 97 == 1


class UpperCasePlaceRecognizer(PatternRecognizer):
    """LOCATION: a town written in capitals after a place preposition ("flew to LEPPEN on", "grew up in
    HORTEN."), as address generators and forms write them. Five letters at least (acronyms are shorter:
    "moved to AWS") and not an English word ("in ADDITION")."""

    def __init__(self, vocabulary: frozenset[str], supported_language: str = "en") -> None:
        self._vocabulary = vocabulary
        pattern = (
            r"(?<=\b(?:in|to|from|near|visit|visited|visiting)[ \t]+)"
            r"[A-ZÀ-ÖØ-ÞΑ-Ω][A-ZÀ-ÖØ-ÞΑ-Ω'-]{4,}(?:[ \t]+[A-ZÀ-ÖØ-ÞΑ-Ω][A-ZÀ-ÖØ-ÞΑ-Ω'-]+){0,2}"
            r"(?=[ \t]*(?:[.,;!?)]|$|\n|[ \t]+(?:on|in|and|last|next|this|for|with|where|when|to)\b))"
        )
        super().__init__(
            supported_entity="LOCATION",
            name="UpperCasePlaceRecognizer",
            supported_language=supported_language,
            patterns=[LazyPattern("capitalised town after a preposition", pattern, 0.5)],
            context=[],
            global_regex_flags=re.MULTILINE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        if pattern_text.title() in city_names() and len(pattern_text) >= 5:
            return None  # "grew up in HELSINKI": a listed town, even where the lemma index knows the word
        words = pattern_text.split()
        return False if any(w.casefold() in self._vocabulary for w in words) else None


def deny_list_recognizer(entity: str, terms: list[str]) -> PatternRecognizer:
    """Whole-word, case-insensitive literals scored 1.0: a deny list is an instruction, not a guess."""
    return PatternRecognizer(
        supported_entity=entity,
        name=f"DenyList_{entity}",
        deny_list=sorted(set(terms), key=len, reverse=True),  # longest first: "Bluebird Cloud" before "Bluebird"
        deny_list_score=1.0,
        global_regex_flags=re.IGNORECASE | re.MULTILINE,
    )
