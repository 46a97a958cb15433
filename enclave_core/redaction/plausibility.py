"""Shape checks on what the NER model calls a person, a place, an address or a phone number.

A statistical NER trained on synthetic PII text sees names everywhere in prose it was not
trained on: sentence-initial connectives ("However", "Thus"), section headings ("METHODS"),
gene and protein symbols ("HER2", "IL-6"), species ("S. aureus"), p-values as phone numbers
("0.05"), measurements as addresses ("P = 0.016"). Each of these costs a redaction that
destroys searchable text and never protects anyone. The rules below reject spans whose *form*
no real value of that type has, so a real name, place, address or number keeps being redacted
wherever it appears. One rule looks around the span: a bare number the NER calls an age must
stand where ages stand ("aged 45", "Jane Doe (45)", "45-year-old"), since its form says nothing.

Found by reading what the redactor removed from a sample of scientific abstracts (SciFact), and
checked against our own synthetic PII text (training/pii_ner, dev split); see
tests/unit/test_plausibility.py for the table of accepted and rejected spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS

from enclave_core.redaction.person import NAME_PARTICLES

__all__ = ["SpanShapes", "age_in_context", "is_cased"]

_TOKEN = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*\.?", re.UNICODE)
_HAS_DIGIT = re.compile(r"\d")
_STATISTICS = re.compile(r"%|=|±|\+/-|\+-|;|<|>")
# Lower-case words inside a name ("Ludwig van Beethoven") or a place ("Rio de Janeiro",
# "Frankfurt am Main", "Newcastle upon Tyne").
_PARTICLES = NAME_PARTICLES | frozenset(
    ["y", "e", "of", "on", "upon", "am", "an", "im", "sur", "do", "bei", "aan", "op"]
)
# Street-type words (whole words, case-insensitive) and compound endings (German, Dutch, Nordic):
# an address names its street with one of them, or starts with a house number, or has a postcode.
_STREET_WORD_TEXT = """
street st road rd avenue ave av lane ln drive dr boulevard blvd way court ct place pl square sq
terrace crescent close grove gardens parade highway hwy parkway pkwy circle cir trail trl row
walk mews hill heights loop path pike plaza point ridge alley bend crossing expressway freeway
route suite ste apt apartment unit floor fl flat level studio building bldg house box postbox postfach po rue
avenida calle carrer camino paseo plaza praça rua via viale corso largo piazza vicolo strada
chemin allée allee impasse quai cours route platz markt ring damm ufer gasse weg ul ulica aleja
plac utca ulice námestí náměstí
"""
_STREET_WORDS = frozenset(_STREET_WORD_TEXT.split())
_STREET_SUFFIX_TEXT = """
straße strasse str. gasse weg platz allee damm straat laan gracht plein steeg gatan vägen vej
gade veien vegen katu
"""
_STREET_SUFFIXES = tuple(_STREET_SUFFIX_TEXT.split())
# A postcode where addresses put one: "TX 78701", "NW1 6XE", "K1A 0B1", "75001 Paris," (then a
# comma, a line end or the end), or a ZIP closing the span.
_POSTCODE = re.compile(
    r"\b[A-Z]{2},?\s+\d{5}(?:-\d{4})?\b"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
    r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
    r"|\b\d{4,6}\s+[A-ZÀ-Ý][a-zà-ÿ]+(?:[ -][A-ZÀ-Ý][a-zà-ÿ]+)?\s*(?:,|\n|$)"
    r"|\b\d{5}(?:-\d{4})?\s*$"
    r"|\b\d{4}\s?[A-Z]{2}\b(?!\w)"  # Dutch: "1012 AB"
)
# A house number before a capitalised word: "221B Baker", "12, Rue", "4512 Maple".
# A year and then an article starts a clause, not an address: "In 2020 The Street Journal ran ...".
_YEAR_THEN_ARTICLE = re.compile(r"^\s*(?:19|20)\d\d\s+(?:The|A|An|This|That|These|Those|Our|Its)\s")
_HOUSE_NUMBER_FIRST = re.compile(r"^\s*\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?,?\s+[A-ZÀ-Ý][a-zà-ÿ]")
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?\s*Box|Postfach|Apartado|Boîte postale)\b", re.IGNORECASE)
# An isolated decimal ("0.05", "23·6"), not a dotted phone number ("01.23.45.67.89").
_DECIMAL = re.compile(r"(?<![\d.])\d{1,3}[.·]\d+(?![\d.])")
_PHONE_WORDS = frozenset(["x", "ext", "tel", "ph", "fax", "mob"])
_MIN_PHONE_DIGITS = 7
# Mixed case inside a word ("NusG", "siRNAs", "MuVSEL") is a symbol, unless a name prefix explains it.
_INNER_CAPITAL = re.compile(r"[a-zà-ÿ][A-ZÀ-Ý]")
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|Le|La|Van|Von|Fitz|O['’])", re.UNICODE)
# Upper-case place abbreviations; other acronyms (ADHD, CETP) are not places.
# US states, Canadian provinces and territories, Australian states
_PLACE_ACRONYM_TEXT = """
US USA UK UAE EU NYC LA DC PRC ROC ROK DPRK GB NZ PR
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND
OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
AB BC MB NB NL NS NT NU ON PE QC SK YT NSW VIC QLD TAS ACT
"""
_PLACE_ACRONYMS = frozenset(_PLACE_ACRONYM_TEXT.split())
_CALENDAR_TEXT = """
monday tuesday wednesday thursday friday saturday sunday weekend weekday
january february april june july august september october november december
"""
_CALENDAR_WORDS = frozenset(_CALENDAR_TEXT.split())
_SEASONS_AND_MONTHS = _CALENDAR_WORDS | frozenset(["march", "may", "spring", "summer", "autumn", "fall", "winter"])
# Weekdays as mail and log headers abbreviate them ("Date: Tue, 14 Oct 2025"); "Sun" is left out
# (a surname). Alone, each is a listed first name somewhere, never a person in that slot.
_WEEKDAY_ABBREVIATIONS = frozenset(["mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat"])
# A new log or chat record: after a line break "[…", an ISO date or a clock time; anywhere after
# whitespace, "[" with a digit or an ISO date ("… Gdańsk [2025-09-02 14:05:10] agent: …").
_RECORD_START = re.compile(r"\s*(?:\[|\d{4}-\d\d-\d\d|\d{1,2}:\d\d)")
_INLINE_RECORD_START = re.compile(r"\s+(?:\[\d|\d{4}-\d\d-\d\d(?:[T ]\d))")
# "June. Reviewed by": a person span that runs over a sentence end. A word of three letters or
# more before the full stop ends the sentence unless it is a title ("Mrs. Price", "Prof. Ito").
_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{3})\.\s+(?=[A-ZÀ-Ý])")
_TITLES = frozenset(
    [
        *("mrs", "miss", "prof", "capt", "sgt", "rev", "hon", "gen", "col", "mme", "mlle"),
        *("sra", "srta", "dott", "ing", "sen", "rep", "gov", "pres", "supt", "insp"),
    ]
)
# A lab value's symbol ("HbA1c", "pCO2"): lower case then a capital, and a digit, in one token.
_MEASUREMENT_SYMBOL = re.compile(r"\b(?=\w*[a-z][A-Z])(?=\w*\d)[A-Za-z]\w*\b")
# One run of digits, one dot, one run of digits: a decimal or a log timestamp ("82331.10214").
_DOTTED_DECIMAL = re.compile(r"\W*\d+\.\d+\W*")
_AGE_WORDS = re.compile(
    r"\b(?:age[ds]?|aged|years?|yrs?|y/?o|old|born|birthday|turn(?:s|ed)?)\b|-year|\byear-", re.IGNORECASE
)
_RANGE_AFTER = re.compile(r"\s*(?:to|-|–|—|or)\s*\d")
_RANGE_BEFORE = re.compile(r"\d\s*(?:to|-|–|—|or)\s*$")
_COMPARISON_BEFORE = re.compile(
    r"\b(?:(?:less|more|fewer|greater|longer|shorter)\s+than|under|within|after|for|every|least)\s*$", re.IGNORECASE
)
_AGE_SLOT = re.compile(r"[A-ZÀ-Ý][\w’'-]*\s*(?:\(|,)\s*$")  # "Jane Doe (" / "John Smith, " before the number


def _inflections(word: str) -> list[str]:
    """The word and the stems plain English inflection would give (methods, studies, modulating)."""
    out = [word]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 2:
        out.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out.extend([stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem])
    return out


_CAPITALISED_WORD = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]+")


def is_cased(text: str) -> bool:
    """Whether ``text`` capitalises words the usual way (two or more capitalised words); chat typed
    all in lower case is not, and there a lower-case "dubai" may well be the place."""
    return len(_CAPITALISED_WORD.findall(text)) >= 2


def age_in_context(text: str, start: int, end: int) -> bool:
    """Whether a bare number at ``text[start:end]`` stands where an age stands. A bound of a range
    or a comparison ("5 to 9 years", "less than 5 years") counts time, not a person's age."""
    before, after = text[max(0, start - 30) : start], text[end : end + 25]
    if _RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before) or _COMPARISON_BEFORE.search(before):
        return False
    return bool(_AGE_WORDS.search(before) or _AGE_WORDS.search(after) or _AGE_SLOT.search(before))


