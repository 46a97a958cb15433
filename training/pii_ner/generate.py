# ruff: noqa: E501 - the document templates are long one-line strings on purpose
"""Synthetic PII training data for the Enclave NER model: our own templates + Faker, offline.

    .venv/bin/python -m training.pii_ner.generate --out training/pii_ner/data --n 20000 --seed 20240611

Writes ``train.jsonl``, ``dev.jsonl`` and ``dev_foreign.jsonl``: one ``{"text": ..., "spans": [[start, end, label], ...]}``
per line (character offsets, end exclusive).

Labels
    PERSON          a person's name (without the title: "Dr. <Jane Roe>")
    STREET_ADDRESS  a postal address: street line(s) plus, when they follow it, city/state/postcode/country
    GPE             a city, region, state or country on its own
    PHONE_NUMBER    a phone or fax number
    AGE             the number in "aged 34", "a 41-year-old"
    ORG             a company or organisation (labelled so that the model does *not* call it a person)

Everything else is "O": product names, policy text, dates, money, order and ticket numbers, e-mail
addresses and URLs (the regex recognizers handle those two).

Sources (and only these): the templates in this file and ``templates_*.py``, all written for
Enclave; Faker's locale data (names, streets, towns,
postcodes, phone formats, companies; MIT); GeoNames' real city names (``places.py``, CC BY 4.0).
Nothing from presidio-evaluator (none of its 209 templates, identities or company list) and nothing
from the benchmark set.

The dev set is out of distribution on purpose: every fifth template of each list and every fifth
GeoNames city are held out of ``train.jsonl`` and used only in ``dev.jsonl``, so the dev score says
how the model does on sentence frames and places it has never seen. ``dev_foreign.jsonl`` goes
further: its templates (``templates_foreign.py``) were written separately, without sight of the
training templates, and are never trained on; candidate models are compared on it
(``compare.py``), never on the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from faker import Faker

from training.pii_ner.places import city_pool, swap_city
from training.pii_ner.synth_shapes import EXTRA_SLOTS, merge_address_parts, synth_templates
from training.pii_ner.templates_foreign import FOREIGN
from training.pii_ner.templates_prose import PROSE
from training.pii_ner.templates_records import RECORDS
from training.pii_ner.templates_running import BRANDS, EPONYMS, RUNNING
from training.pii_ner.templates_varied import VARIED

__all__ = ["Sample", "generate", "main", "unknown_slots"]

Sample = dict[str, object]

# --- Faker pools ------------------------------------------------------------------------------

# Locales for names. Non-Latin scripts are transliterated (ja/zh: Faker's romanised names; ru/uk/bg: our table).
NAME_LOCALES = [
    "en_US",
    "en_GB",
    "en_IE",
    "en_AU",
    "en_CA",
    "en_IN",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "fr_CH",
    "it_IT",
    "es_ES",
    "es_MX",
    "pt_PT",
    "pt_BR",
    "nl_NL",
    "nl_BE",
    "sv_SE",
    "da_DK",
    "no_NO",
    "fi_FI",
    "pl_PL",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
    "hr_HR",
    "sk_SK",
    "sl_SI",
    "lt_LT",
    "lv_LV",
    "et_EE",
    "tr_TR",
    "id_ID",
    "vi_VN",
    "yo_NG",
    "zu_ZA",
    "tw_GH",
    "fil_PH",
    "ga_IE",
    "az_AZ",
    "ru_RU",
    "uk_UA",
    "bg_BG",
    "ja_JP",
    "zh_CN",
    "zh_TW",
]
# Locales whose address() is a usable postal address in Latin script, with their country name.
ADDRESS_LOCALES = {
    "en_US": "USA",
    "en_GB": "United Kingdom",
    "en_IE": "Ireland",
    "en_AU": "Australia",
    "en_CA": "Canada",
    "de_DE": "Germany",
    "de_AT": "Austria",
    "de_CH": "Switzerland",
    "fr_FR": "France",
    "fr_CH": "Switzerland",
    "it_IT": "Italy",
    "es_ES": "Spain",
    "pt_PT": "Portugal",
    "nl_NL": "Netherlands",
    "nl_BE": "Belgium",
    "sv_SE": "Sweden",
    "da_DK": "Denmark",
    "no_NO": "Norway",
    "fi_FI": "Finland",
    "pl_PL": "Poland",
    "cs_CZ": "Czech Republic",
    "en_IN": "India",
    "en_NZ": "New Zealand",
    "sl_SI": "Slovenia",
    "hu_HU": "Hungary",
    "hr_HR": "Croatia",
    "sk_SK": "Slovakia",
    "ro_RO": "Romania",
    "pt_BR": "Brazil",
    "es_MX": "Mexico",
    "es_AR": "Argentina",
    "es_CL": "Chile",
    "es_CO": "Colombia",
    "fr_CA": "Canada",
    "id_ID": "Indonesia",
    "zu_ZA": "South Africa",
}
ADDRESS_WEIGHTS = {"en_US": 8, "en_GB": 4, "en_CA": 2, "en_AU": 2, "de_DE": 3, "fr_FR": 2, "it_IT": 2, "nl_NL": 2}

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "yo",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "i",
            "ye",
            "g",
        ],
        strict=True,
    )
)


def _translit(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        if low in _CYRILLIC:
            rep = _CYRILLIC[low]
            out.append(rep.capitalize() if ch != low else rep)
        else:
            out.append(ch)
    return "".join(out)


class Pools:
    """Faker generators per locale, seeded; all draws go through ``self.rng`` or the seeded fakers."""

    def __init__(self, seed: int, split: str = "train") -> None:
        self.rng = random.Random(seed)
        self.split = split
        self.cities = city_pool(split)
        self.fakers: dict[str, Faker] = {}
        for i, loc in enumerate(sorted(set(NAME_LOCALES) | set(ADDRESS_LOCALES))):
            try:
                fk = Faker(loc)
            except AttributeError:  # pragma: no cover - locale missing in this Faker
                continue
            fk.seed_instance(seed + i)
            self.fakers[loc] = fk
        self.en = self.fakers["en_US"]

    def faker(self, locales: Iterable[str]) -> tuple[str, Faker]:
        locs = [loc for loc in locales if loc in self.fakers]
        weights = [ADDRESS_WEIGHTS.get(loc, 1) for loc in locs]
        loc = self.rng.choices(locs, weights=weights)[0]
        return loc, self.fakers[loc]

    # names
    def first_last(self) -> tuple[str, str]:
        loc, fk = self.faker(NAME_LOCALES)
        if loc in ("ja_JP", "zh_CN", "zh_TW") and hasattr(fk, "first_romanized_name"):
            return fk.first_romanized_name(), fk.last_romanized_name()
        first, last = fk.first_name(), fk.last_name()
        if loc in ("ru_RU", "uk_UA", "bg_BG"):
            first, last = _translit(first), _translit(last)
        return first, last

    def address(self) -> tuple[str, str]:
        loc, fk = self.faker(ADDRESS_WEIGHTS | {k: 1 for k in ADDRESS_LOCALES if k not in ADDRESS_WEIGHTS})
        return loc, fk.address()

    def phone(self) -> str:
        _loc, fk = self.faker(list(ADDRESS_LOCALES))
        return fk.phone_number()


# --- renderers: each returns a list of (text, label|None) pieces ---------------------------------

Piece = tuple[str, str | None]


def _case(rng: random.Random, text: str, p_lower: float = 0.06, p_upper: float = 0.06) -> str:
    r = rng.random()
    if r < p_lower:
        return text.lower()
    if r < p_lower + p_upper:
        return text.upper()
    return text


TITLES = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mr", "Ms", "Dr", "Miss", "Mx.", "Sir", "Herr", "Frau", "Mme", "M."]


def person(p: Pools, *, allow_title: bool = True, allow_case: bool = True) -> list[Piece]:
    rng = p.rng
    first, last = p.first_last()
    r = rng.random()
    if r < 0.45:
        name = f"{first} {last}"
    elif r < 0.55:
        name = f"{last}, {first}"
    elif r < 0.63:
        dot = "." if rng.random() < 0.6 else ""
        name = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}{dot} {last}"
    elif r < 0.70:
        name = f"{first[0]}. {last}"
    elif r < 0.78:
        f2, _ = p.first_last()
        name = f"{first} {f2} {last}" if rng.random() < 0.5 else f"{first}-{f2} {last}"
    elif r < 0.88:
        name = last
    else:
        name = first
    if allow_case:
        name = _case(rng, name)
    pieces: list[Piece] = []
    if allow_title and ((0.78 <= r < 0.88) or rng.random() < 0.15):
        pieces.append((rng.choice(TITLES) + " ", None))
    pieces.append((name, "PERSON"))
    return pieces


def full_name(p: Pools) -> list[Piece]:
    first, last = p.first_last()
    name = f"{first} {last}" if p.rng.random() < 0.85 else f"{last}, {first}"
    return [(_case(p.rng, name), "PERSON")]


def _fix_lines(addr: str) -> list[str]:
    return [ln.strip() for ln in addr.split("\n") if ln.strip()]


def street_address(p: Pools, *, multiline: bool | None = None) -> list[Piece]:
    rng = p.rng
    loc, addr = p.address()
    lines = _fix_lines(addr)
    if rng.random() < 0.5:
        lines = swap_city(loc, lines, p.cities, rng)
    country = ADDRESS_LOCALES.get(loc, "")
    r = rng.random()
    if r < 0.22 and len(lines) > 1:
        lines = lines[:-1] if loc != "en_GB" else lines[:-2] or lines[:1]  # street only / no postcode line
    elif r < 0.32 and lines:
        # drop the postcode but keep the town (US "City, ST 12345" -> "City"; EU "12345 Town" -> "Town")
        last = re.sub(r"\b\d{4,5}(?:-\d{3,4})?\b|\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", "", lines[-1])
        last = re.sub(r",?\s*[A-Z]{2}\s*$", "", last).strip(" ,")
        if last:
            lines[-1] = last
    if rng.random() < 0.2 and country:
        lines.append(country if rng.random() < 0.8 else country.upper())
    r2 = rng.random()
    if r2 < 0.08 and lines and lines[0][:1].isalpha():
        lines[0] = f"{rng.randint(1, 99999):0{rng.choice([1, 4, 5])}d} {lines[0]}"
    elif r2 < 0.12 and lines:
        _l2, fk2 = p.faker(ADDRESS_LOCALES)
        lines[0] = f"the corner of {lines[0]} and {fk2.street_name()}"
    if multiline is None:
        multiline = rng.random() < 0.3
    sep = "\n" if multiline else rng.choice([", ", ", ", ", ", " ", " - "])
    text = sep.join(lines)
    if rng.random() < 0.04:
        text = text.upper()
    return [(text, "STREET_ADDRESS")]


def street_only(p: Pools) -> list[Piece]:
    _loc, fk = p.faker(ADDRESS_LOCALES)
    return [(fk.street_address(), "STREET_ADDRESS")]


# Real cities (our own list): Faker's en_* city names are invented ("Lake Jeffery").
REAL_CITIES = [
    "New York",
    "Los Angeles",
    "Chicago",
    "Houston",
    "Phoenix",
    "Philadelphia",
    "San Antonio",
    "San Diego",
    "Dallas",
    "Austin",
    "Seattle",
    "Denver",
    "Boston",
    "Atlanta",
    "Miami",
    "Detroit",
    "Portland",
    "Nashville",
    "Baltimore",
    "Milwaukee",
    "Sacramento",
    "Kansas City",
    "Las Vegas",
    "Minneapolis",
    "Cleveland",
    "Tampa",
    "Pittsburgh",
    "Cincinnati",
    "Orlando",
    "St. Louis",
    "Salt Lake City",
    "Raleigh",
    "Honolulu",
    "Anchorage",
    "Toronto",
    "Montreal",
    "Vancouver",
    "Calgary",
    "Ottawa",
    "Mexico City",
    "Guadalajara",
    "Bogotá",
    "Lima",
    "Santiago",
    "Buenos Aires",
    "São Paulo",
    "Rio de Janeiro",
    "London",
    "Manchester",
    "Birmingham",
    "Leeds",
    "Glasgow",
    "Edinburgh",
    "Cardiff",
    "Belfast",
    "Dublin",
    "Cork",
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Berlin",
    "Hamburg",
    "Munich",
    "Cologne",
    "Frankfurt",
    "Stuttgart",
    "Vienna",
    "Zurich",
    "Geneva",
    "Bern",
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Brussels",
    "Antwerp",
    "Luxembourg",
    "Madrid",
    "Barcelona",
    "Valencia",
    "Seville",
    "Lisbon",
    "Porto",
    "Rome",
    "Milan",
    "Naples",
    "Turin",
    "Florence",
    "Bologna",
    "Venice",
    "Athens",
    "Stockholm",
    "Gothenburg",
    "Oslo",
    "Bergen",
    "Copenhagen",
    "Aarhus",
    "Helsinki",
    "Tampere",
    "Reykjavik",
    "Warsaw",
    "Kraków",
    "Prague",
    "Budapest",
    "Bucharest",
    "Sofia",
    "Zagreb",
    "Belgrade",
    "Kyiv",
    "Istanbul",
    "Ankara",
    "Tel Aviv",
    "Dubai",
    "Abu Dhabi",
    "Riyadh",
    "Doha",
    "Cairo",
    "Lagos",
    "Nairobi",
    "Accra",
    "Johannesburg",
    "Cape Town",
    "Casablanca",
    "Mumbai",
    "Delhi",
    "Bangalore",
    "Chennai",
    "Hyderabad",
    "Karachi",
    "Lahore",
    "Dhaka",
    "Bangkok",
    "Hanoi",
    "Ho Chi Minh City",
    "Jakarta",
    "Manila",
    "Kuala Lumpur",
    "Singapore",
    "Hong Kong",
    "Shanghai",
    "Beijing",
    "Shenzhen",
    "Taipei",
    "Seoul",
    "Busan",
    "Tokyo",
    "Osaka",
    "Kyoto",
    "Sydney",
    "Melbourne",
    "Brisbane",
    "Perth",
    "Adelaide",
    "Auckland",
    "Wellington",
]


def city(p: Pools) -> list[Piece]:
    r = p.rng.random()
    if r < 0.2 and p.split == "train":
        return [(p.rng.choice(REAL_CITIES), "GPE")]
    if r < 0.6:
        return [(_case(p.rng, p.cities.draw(p.rng).name, 0.04, 0.06), "GPE")]
    _loc, fk = p.faker(ADDRESS_LOCALES)
    return [(fk.city(), "GPE")]


def country(p: Pools) -> list[Piece]:
    return [(p.en.country(), "GPE")]


def state(p: Pools) -> list[Piece]:
    rng = p.rng
    r = rng.random()
    if r < 0.6:
        return [(p.en.state(), "GPE")]
    _loc, fk = p.faker(["de_DE", "fr_FR", "it_IT", "en_AU", "en_CA", "es_ES", "nl_NL"])
    for attr in ("state", "region", "administrative_unit", "province"):
        if hasattr(fk, attr):
            try:
                return [(getattr(fk, attr)(), "GPE")]
            except (AttributeError, TypeError):
                continue
    return [(p.en.state(), "GPE")]


def city_country(p: Pools) -> list[Piece]:
    if p.rng.random() < 0.5:
        real = p.cities.draw(p.rng)
        return [(real.name, "GPE"), (", ", None), (real.country, "GPE")]
    loc, fk = p.faker(ADDRESS_LOCALES)
    c = ADDRESS_LOCALES[loc]
    return [(fk.city(), "GPE"), (", ", None), (c, "GPE")]


def phone(p: Pools) -> list[Piece]:
    rng = p.rng
    num = p.phone()
    r = rng.random()
    if r < 0.08:
        num = f"{num} ext. {rng.randint(10, 9999)}"
    elif r < 0.15:
        digits = re.sub(r"\D", "", num)[-10:]
        num = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    elif r < 0.2:
        digits = re.sub(r"\D", "", num)[-10:]
        num = f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
    return [(num, "PHONE_NUMBER")]


def age(p: Pools) -> list[Piece]:
    return [(str(p.rng.randint(1, 99)), "AGE")]


def company(p: Pools) -> list[Piece]:
    _loc, fk = p.faker(["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "nl_NL", "es_ES", "sv_SE"])
    return [(fk.company(), "ORG")]


PRODUCTS = [
    "Enclave",
    "Enclave Gateway",
    "Qdrant",
    "Postgres 16",
    "Kubernetes",
    "Windows 11",
    "Office 365",
    "Jira",
    "Confluence",
    "Slack",
    "Teams",
    "Zoom",
    "Salesforce",
    "SAP S/4HANA",
    "ThinkPad X1 Carbon",
    "MacBook Pro",
    "iPhone 15",
    "Galaxy S24",
    "Surface Pro",
    "Outlook",
    "Excel",
    "SharePoint",
    "GitLab",
    "Grafana",
    "Prometheus",
    "Docker Desktop",
    "Okta",
    "Azure AD",
    "AWS S3",
    "Model Y",
    "PowerEdge R750",
    "Cisco Webex",
    "Visio",
    "Tableau",
    "Power BI",
    "Acrobat Reader",
    "Chrome",
    "Firefox",
    "Ubuntu 22.04",
    "Red Hat Enterprise Linux",
]
DEPARTMENTS = [
    "Finance",
    "Legal",
    "Human Resources",
    "HR",
    "IT Operations",
    "Procurement",
    "Sales",
    "Marketing",
    "Customer Success",
    "Facilities",
    "Payroll",
    "Compliance",
    "Security",
    "Engineering",
    "Research",
]


def product(p: Pools) -> list[Piece]:
    return [(p.rng.choice(PRODUCTS), None)]


def dept(p: Pools) -> list[Piece]:
    return [(p.rng.choice(DEPARTMENTS), None)]


def date(p: Pools) -> list[Piece]:
    d = p.en.date_between(start_date="-5y", end_date="+1y")
    fmt = p.rng.choice(["%d %B %Y", "%B %d, %Y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%A, %d %B"])
    return [(d.strftime(fmt), None)]


def money(p: Pools) -> list[Piece]:
    amount = p.rng.choice([p.rng.randint(5, 999), p.rng.randint(1000, 250000)])
    cur = p.rng.choice(["$", "€", "£", "USD ", "EUR ", "CHF "])
    cents = f".{p.rng.randint(0, 99):02d}" if p.rng.random() < 0.5 else ""
    return [(f"{cur}{amount:,}{cents}", None)]


def ident(p: Pools) -> list[Piece]:
    rng = p.rng
    fmt = rng.choice(["INV-{n}", "PO-{n}", "TCK-{n}", "#{n}", "ORD{n}", "REQ-{y}-{s}", "CASE {s}", "SR{n}"])
    return [(fmt.format(n=rng.randint(1000, 99999999), y=rng.randint(2019, 2026), s=rng.randint(100, 99999)), None)]


def email(p: Pools) -> list[Piece]:
    return [(p.en.email(), None)]


def url(p: Pools) -> list[Piece]:
    return [(p.en.url(), None)]


def job(p: Pools) -> list[Piece]:
    return [(p.en.job(), None)]


def number(p: Pools) -> list[Piece]:
    return [(str(p.rng.randint(2, 500)), None)]


def pct(p: Pools) -> list[Piece]:
    return [(f"{p.rng.randint(1, 99)}%", None)]


def time_(p: Pools) -> list[Piece]:
    return [(f"{p.rng.randint(7, 18)}:{p.rng.choice(['00', '15', '30', '45'])}", None)]


def other_id(p: Pools) -> list[Piece]:
    """Identifiers that are NOT phone numbers (the pattern recognizers type them): stay "O" for the NER."""
    rng = p.rng
    d = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    kind = rng.randrange(9)
    if kind == 0:
        return [(f"{d(3)}-{d(2)}-{d(4)}", None)]  # SSN shape
    if kind == 1:
        return [(" ".join(d(4) for _ in range(4)) if rng.random() < 0.5 else d(16), None)]  # card
    if kind == 2:
        return [(p.en.iban(), None)]
    if kind == 3:
        return [(f"{rng.choice('ABCDEFGHJKLMNPRSTWXYZ')}{d(rng.choice([7, 8, 12]))}", None)]  # licence / passport
    if kind == 4:
        return [(f"{rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", None)]
    if kind == 5:
        return [(d(rng.choice([8, 9, 10, 12])), None)]  # account number
    if kind == 6:
        return [(f"{d(2)}/{d(2)}", None)]  # expiry
    if kind == 7:
        return [(f"{d(3)}-{d(6)}-{d(1)}", None)]
    return [(f"{p.en.ean13()}", None)]


OTHER_ID_LABELS = [
    "SSN",
    "social security number",
    "card number",
    "credit card",
    "IBAN",
    "account",
    "account number",
    "licence no.",
    "passport",
    "IP",
    "routing number",
    "policy number",
    "member ID",
    "serial number",
    "NHS number",
]


def id_label(p: Pools) -> list[Piece]:
    return [(p.rng.choice(OTHER_ID_LABELS), None)]


PLACEHOLDERS = [
    "<PERSON>",
    "<STREET_ADDRESS>",
    "<PHONE_NUMBER>",
    "<LOCATION>",
    "<EMAIL_ADDRESS>",
    "<PERSON_2>",
    "<AGE>",
]


def placeholder(p: Pools) -> list[Piece]:
    return [(p.rng.choice(PLACEHOLDERS), None)]


CAPITALISED = [
    "Account Manager",
    "Chief Financial Officer",
    "Head of Procurement",
    "Data Protection Officer",
    "Board of Directors",
    "Annual General Meeting",
    "Christmas",
    "Easter Monday",
    "Black Friday",
    "Monday",
    "Friday",
    "January",
    "September",
    "English",
    "German",
    "Spanish",
    "Catholic",
    "Muslim",
    "European",
    "Asian",
    "Statement of Work",
    "Master Services Agreement",
    "Terms and Conditions",
    "Service Level Agreement",
    "Privacy Notice",
    "Annex B",
    "Building C",
    "Main Hall",
    "Conference Room A",
    "Level 3",
    "Help Desk",
    "Service Desk",
    "North Wing",
    "Diabetes Type 2",
    "Ibuprofen",
    "Amoxicillin",
    "Covid-19",
    "Q3 Forecast",
    "Project Phoenix",
    "Operation Bluebird",
    "Team Falcon",
    "Gold Tier",
    "Premium Plan",
    "Sales Kick-Off",
    "Town Hall",
    "Open Day",
    "Go-Live",
]


def capitalised(p: Pools) -> list[Piece]:
    return [(p.rng.choice(CAPITALISED), None)]


_WORDS: list[str] = []


def english_words() -> list[str]:
    """Ordinary English words (the sm model's WordNet lemma index), minus anything in Faker's name lists."""
    if not _WORDS:
        import spacy

        from enclave_core.redaction.engine import model_path

        nlp = spacy.load(model_path(), exclude=["parser", "ner", "tagger", "senter", "attribute_ruler"])
        lemmatizer: Any = nlp.get_pipe("lemmatizer")
        table = lemmatizer.lookups.get_table("lemma_index")
        data = Path(__file__).resolve().parents[2] / "enclave_core" / "redaction" / "data"
        names = {
            ln.strip().lower()
            for f in ("first_names.txt", "surnames.txt")
            for ln in (data / f).read_text(encoding="utf-8").splitlines()
        }
        words = {w for key in table for w in table[key] if re.fullmatch(r"[a-z]{4,12}", w) and w not in names}
        _WORDS.extend(sorted(words))
    return _WORDS


def cap_word(p: Pools) -> list[Piece]:
    """A capitalised ordinary word, as at the start of a sentence or a heading: not a name."""
    return [(p.rng.choice(english_words()).capitalize(), None)]


def word(p: Pools) -> list[Piece]:
    return [(p.rng.choice(english_words()), None)]


def title_phrase(p: Pools) -> list[Piece]:
    ws = [p.rng.choice(english_words()).capitalize() for _ in range(p.rng.randint(2, 4))]
    return [(" ".join(ws), None)]


# Field labels in several languages, before an address / phone / name (not part of the entity).
FIELD_LABELS = [
    "Address",
    "Home address",
    "Postal address",
    "Office",
    "Head office",
    "Registered office",
    "Adresse",
    "Unsere Adresse",
    "Anschrift",
    "Postanschrift",
    "Büro",
    "Ufficio",
    "Indirizzo",
    "Sede legale",
    "Dirección",
    "Domicilio",
    "Siège social",
    "Bureau",
    "Bezoekadres",
    "Postadres",
    "Besöksadress",
    "Adresse postale",
    "Location",
    "Site",
    "Warehouse",
    "Branch",
    "Depot",
    "Clinic",
    "Residence",
]
PHONE_LABELS = ["Tel", "Tel.", "Phone", "Telefon", "Téléphone", "Telefono", "Handy", "Mobil", "Cell", "Fax", "Mobile"]
IMPERATIVES = ["Dial", "Call", "Ring", "Text", "Phone", "Contact", "Try", "Fax", "Reach us on", "WhatsApp", "SMS"]
SIGN_OFFS = ["Signed", "Regards", "Best regards", "Kind regards", "Cheers", "Thanks", "Sincerely", "Yours", "Best"]


def field_label(p: Pools) -> list[Piece]:
    return [(p.rng.choice(FIELD_LABELS), None)]


def phone_label(p: Pools) -> list[Piece]:
    return [(p.rng.choice(PHONE_LABELS), None)]


def imperative(p: Pools) -> list[Piece]:
    return [(p.rng.choice(IMPERATIVES), None)]


def sign_off(p: Pools) -> list[Piece]:
    return [(p.rng.choice(SIGN_OFFS), None)]


SLOTS: dict[str, Callable[[Pools], list[Piece]]] = {
    "name": person,
    "fullname": full_name,
    "name2": person,
    "address": street_address,
    "address_ml": lambda p: street_address(p, multiline=True),
    "address_1l": lambda p: street_address(p, multiline=False),
    "street": street_only,
    "city": city,
    "city2": city,
    "country": country,
    "state": state,
    "citycountry": city_country,
    "phone": phone,
    "phone2": phone,
    "age": age,
    "company": company,
    "company2": company,
    "product": product,
    "dept": dept,
    "date": date,
    "money": money,
    "id": ident,
    "email": email,
    "url": url,
    "job": job,
    "num": number,
    "pct": pct,
    "time": time_,
    "otherid": other_id,
    "idlabel": id_label,
    "ph": placeholder,
    "ph2": placeholder,
    "cap": capitalised,
    "cap2": capitalised,
    "W": cap_word,
    "W2": cap_word,
    "w": word,
    "w2": word,
    "heading": title_phrase,
    "field": field_label,
    "phonelabel": phone_label,
    "imp": imperative,
    "signoff": sign_off,
    "eponym": lambda p: [(p.rng.choice(EPONYMS), None)],
    "brand": lambda p: [(p.rng.choice(BRANDS), None)],
    "month": lambda p: [(p.en.month_name(), None)],
    **EXTRA_SLOTS,
}

# --- templates (written for Enclave; not derived from presidio-evaluator) -------------------------

SENTENCES = [
    "Please send the signed contract to {name} at {address}.",
    "{name} lives at {address} and can be reached on {phone}.",
    "Our new hire {fullname} starts on {date}; badge pickup is at reception.",
    "Forwarding address for {name}: {address}",
    "Delivery to {address} failed twice, customer {name} asked us to call {phone}.",
    "The tenant, {fullname}, moved from {city} to {city2} last spring.",
    "{name} ({age}) was admitted on {date} with chest pain.",
    "Patient is a {age}-year-old male referred by {name}.",
    "{name}, aged {age}, from {city}, {country}, applied for the role.",
    "I spoke with {name} from {company} about the renewal of {product}.",
    "Call me back at {phone} or on my mobile {phone2}.",
    "My number changed, it is now {phone}.",
    "Fax the form to {phone} attn. {name}.",
    "Ship to: {address_1l}",
    "Billing address: {address_1l}. Phone: {phone}.",
    "{company} opened a new office at {address_1l}.",
    "{name} and {name2} will present the {product} roadmap on {date}.",
    "cc: {name}, {name2}",
    "Approved by {name} ({job}), {date}.",
    "The witness, {fullname}, stated she was at home in {city} that night.",
    "Can you ask {name} whether the invoice {id} for {money} was paid?",
    "Hi {name}, thanks for the update on {id}.",
    "Dear {name}, your parcel is waiting at {address_1l}.",
    "{name} reported that {product} crashes when exporting to PDF.",
    "Send the keys to {name} c/o {company}, {address_1l}.",
    "She grew up in {city} and later worked in {country} for {company}.",
    "The conference moved from {city} to {citycountry}.",
    "Head office: {address_1l} | Tel {phone} | {url}",
    "Emergency contact: {fullname}, {phone}",
    "According to {name}, the {dept} team missed the {date} deadline.",
    "{fullname} was born in {city} in {num} and now lives in {state}.",
    "The property at {address_1l} was sold to {name} for {money}.",
    "Mr {name} called from {phone} asking about claim {id}.",
    "Ticket {id} raised by {name}: VPN drops every {num} minutes on {product}.",
    "{name} is {age} years old and lives with her parents in {city}.",
    "Our {dept} lead {name} will be in {city} from {date}.",
    "Reach {name} at {phone} (office) or {phone2} (mobile).",
    "Registered office: {address_1l}",
    "The loan applicant {fullname} (age {age}) lists {address_1l} as residence.",
    "{company} and {company2} signed the agreement in {city} on {date}.",
    "Meeting with {name} at {time} in the {city} office.",
    "please update {name}'s address to {address_1l}",
    "new address is {address_1l}, effective {date}",
    "{name} is travelling to {country} next week; urgent matters to {name2}.",
    "Our records show {name} at {address_1l}, tel. {phone}.",
    "The driver, {fullname}, {age}, of {city}, was not injured.",
    "Tenant {name} at {street} reported a leak on {date}.",
    "I live at {street} in {city}.",
    "Your order {id} ships from {city} and arrives by {date}.",
    "The package for {name} was left with a neighbour at {street}.",
    "Contact {name} on {phone} if {product} licences run out.",
    "{name} signed on behalf of {company}.",
    "{name} recommended moving the workshop to {city}.",
    "The audit of {company} in {country} is led by {name}.",
    "{name} paid with {idlabel} {otherid} and asked for delivery to {address_1l}.",
    "{fullname}, {idlabel} {otherid}, phone {phone}.",
    "Customer {name} ({idlabel}: {otherid}) called from {phone}.",
    "{name}, our {cap}, moved to {city}.",
    "{ph} wrote that {name} will join the {cap} in {city}.",
    "Hi {name}, the {cap} is on {date} in {cap2}.",
    "{imp} {phone} now.",
    "{imp} {phone} for support.",
    "{imp} {phone} or {phone2}.",
    "{phonelabel}: {phone}",
    "{phonelabel} {phone}, {field}: {address_1l}",
    "{field}: {address_1l}.",
    "{field}: {address_1l}, {phonelabel} {phone}.",
    "{field}:\n{address_ml}",
    "{signoff}, {name}",
    "{signoff},\n{fullname}",
    "{W} {w} to {address_1l} by {date}.",
    "{W} {name} {w} {w2}.",
    "{city} is {w}, {city2} is not.",
    "{city} and {city2} are {w}.",
    "{W} in {city} {w} {w2}.",
    "{W} {w}: {name} ({phone}).",
    "{imp} {name} on {phone}.",
    "Pay to {idlabel} {otherid} by {date}.",
    "{idlabel} {otherid} on file for {name}.",
]

# Sentences with no PERSON / address / location / phone: precision.
NEGATIVES = [
    "{company} reported revenue of {money} for the quarter ending {date}.",
    "Invoice {id} for {money} is due on {date}.",
    "{product} {num} will be released on {date} with {pct} faster indexing.",
    "The {dept} policy requires approval for purchases above {money}.",
    "Please reset your {product} password before {date}.",
    "Order {id} contains {num} units of {product}.",
    "{company} acquired {company2} for {money}.",
    "The retention period for {dept} records is {num} days.",
    "Ticket {id}: {product} returns error code {num} after the upgrade.",
    "Quarterly report: spending rose {pct} to {money}.",
    "The meeting is scheduled for {date} at {time}.",
    "All staff must complete the security training by {date}.",
    "Reimbursement requests over {money} need sign-off from {dept}.",
    "{company} is migrating from {product} to a self-hosted stack.",
    "Version {num}.{num} of {product} fixes {num} bugs.",
    "Please use the {dept} shared mailbox for invoices such as {id}.",
    "Grace Period applies to all renewals; Will Park the project until {date}.",
    "The Summer Street Festival budget is {money}.",
    "Change request {id} was approved by the {dept} board on {date}.",
    "Storage usage reached {pct} of the quota on {date}.",
    "{company} Holdings Ltd filed its annual accounts on {date}.",
    "See {url} for the {product} release notes.",
    "Send questions to {email}.",
    "The {product} licence costs {money} per seat per year.",
    "Room {num} is booked from {time} to {time}.",
    "Data Protection Impact Assessment completed for {product}.",
    "Section {num}: Personal data shall be processed lawfully, fairly and transparently.",
    "The Board approved the Remote Work Policy on {date}.",
    "Build {num} failed: {num} tests timed out.",
    "Net Promoter Score increased by {num} points.",
    "{idlabel}: {otherid}",
    "The {idlabel} {otherid} was rejected by the bank on {date}.",
    "Please verify {idlabel} {otherid} before {date}.",
    "Server {otherid} failed over at {time}.",
    "{ph} lives at {ph2}, phone {ph2}.",
    "Contact {ph} at {ph2} or {ph2}.",
    "{ph} and {ph2} met in {ph2} on {date}.",
    "{ph}'s {idlabel} is {ph2}.",
    "The {cap} approved the {cap2} on {date}.",
    "{cap} starts on {date}; see the {cap2} for details.",
    "Please send the {cap} to the {dept} team.",
    "Our {cap} process covers {product} and {cap2}.",
    "{company} signed the {cap} for {money}.",
    "Updated {cap} attached; the {cap2} follows next week.",
    "{W} improved by {pct} in {num}.",
    "{W} is {w} and {w2}.",
    "{W} {w} the {w2} on {date}.",
    "{W} are {w}s.",
    "{W}: {w} {w2}.",
    "{W} and {w} will {w2} next week.",
    "{heading}",
    "{heading}\n{W} {w} {w2}.",
    "Project {W} ships in {date}.",
    "{W} {W2} review, {date}.",
    "The {w} {w2} in {W} is {pct} higher.",
    "{W}, {w} and {w2} are covered in {cap}.",
]

# Short documents: memos, letters, tickets, invoices, e-mails, flattened tables, mailing labels.
DOCUMENTS = [
    "MEMO\nTo: {name}\nFrom: {name2}\nDate: {date}\nRe: {product} rollout\n\nThe {dept} team will begin the rollout on {date}. Questions to {phone}.",
    "{fullname}\n{address_ml}\n\nDear {name},\n\nWe are pleased to confirm your appointment as {job} at {company}, starting {date}. Your annual salary will be {money}.\n\nKind regards,\n{fullname}\n{dept}",
    "Subject: Re: {id}\n\nHi {name},\n\nthe replacement laptop was shipped to {address_1l}. Tracking: {id}.\n\nThanks,\n{name2}",
    "INVOICE {id}\nBill to:\n{company}\nAttn: {fullname}\n{address_ml}\n\nItem: {product} x {num}  Total: {money}\nDue: {date}",
    "Name: {fullname} | Age: {age} | City: {city} | Phone: {phone}",
    "Name | Address | Phone\n{fullname} | {address_1l} | {phone}\n{fullname} | {address_1l} | {phone2}",
    "Employee: {fullname}\nDepartment: {dept}\nHome address: {address_1l}\nMobile: {phone}\nStart date: {date}",
    "{fullname}\n{address_ml}",
    "From: {fullname} <{email}>\nTo: {dept}\nSubject: change of address\n\nPlease note my new address: {address_ml}\nTel. {phone}",
    "Incident {id} - reported by {name} ({phone}). Location: {address_1l}. Status: open.",
    "Customer: {fullname}; Address: {address_1l}; Tel: {phone}; Order: {id}; Amount: {money}",
    "Dear {name},\n\nFollowing our call on {date}, I attach the {product} quote for {money}.\n\nBest,\n{fullname}\n{company}\n{address_ml}\n{phone}",
    "HR note ({date}): {fullname}, {age}, requested relocation from {city} to {city2}.",
    "Visitor log\n{time} {fullname} ({company})\n{time} {fullname} ({company2})",
    "Shipping label\n{fullname}\n{address_ml}",
    "Contact details\nName: {fullname}\nStreet: {street}\nCity: {city}\nCountry: {country}\nPhone: {phone}",
    "Ref {id}\n{company}\n{address_ml}\n\nDear Sir or Madam,\n\nwe have not received payment of {money} due on {date}.",
    "Payment details\nName: {fullname}\n{idlabel}: {otherid}\nAmount: {money}\nPhone: {phone}",
    "Account holder: {fullname}\nIBAN: {otherid}\n{idlabel}: {otherid}\nAddress: {address_1l}",
]


_CONTEXT_SLOTS = [
    "name",
    "fullname",
    "address_1l",
    "address",
    "city",
    "country",
    "state",
    "phone",
    "company",
    "date",
    "money",
    "product",
    "otherid",
    "cap",
]


def random_context_template(rng: random.Random) -> str:
    """Entities among random ordinary words: the model must rely on the entity, not on a familiar frame."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 3)):
        parts.extend(
            rng.choice(["{w}", "{w2}", "the", "to", "at", "from", "and", "with", "of", "for", "by"])
            for _ in range(rng.randint(0, 4))
        )
        parts.append("{" + rng.choice(_CONTEXT_SLOTS) + "}")
    parts.extend(rng.choice(["{w}", "{w2}", "the", "in", "on"]) for _ in range(rng.randint(0, 3)))
    text = " ".join(parts)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:] if text[0] != "{" else "{W} " + text
    return text + rng.choice([".", "", "?", "!", ";"])


