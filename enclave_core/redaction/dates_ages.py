"""Dates of birth and ages: the quasi-identifiers among dates and numbers (issue 19).

A plain date (a meeting on 3 March) or number stays; a date after a birth word ("DOB", "born on the",
"geb.", "né le", 生年月日, or "(DOB)" after it) and a number in an age frame ("34-year-old", "aged
forty", "Alter: 46", "39 år gammel") are redacted. Imported only when the analyzer is built.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from enclave_core.redaction.gated_patterns import LazyPattern

__all__ = ["AgeRecognizer", "DateOfBirthRecognizer"]


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
    # German, French, Spanish, Italian, Dutch, Portuguese months not spelt as the English ones
    r"|Januar|Jänner|Februar|März|Mai|Juni|Juli|Oktober|Dezember|janvier|février|mars|avril|mai|juin"
    r"|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto"
    r"|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre"
    r"|ottobre|dicembre|januari|februari|maart|mei|juli|augustus|oktober|janeiro|fevereiro|março|maio"
    r"|junho|julho|setembro|outubro|novembro|dezembro)\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}"
    r"|\d{4}年\s?\d{1,2}月\s?\d{1,2}日"
    r"|\d{1,2}[-/ ]" + _MONTH + r"[-/ ](?:\d{4}|\d{2})(?!\d)"
    r"|(?:\d{1,2}(?:st|nd|rd|th|er|º)?\.?\s+(?:of\s+|de\s+)?)?"
    + _MONTH
    + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+(?:de\s+)?\d{4})"
)
# Words that announce a birth date, in the languages of the appliance's users (English first).
_BIRTH_WORDS = (
    r"DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?|b\."
    r"|geb\.|geboren(?:\s+am)?|Geburtsdatum|Geburtstag|né(?:e)?(?:\s+le)?|date\s+de\s+naissance"
    r"|nato|nata(?:\s+il)?|nato\s+il|data\s+di\s+nascita|nacid[oa](?:\s+el)?|fecha\s+de\s+nacimiento"
    r"|f\.\s*nac\.|geboortedatum|geboren\s+op|född|født|fødselsdato|syntynyt|syntymäaika|urodzon[ya]|data\s+urodzenia"
    r"|nascid[oa](?:\s+em)?|data\s+de\s+nascimento|date_?naissance|birth_?date|d_?o_?b|生年月日|出生日期|出生年月日"
)
_DOB = (
    r"(?<=(?<![\w])(?:"
    + _BIRTH_WORDS
    + r")(?:\s*\([^()\n]{1,14}\))?[\s|:=–-]{0,8}(?:is\s+|was\s+|am\s+|le\s+|il\s+|el\s+|em\s+|on\s+)?(?:the\s+)?\(?)"
    + _DATE
    + r"(?!\d)"
)
# "12 March 1984 (DOB)": the keyword after the date.
_DOB_AFTER = r"(?<![\w/.-])" + _DATE + r"(?=[ \t]*\((?i:DOB|D\.O\.B\.?|date[ \t]+of[ \t]+birth|born|b\.|geb\.)\))"
# "her birthday is on 12 March": a birthday without its year is still one.
_BIRTHDAY = (
    r"(?<=\b(?i:birthday|Geburtstag|anniversaire|cumpleaños|compleanno)[ \t]+(?:is[ \t]+)?(?:on[ \t]+)?(?:the[ \t]+)?)"
    r"(?:\d{1,2}(?:st|nd|rd|th|\.)?[ \t]+(?:of[ \t]+)?"
    + _MONTH
    + r"|"
    + _MONTH
    + r"[ \t]+\d{1,2}(?:st|nd|rd|th)?)(?![\w])"
)
# "born in 1985", "born in March 1985": a birth year is a quasi-identifier too.
_BORN_YEAR = (
    r"(?<=\b(?:born|geboren|né|née|nato|nata|nacid[oa])\s+(?:in|im|en)\s+(?:" + _MONTH + r"\s+)?)(?:19|20)\d{2}(?!\d)"
    r"|(?<=(?<![\w])(?:born|b\.|geb\.|née?|year[ \t]+of[ \t]+birth|birth[ \t]+year|YOB|Geburtsjahr|DOB"
    r"|date[ \t]+of[ \t]+birth|ann[ée]e[ \t]+de[ \t]+naissance|a[ñn]o[ \t]+de[ \t]+nacimiento)[ \t]*[:(]?[ \t]*)"
    r"(?:19|20)\d{2}(?![\d/.-]\d)"
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
            patterns=[
                LazyPattern("date after a birth keyword", _DOB, 0.65),
                LazyPattern("year after 'born in'", _BORN_YEAR, 0.6),
                LazyPattern("date before '(DOB)'", _DOB_AFTER, 0.65),
                LazyPattern("day and month after 'birthday'", _BIRTHDAY, 0.6),
            ],
            context=context or [],
            global_regex_flags=re.IGNORECASE,
        )


# One to ninety-nine in words ("thirty-two", "Seven").
_UNITS = r"one|two|three|four|five|six|seven|eight|nine"
_NUMBER_WORDS = (
    r"(?i:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:" + _UNITS + r"))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|" + _UNITS + r")"
)
# Who can be a number of years old: "I'm 61, living in ...", "who is 30 and still mows his lawn".
_AGE_SUBJECT = (
    r"(?i:I'm|I’m|I[ \t]+am|I[ \t]+was|(?:he|she|who|they)(?:'s|’s|[ \t]+is|[ \t]+was|[ \t]+are|[ \t]+were)"
    r"|turned|turning|turns|just[ \t]+turned)"
)
# ... unless a unit follows: "I was 5 minutes late", "she is 6 feet tall", "I'm 100 percent sure".
_NOT_A_QUANTITY = (
    r"(?![ \t]*(?i:%|percent|per|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|times|seconds?|secs?"
    r"|feet|foot|ft|inches|inch|in\b|cm|mm|m\b|km|kg|lbs?|pounds?|miles?|people|of|out|am|pm|a\.m|p\.m|o'clock"
    r"|st|nd|rd|th|[:/x]))"
)


class AgeRecognizer(PatternRecognizer):
    """AGE: the number in "79 year old", "34-year-old", "aged 34", "age: 41", "34 y/o", "67 y.o.", "I'm 61",
    "who is 30", "died at 72", "Marcel Morard, 7, of ...", "34 Jahre alt", "elle a 34 ans", "34歳",
    "M/34", "Hannah Kirsch (29)" (a quasi-identifier)."""

    def __init__(self, context: list[str] | None = None, supported_language: str = "en") -> None:
        number = r"(?<![\w.-])\d{1,3}(?:\.\d)?(?![\w.-]|\.\d)"
        whole = r"(?<![\w.,-])\d{1,3}(?![\w%-]|[.,]\d)"
        patterns: list[Pattern] = [
            LazyPattern(
                "N years old, in words",
                r"(?<![\w-])" + _NUMBER_WORDS + r"(?=[ \t-]+(?i:years?|yrs?)[ \t-]*(?i:old|of[ \t]+age)\b)",
                0.6,
            ),
            LazyPattern(
                "aged N, in words", r"(?<=\b(?i:aged|age[ \t]+of|turned|turning)[ \t]+)" + _NUMBER_WORDS + r"\b", 0.5
            ),
            LazyPattern(
                "Alter: 46 / âge : 46 ans / edad: 46",
                r"(?<=\b(?i:Alter|âge|edad|età|leeftijd|ålder|alder|ikä|wiek|idade|věk|vek|életkor|yaş|年齢|年龄)"
                r"[ \t]*[:：][ \t]*)\d{1,3}(?![\w.]\d)",
                0.55,
            ),
            LazyPattern("N years old", number + r"(?=[ \t-]*(?i:years?|yrs?)[ \t-]*(?i:old|of[ \t]+age)\b)", 0.6),
            LazyPattern("N y/o", number + r"(?=[ \t]*(?i:y/?o|yo)\b)", 0.6),
            LazyPattern("aged N", r"(?<=\b(?i:aged|age|ages|age:|age[ \t]+of)[ \t:]*)" + number, 0.5),
            LazyPattern("a person is N", r"(?<=\b" + _AGE_SUBJECT + r"[ \t]+)" + whole + _NOT_A_QUANTITY, 0.5),
            LazyPattern(
                "Name is N and/, ...",
                r"(?<=\b[A-ZÀ-Ý][\w'’-]+[ \t]+(?:is|was)[ \t]+)" + whole + r"(?=[ \t]*(?:and\b|,|;|!|\.(?!\d)|$))",
                0.45,
            ),
            LazyPattern(
                "died at N", r"(?<=\b(?i:died|dies|passed[ \t]+away|retired|retires)[ \t]+at[ \t]+)" + whole, 0.5
            ),
            LazyPattern("Name, N, ...", r"(?<=[A-ZÀ-Ý][\w'’-]+,[ \t]*)" + whole + r"(?=,[ \t]+[a-z])", 0.45),
            LazyPattern("N-year-old", r"(?<![\w.-])\d{1,3}(?=-(?i:years?|yrs?)-old\b)", 0.6),
            LazyPattern(
                "N y.o. / Nyo", r"(?<![\w.-])\d{1,3}(?=[ \t]?(?i:y\.[ \t]?o\.|yo\b|y/o\b|yrs?[ \t]+old\b))", 0.6
            ),
            LazyPattern(
                "N Jahre alt / N-jährige / N歳",
                r"(?<![\d.\-A-Za-z])\d{1,3}(?=[ \t-]?(?:Jahre[ \t]+alt\b|jährige[rnms]?\b|歳|岁|才))",
                0.6,
            ),
            LazyPattern(
                "a N ans / tiene N años / ha N anni",
                r"(?<=(?<!\by[ \t])\b(?:a|âgée?[ \t]+de|tiene|tenía|tengo|de|con|ha|aveva|di|ai|avait|Alter[ \t]+von)"
                r"[ \t]+)\d{1,3}(?=[ \t]+(?:ans|años|anni|Jahren?)\b)",
                0.5,
            ),
            LazyPattern(
                "39 år gammel / 39 jaar oud / 39 vuotta / 39 lat",
                r"(?<![\w.,-])\d{1,3}(?=[ \t]+(?:år[ \t]+gam(?:mel|mal)|jaar[ \t]+oud|vuotta|vuotias|lat\b|let\b|éves"
                r"|yaşında|anos[ \t]+de[ \t]+idade))",
                0.55,
            ),
            LazyPattern("age 39y", r"(?<=\b(?i:aged?|age:)[ \t:]*)\d{1,3}(?=[ \t]?(?i:y|yrs?|years?)\b)", 0.55),
            LazyPattern("M/34", r"(?<=(?<![\w/])(?-i:[MF])[ \t]?/[ \t]?)\d{1,3}(?![\w/.])", 0.5),
            LazyPattern(
                "First Last (N)",
                r"(?<=(?-i:[A-ZÀ-Ý][a-zà-ÿ]+[ \t]+[A-ZÀ-Ý][\w'’-]+)[ \t]+\()\d{1,2}(?=\))",
                0.45,
            ),
        ]
        super().__init__(
            supported_entity="AGE",
            name="AgeRecognizer",
            supported_language=supported_language,
            patterns=patterns,
            context=context or ["age", "old", "aged"],
        )

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Nobody is older than 120: "she is 250" is something else."""
        if re.fullmatch(_NUMBER_WORDS + r"(?:[- ]" + _NUMBER_WORDS + r")?", pattern_text):
            return None  # "thirty-two": at most ninety-nine
        try:
            return float(pattern_text) > 120
        except ValueError:
            return True