@dataclass(frozen=True)
class SpanShapes:
    """The shape rules, with the word lists they need (the spaCy lemma index, name and place lists)."""

    vocabulary: frozenset[str]  # lower-case English words
    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    cities: frozenset[str] = frozenset()  # the city gazetteer's list (cities.city_names)

    def trimmed_end(self, value: str, *, cased_text: bool) -> int:
        """Where a name, place or address span really ends: the NER sometimes runs on past a comma
        into the sentence ("I grew up on Ringgränd 66, two doors down") or onto a symbol ("in
        Lagos #travel"). Where capitals carry meaning (cased text, or a capitalised span), a tail
        after the last comma made only of lower-case English words is cut, and so is trailing
        punctuation; returns the new length of ``value``."""
        end = len(value)
        head, comma, tail = value.rpartition(",")
        words = tail.split()
        if (
            comma
            and (cased_text or any(c.isupper() for c in head))
            and words
            and all(w.islower() and self._common_word(w) for w in words)
        ):
            end = len(head)
        while end > 0 and not (value[end - 1].isalnum() or value[end - 1] in ".)"):
            end -= 1
        return end if end > 0 else len(value)

    @staticmethod
    def record_end(entity: str, value: str) -> int:
        """Where a span must end at a record boundary: no span runs into the next log or chat record
        ("03281753339 [2025-09-02 14:06", "… Gdańsk\\n[2025-09-02"), and a phone number never
        runs onto the next line or into a bracket; returns the new length of ``value``."""
        cut = len(value)
        inline = _INLINE_RECORD_START.search(value)
        if inline is not None:
            cut = inline.start()
        for i, ch in enumerate(value[:cut]):
            if ch == "\n" and (entity == "PHONE_NUMBER" or _RECORD_START.match(value, i + 1)):
                cut = i
                break
            if entity == "PHONE_NUMBER" and ch in "[]" and i > 0:
                cut = i
                break
        if entity == "PERSON":
            for stop in _SENTENCE_END.finditer(value, 0, cut):
                word = _TOKEN.findall(value[: stop.start()])[-1:]
                if word and word[0].casefold() not in _TITLES:
                    cut = stop.start()
                    break
        while cut > 0 and value[cut - 1].isspace():
            cut -= 1
        return cut if cut > 0 else len(value)

    def place_before_name(self, value: str) -> int:
        """Where a person span really starts when the NER has read "<town>, <name>" as one
        ("The mayor of Gansbaai, Denise Manning, opened ..."): after the comma, when the part
        before it is a listed city and the rest is a name of two words or more. Else 0."""
        head, comma, rest = value.partition(",")
        if not comma or head.strip() not in self.cities or head.strip() in self.surnames:
            return 0
        if len(_TOKEN.findall(rest)) < 2 or "," in rest:
            return 0
        return len(head) + 1 + (len(rest) - len(rest.lstrip()))

    def implausible(self, entity: str, value: str, *, cased_text: bool = False) -> bool:
        """True when no real value of ``entity`` looks like ``value``.

        ``cased_text``: the surrounding text capitalises its words (see :func:`is_cased`), so a
        place written in lower case ("in vitro", "mouse") is a common word, not a place, and a
        lower-case word that is no known first name or surname is not a person.
        """
        if entity == "PERSON":
            return self._not_a_name(value, cased_text)
        if entity == "LOCATION":
            return self._not_a_place(value, cased_text)
        if entity == "STREET_ADDRESS":
            return self._not_an_address(value)
        if entity == "PHONE_NUMBER":
            return self._not_a_phone(value)
        if entity == "AGE":  # a number of years, nothing else: "0.01", "50+/-13", "16–29" are not ages
            return not (value.strip().isdigit() and int(value) <= 120)
        return False

    # --- helpers ---------------------------------------------------------------------------------

    def _known_name(self, token: str) -> bool:
        word = token.rstrip(".")
        variants = {word, word.capitalize(), word.title()}
        return any(v in self.first_names or v in self.surnames for v in variants)

    def _common_word(self, token: str) -> bool:
        word = token.rstrip(".").casefold()
        parts = [p for p in re.split(r"[-’']", word) if p] or [word]
        return all(any(v in self.vocabulary for v in _inflections(part)) for part in parts)

    @staticmethod
    def _symbol(token: str) -> bool:
        """Gene, protein and product symbols: digits (HER2, IL-6), mixed case (NusG, siRNAs), an
        acronym in the plural (HSCs, SNPs), or a hyphenated word with an acronym part beside a
        lower-case one (TGF-beta) or a one-letter part beside no name-like part (N-cadherin, G-CSF).
        Hyphenated names have neither (Jean-Luc, Al-Sayed, I-Hsiung, I-HSIUNG)."""
        if _HAS_DIGIT.search(token):
            return True
        if _INNER_CAPITAL.search(token) and not _NAME_PREFIX.match(token):
            return True
        if _PLURAL_ACRONYM.fullmatch(token):
            return True
        parts = [p for p in token.rstrip(".").split("-") if p]
        if len(parts) < 2:
            return False
        if not token.isupper():
            # N-cadherin, T-cell, TGF-beta; not I-Hsiung (a one-letter syllable beside a name part)
            if any(p.isupper() for p in parts if len(p) > 1):
                return True
            return any(len(p) == 1 for p in parts) and not any(p[:1].isupper() and p[1:].islower() for p in parts)
        # All capitals: G-CSF, T-ALL are short acronyms; I-HSIUNG, JEAN-LUC are names in capitals.
        return any(len(p) == 1 for p in parts) and all(len(p) <= 4 for p in parts)

    def _shape_rejects(self, tokens: list[str], *, place: bool = False) -> bool | None:
        """Rules for names and places alike: True = implausible, False = plausible, None = undecided."""
        if not tokens:
            return True
        if any(self._symbol(t) for t in tokens):  # HER2, IL-6, HIV-1, NusG, siRNAs
            return True
        if len(tokens) == 1 and len(tokens[0].rstrip(".")) == 1:  # a lone letter
            return True
        if all(t.islower() for t in tokens):
            # Typed in lower case ("fatima al-sayed"): a name needs a word that is not plain English.
            # Places are kept: the English word list holds place names too (tokyo, brussels).
            return False if place else all(self._common_word(t) or t in _PARTICLES for t in tokens)
        if any(t.islower() and t not in _PARTICLES for t in tokens[1:]):
            return True  # a lower-case word inside a capitalised span: "S. aureus", "Loss of function"
        return None

    def _not_a_name(self, value: str, cased_text: bool = False) -> bool:
        tokens = _TOKEN.findall(value)
        if len(tokens) == 1 and tokens[0].casefold().rstrip(".") in _WEEKDAY_ABBREVIATIONS:
            return True
        if len(tokens) == 1 and tokens[0].casefold() in _SEASONS_AND_MONTHS:
            # "Summer (1 June to 31 August)", "May": listed first names, but alone they are dates.
            return True
        if any(self._known_name(t) for t in tokens) and not any(self._symbol(t) for t in tokens):
            return False
        if tokens and cased_text and all(t.islower() for t in tokens):
            # Text that capitalises its words capitalises names too; a lower-case unknown word there
            # is a term ("autophagy", "quercetin"), while "ping john" keeps "john" (a known name).
            return True
        verdict = self._shape_rejects(tokens)
        if verdict is not None:
            return verdict
        # Only English words and headings: "However", "Thus", "METHODS We", "CONCLUSIONS These".
        return all(self._common_word(t) for t in tokens)

    def _not_a_place(self, value: str, cased_text: bool = False) -> bool:
        if value.strip() in self.places:
            return False
        tokens = _TOKEN.findall(value)
        if tokens and cased_text and all(t.islower() for t in tokens):
            return True
        verdict = self._shape_rejects(tokens, place=True)
        if verdict is not None:
            return verdict
        if all(t.casefold() in STOP_WORDS for t in tokens):  # "Although", "Among"
            return True
        if all(t.casefold().rstrip("s") in _CALENDAR_WORDS for t in tokens):  # "open Saturdays"
            return True
        if len(tokens) == 1 and tokens[0].isupper() and "." not in tokens[0]:
            # Upper-case acronyms are places only when they are known ones: ADHD, CETP are not.
            return tokens[0] not in _PLACE_ACRONYMS and tokens[0].title() not in self.places
        return False

    def _not_an_address(self, value: str) -> bool:
        if _STATISTICS.search(value):  # "P = 0.016", "1.81; 95%", "+/- 0.16"
            return True
        if _MEASUREMENT_SYMBOL.search(value):  # "132/84, HbA1c 41": blood pressure and a lab value
            return True
        if _YEAR_THEN_ARTICLE.search(value):
            return True
        if _HOUSE_NUMBER_FIRST.search(value) or _POSTCODE.search(value) or _PO_BOX.search(value):
            return False
        lower_case = value.islower()  # typed in lower case: "12 main street"
        for token in _TOKEN.findall(value):
            word = token.casefold().rstrip(".")
            # A street word counts capitalised ("Via Roma", not "via IL-6"; "Route 66", not "route of").
            if (word in _STREET_WORDS or word.removesuffix("s") in _STREET_WORDS) and (
                token[:1].isupper() or lower_case
            ):
                return False
            if any(word.endswith(s) for s in _STREET_SUFFIXES) and word not in self.vocabulary:
                return False  # Hauptstraße, Kerkstraat, Storgatan
        # Otherwise a number and a capitalised word, the least an address has in any country
        # ("Teplická 48", "Björktorget 7"); "more than 20", "non-Q-wave", "2*2" have not. Typed in
        # one case, a number and a word of three letters in capitals ("MOENHOLTET 6"), or parts
        # separated by commas in lower case ("alameda esteves, 533, chaves").
        if not _HAS_DIGIT.search(value):
            return True
        tokens = [t for t in _TOKEN.findall(value) if not _HAS_DIGIT.search(t)]
        if tokens and all(self._common_word(t) for t in tokens):
            return True  # English words and a number, no street word: "Figure 1", "RESULTS 20", "Type 2"
        if any(t[:1].isupper() and not t.isupper() and len(t) > 1 for t in tokens):
            return False
        if value.isupper():
            return not any(len(t) >= 3 for t in tokens)
        return not (value.islower() and "," in value and tokens)

    def _not_a_phone(self, value: str) -> bool:
        if len(_HAS_DIGIT.findall(value)) < _MIN_PHONE_DIGITS:  # "0.05", "+", "(1"
            return True
        if _STATISTICS.search(value) or _DECIMAL.search(value):  # "74 +/- 7", "(0.70, 0.61 to 0.81"
            return True
        if _DOTTED_DECIMAL.fullmatch(value):  # "[82331.10214]", a kernel log's uptime
            return True
        words = [w.casefold() for w in re.findall(r"[^\W\d_]+", value)]
        return any(w not in _PHONE_WORDS for w in words)  # "P0 180-199", "0–15 and 16–29"