_BRACED = re.compile(r"\{([^}]*)\}")


def unknown_slots(templates: Iterable[str]) -> set[str]:
    """Anything in braces in ``templates`` that no filler in SLOTS renders (it would stay as text)."""
    return {slot for t in templates for slot in _BRACED.findall(t) if slot not in SLOTS}


def render(template: str, p: Pools) -> Sample:
    text_parts: list[str] = []
    spans: list[list[object]] = []
    pos = 0
    for chunk in re.split(r"(\{[A-Za-z_0-9]+\})", template):
        if chunk.startswith("{") and chunk.endswith("}") and chunk[1:-1] in SLOTS:
            for piece, label in SLOTS[chunk[1:-1]](p):
                if label is not None and piece.strip():
                    lead = len(piece) - len(piece.lstrip())  # Faker leaves stray spaces in a few locales
                    spans.append([pos + lead, pos + len(piece.rstrip()), label])
                text_parts.append(piece)
                pos += len(piece)
        else:
            text_parts.append(chunk)
            pos += len(chunk)
    text = "".join(text_parts)
    return {"text": text, "spans": merge_address_parts(text, spans)}


def _lower_sentence(sample: Sample, rng: random.Random) -> Sample:
    """Some chat-style text is all lower case (names included): same offsets."""
    if rng.random() < 0.04:
        text = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in str(sample["text"]))
        return {"text": text, "spans": sample["spans"]}
    return sample


