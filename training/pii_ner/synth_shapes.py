"""presidio-synth's development-half sentence frames, and the slot fillers they need.

The benchmark's README (``../shared/bench/presidio-synth/README.md``) allows training on the
templates whose ids are listed in ``dev_template_ids.txt`` (line N of presidio-evaluator 0.3.2's
``templates.txt``); every other line of that file is the held-out test and is never read here.

To keep an honest estimate of generalisation, a third of the development ids (every third in
sorted order, ``held_back_ids``) is never rendered: ``dev.json`` sentences of those templates are
text whose shape the model has not seen. Of the rest, ``generate.held_out`` sends every fifth
template to our ``dev.jsonl`` only; ``trained_template_ids`` lists the ids training really uses.

Address placeholders that follow each other (building number, street, secondary line, town,
country, postcode) are rendered as one STREET_ADDRESS span, as our model labels addresses; a town
or country on its own is GPE.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "ADDRESS_PART",
    "EXTRA_SLOTS",
    "dev_template_ids",
    "held_back_ids",
    "merge_address_parts",
    "synth_templates",
    "trained_template_ids",
]

DEV_IDS_FILE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "presidio-synth" / "dev_template_ids.txt"
)
ADDRESS_PART = "_ADDR"  # internal label: merged into STREET_ADDRESS (or GPE) by merge_address_parts
_TOWN_PART = "_ADDR_TOWN"

# presidio-evaluator placeholder -> our slot (generate.SLOTS or EXTRA_SLOTS below).
_PLACEHOLDERS = {
    "person": "name",
    "name": "name",
    "name_male": "fullname",
    "name_female": "fullname",
    "first_name": "first",
    "first_name_male": "first",
    "first_name_female": "first",
    "first_name_nonbinary": "first",
    "last_name": "last",
    "last_name_male": "last",
    "last_name_female": "last",
    "prefix": "prefix",
    "prefix_male": "prefix",
    "prefix_female": "prefix",
    "address": "address",
    "building_number": "a_building",
    "street_name": "a_street",
    "secondary_address": "a_secondary",
    "postcode": "a_postcode",
    "city": "city",
    "country": "country",
    "organization": "company",
    "phone_number": "phone",
    "age": "age",
    "job": "job",
    "email": "email",
    "url": "url",
    "iban": "otherid",
    "credit_card_number": "card",
    "date_of_birth": "date",
    "year": "year",
    "day_of_week": "weekday",
    "nationality": "nationality",
}
_STREET_LOCALE_TEXT = """
en_US en_GB en_AU de_DE de_AT de_CH fr_FR it_IT es_ES pt_PT pt_BR nl_NL nl_BE sv_SE da_DK no_NO fi_FI pl_PL
cs_CZ hu_HU hr_HR sk_SK sl_SI ro_RO es_MX es_AR id_ID en_IN tr_TR el_GR et_EE lt_LT lv_LV is_IS en_NZ fr_CA
"""
_STREET_LOCALES = _STREET_LOCALE_TEXT.split()
_ADDRESS_SLOTS = ("a_building", "a_street", "a_secondary", "a_postcode")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def dev_template_ids(path: Path = DEV_IDS_FILE) -> list[int]:
    """The development half's template ids (empty when the benchmark folder is not there)."""
    if not path.is_file():
        return []
    return sorted(int(x) for x in path.read_text(encoding="utf-8").split())


def held_back_ids(ids: list[int]) -> set[int]:
    """Every third development id (sorted order): never rendered, so their dev.json sentences are unseen shapes."""
    return {i for k, i in enumerate(sorted(ids)) if k % 3 == 2}


def _convert(line: str) -> str:
    """presidio-evaluator template syntax -> ours: {{x}} -> {slot}, literal \\n -> newline; a town or
    country right after an address part becomes part of that address."""
    text = line.replace("\\n", "\n").replace("\\,", ",")
    text = _PLACEHOLDER.sub(lambda m: "{" + _PLACEHOLDERS.get(m.group(1), "w") + "}", text)
    chained = re.compile(
        r"(\{(?:" + "|".join((*_ADDRESS_SLOTS, "a_city", "a_country")) + r")\}[\s,?]{0,12})\{(city|country)\}"
    )
    while True:
        new = chained.sub(lambda m: m.group(1) + "{a_" + m.group(2) + "}", text)
        if new == text:
            return text
        text = new


@cache
def _template_lines() -> list[str]:
    source = resources.files("presidio_evaluator") / "data_generator" / "raw_data" / "templates.txt"
    return source.read_text(encoding="utf-8").split("\n")