# (list, prefix of its template ids, share of samples)
TEMPLATE_LISTS: list[tuple[list[str], str, float]] = [
    (SENTENCES, "S", 0.12),
    (PROSE, "P", 0.20),
    (NEGATIVES, "N", 0.14),
    (DOCUMENTS, "D", 0.08),
    (RECORDS, "C", 0.12),
    (VARIED, "V", 0.14),
    (RUNNING, "G", 0.08),
    ([t for _i, t in synth_templates()], "Y", 0.08),
]  # the remaining 4 %: random context


def held_out(index: int) -> bool:
    """Every fifth template of each list belongs to the dev set only."""
    return index % 5 == 4


def generate(n: int, seed: int, split: str = "train") -> list[Sample]:
    """``n`` samples of ``split``: "train" draws from the templates and cities not held out, "dev"
    only from the held-out ones (the random-context sentences occur in both), "foreign" only from
    FOREIGN, templates written apart from the others and never trained on (with dev cities): how the
    model does on text in a style it has not seen."""
    if split not in ("train", "dev", "foreign"):
        raise ValueError(f"unknown split {split!r}")
    p = Pools(seed, "train" if split == "train" else "dev")
    rng = p.rng
    lists = [
        ([(i, t) for i, t in enumerate(pool) if held_out(i) == (split == "dev")], prefix, w)
        for pool, prefix, w in TEMPLATE_LISTS
    ]
    if split == "foreign":
        lists = [(list(enumerate(FOREIGN)), "F", 1.0)]
    out: list[Sample] = []
    for _ in range(n):
        r = rng.random()
        acc = 0.0
        for candidates, prefix, w in lists:  # noqa: B007 - the list drawn is used after the loop
            acc += w
            if r < acc:
                break
        else:
            sample = _lower_sentence(render(random_context_template(rng), p), rng)
            sample["template"] = "R"
            out.append(sample)
            continue
        if not candidates:  # e.g. the benchmark's template ids are not on this machine
            candidates = lists[0][0]
            prefix = lists[0][1]
        idx, tmpl = rng.choice(candidates)
        sample = _lower_sentence(render(tmpl, p), rng)
        sample["template"] = f"{prefix}{idx}"
        out.append(sample)
    return out