def synth_templates(path: Path = DEV_IDS_FILE) -> list[tuple[int, str]]:
    """(template id, template in our syntax) for the development ids not held back; only those lines are read."""
    ids = dev_template_ids(path)
    if not ids:
        return []
    try:
        lines = _template_lines()
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    back = held_back_ids(ids)
    out: list[tuple[int, str]] = []
    for i in ids:
        if i in back:
            continue
        out.append((i, _convert(lines[i])))
    return out


def trained_template_ids(path: Path = DEV_IDS_FILE) -> set[int]:
    """Ids whose frames the training split uses (not held back, not in our own dev split)."""
    return {tid for k, (tid, _t) in enumerate(synth_templates(path)) if k % 5 != 4}


# --- slot fillers the frames need (``p`` is generate.Pools) ---------------------------------------


def _first(p: Any) -> list[tuple[str, str | None]]:
    first, _ = p.first_last()
    return [(_cased(p, first), "PERSON")]


def _last(p: Any) -> list[tuple[str, str | None]]:
    _, last = p.first_last()
    return [(_cased(p, last), "PERSON")]


def _cased(p: Any, text: str) -> str:
    r = p.rng.random()
    return text.lower() if r < 0.08 else text.upper() if r < 0.12 else text


def _prefix(p: Any) -> list[tuple[str, str | None]]:
    return [(p.rng.choice(["Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Mrs", "Miss", "Prof."]), None)]


def _building(p: Any) -> list[tuple[str, str | None]]:
    n = p.rng.randint(1, 99999)
    return [(f"{n:0{p.rng.choice([1, 3, 4, 5])}d}", ADDRESS_PART)]


def _street(p: Any) -> list[tuple[str, str | None]]:
    """A street with its house number, from one of many locales (Faker's street_address)."""
    loc, fk = p.faker(_STREET_LOCALES)
    value = str(fk.street_address()).split("\n")[0]
    if loc.startswith("en_") and p.rng.random() < 0.5:
        value = str(fk.street_name())
    return [(_cased(p, value), ADDRESS_PART)]


def _secondary(p: Any) -> list[tuple[str, str | None]]:
    kind = p.rng.choice(["Suite", "Apt.", "Apt", "Unit", "Flat", "Room"])
    return [(f"{kind} {p.rng.randint(1, 999):03d}", ADDRESS_PART)]


def _postcode(p: Any) -> list[tuple[str, str | None]]:
    _loc, fk = p.faker(_STREET_LOCALES)
    return [(str(fk.postcode()), ADDRESS_PART)]


def _town(p: Any) -> list[tuple[str, str | None]]:
    return [(_cased(p, p.cities.draw(p.rng).name), _TOWN_PART)]


def _country(p: Any) -> list[tuple[str, str | None]]:
    return [(_cased(p, str(p.en.country())), _TOWN_PART)]


def _card(p: Any) -> list[tuple[str, str | None]]:
    return [(str(p.en.credit_card_number()), None)]


def _year(p: Any) -> list[tuple[str, str | None]]:
    return [(str(p.rng.randint(1950, 2030)), None)]


def _weekday(p: Any) -> list[tuple[str, str | None]]:
    return [(p.rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]), None)]


_NATIONALITIES = "American British Polish Czech French German Italian Spanish Dutch Swedish Norwegian Danish Finnish"
_NATIONALITIES += " Greek Turkish Japanese Korean Chinese Indian Brazilian Mexican Canadian Australian Irish Scottish"


def _nationality(p: Any) -> list[tuple[str, str | None]]:
    return [(p.rng.choice(_NATIONALITIES.split()), None)]


EXTRA_SLOTS = {
    "first": _first,
    "last": _last,
    "prefix": _prefix,
    "a_building": _building,
    "a_street": _street,
    "a_secondary": _secondary,
    "a_postcode": _postcode,
    "a_city": _town,
    "a_country": _country,
    "card": _card,
    "year": _year,
    "weekday": _weekday,
    "nationality": _nationality,
}


def merge_address_parts(text: str, spans: list[list[Any]]) -> list[list[Any]]:
    """Runs of address parts separated only by spaces, commas, newlines or '?' become one STREET_ADDRESS;
    a lone town/country part is GPE, a lone other part STREET_ADDRESS."""
    spans = sorted(spans, key=lambda s: s[0])
    out: list[list[Any]] = []
    run: list[list[Any]] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1 and run[0][2] == _TOWN_PART:
            out.append([run[0][0], run[0][1], "GPE"])
        else:
            out.append([run[0][0], run[-1][1], "STREET_ADDRESS"])
        run.clear()

    for span in spans:
        if span[2] in (ADDRESS_PART, _TOWN_PART):
            if run and not re.fullmatch(r"[\s,?]*", text[run[-1][1] : span[0]]):
                flush()
            run.append(span)
            continue
        flush()
        out.append(span)
    flush()
    return sorted(out, key=lambda s: s[0])