def main(argv: list[str] | None = None) -> int:
    # Some Faker locales draw from sets of strings: their order follows str hashing, so fix it.
    if os.environ.get("PYTHONHASHSEED") != "0" and argv is None:
        os.execve(
            sys.executable,
            [sys.executable, "-m", "training.pii_ner.generate", *sys.argv[1:]],
            {**os.environ, "PYTHONHASHSEED": "0"},
        )
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--n", type=int, default=20000, help="training samples")
    ap.add_argument("--n-dev", type=int, default=2000, help="dev samples (held-out templates and cities)")
    ap.add_argument("--n-foreign", type=int, default=1000, help="samples of the foreign-style dev set")
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args(argv)
    parts = {
        "train": generate(args.n, args.seed),
        "dev": generate(args.n_dev, args.seed + 7919, "dev"),
        "dev_foreign": generate(args.n_foreign, args.seed + 104729, "foreign"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, part in parts.items():
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for s in part:
                fh.write(json.dumps(s, ensure_ascii=False) + "\n")
    samples = [s for part in parts.values() for s in part]
    counts: dict[str, int] = {}
    for s in samples:
        for _, _, label in cast("list[tuple[int, int, str]]", s["spans"]):
            counts[label] = counts.get(label, 0) + 1
    sizes = " / ".join(f"{len(part)} {name}" for name, part in parts.items())
    print(f"wrote {sizes} samples to {args.out}; spans {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
