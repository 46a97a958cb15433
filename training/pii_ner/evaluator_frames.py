"""presidio-evaluator's sentence frames, filled with *our* values (Faker via ``Pools``).

The issue that asked for the NER model allows presidio-evaluator's shipped templates as a source of
synthetic training text. We take only the frames (``raw_data/templates.txt`` of the installed
``presidio-evaluator`` wheel): every ``{{slot}}`` is filled by this package's own renderers, so no
value from its FakeNameGenerator identity table or company list is ever seen in training.

Caveat, stated in the model card: ``presidio-synth`` (the benchmark) was generated from the same
frames, so a model trained on them meets known sentence frames there with new values.

Labels follow ``generate.py``: a street line and the town/postcode/country written right after it are
one ``STREET_ADDRESS`` span; a city/state/country on its own is ``GPE``; titles, nationalities,
jobs, dates, IDs, e-mails and URLs stay "O" (the pattern recognizers own the identifiers).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from training.pii_ner.generate import (
    TITLES,
    Piece,
    Pools,
    Sample,
    age,
    city,
    company,
    country,
    date,
    email,
    job,
    person,
    phone,
    street_address,
    url,
)

__all__ = ["SLOT", "load_frames", "merge_address", "render_frame"]

SLOT = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")  # a frame slot: "{{first_name}}"
# Between two address parts, only these make them one address ("12 High St, Leeds").
_ADDRESS_JOIN = re.compile(r"[ ,\n]*")

NATIONALITIES = [
    "American",
    "British",
    "Canadian",
    "German",
    "French",
    "Italian",
    "Spanish",
    "Dutch",
    "Polish",
    "Swedish",
    "Norwegian",
    "Irish",
    "Mexican",
    "Brazilian",
    "Indian",
    "Chinese",
    "Japanese",
    "Korean",
    "Nigerian",
    "Kenyan",
    "Egyptian",
    "Turkish",
    "Greek",
    "Portuguese",
    "Australian",
    "Israeli",
]
NATION_PLURALS = ["Americans", "Germans", "Italians", "Brazilians", "Indians", "Canadians", "Poles", "Kenyans"]
NATION_WOMEN = ["American woman", "German woman", "Frenchwoman", "Irishwoman", "Italian woman", "Dutchwoman"]


def _value(text: str, label: str | None = None) -> list[Piece]:
    return [(text, label)]


def _first(p: Pools) -> list[Piece]:
    return _value(p.first_last()[0], "PERSON")


def _last(p: Pools) -> list[Piece]:
    return _value(p.first_last()[1], "PERSON")


def _full(p: Pools) -> list[Piece]:
    return person(p, allow_title=False)


def _street_name(p: Pools) -> list[Piece]:
    _loc, fk = p.faker(["en_US", "en_GB", "en_CA", "en_AU", "de_DE", "fr_FR", "it_IT", "nl_NL"])
    return _value(fk.street_name(), "STREET_ADDRESS")


def _building(p: Pools) -> list[Piece]:
    return _value(p.en.building_number(), "STREET_ADDRESS")


def _secondary(p: Pools) -> list[Piece]:
    return _value(p.en.secondary_address(), "STREET_ADDRESS")


def _postcode(p: Pools) -> list[Piece]:
    _loc, fk = p.faker(["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "en_CA"])
    return _value(fk.postcode(), "STREET_ADDRESS")


def _state_abbr(p: Pools) -> list[Piece]:
    return _value(p.en.state_abbr(), "GPE")


def _card(p: Pools) -> list[Piece]:
    return _value(p.en.credit_card_number())


def _iban(p: Pools) -> list[Piece]:
    return _value(p.en.iban())


def _ssn(p: Pools) -> list[Piece]:
    return _value(p.en.ssn())


def _ip(p: Pools) -> list[Piece]:
    return _value(p.en.ipv4() if p.rng.random() < 0.8 else p.en.ipv6())


def _licence(p: Pools) -> list[Piece]:
    rng = p.rng
    return _value(
        rng.choice("ABCDEFGHJKLMNPRSTWY") + "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([7, 8, 12])))
    )


def _year(p: Pools) -> list[Piece]:
    return _value(str(p.rng.randint(1950, 2026)))


def _weekday(p: Pools) -> list[Piece]:
    return _value(p.en.day_of_week())


def _pick(options: list[str]) -> Callable[[Pools], list[Piece]]:
    return lambda p: _value(p.rng.choice(options))


FRAME_SLOTS: dict[str, Callable[[Pools], list[Piece]]] = {
    "person": _full,
    "name": _full,
    "name_male": _full,
    "name_female": _full,
    "first_name": _first,
    "first_name_male": _first,
    "first_name_female": _first,
    "first_name_nonbinary": _first,
    "last_name": _last,
    "last_name_male": _last,
    "last_name_female": _last,
    "prefix": _pick(TITLES),
    "prefix_male": _pick(["Mr.", "Mr", "Sir", "Dr."]),
    "prefix_female": _pick(["Mrs.", "Ms.", "Miss", "Dr."]),
    "address": street_address,
    "street_name": _street_name,
    "building_number": _building,
    "secondary_address": _secondary,
    "postcode": _postcode,
    "zipcode": _postcode,
    "city": city,
    "country": country,
    "state_abbr": _state_abbr,
    "phone_number": phone,
    "age": age,
    "organization": company,
    "credit_card_number": _card,
    "iban": _iban,
    "ssn": _ssn,
    "ip_address": _ip,
    "us_driver_license": _licence,
    "email": email,
    "url": url,
    "job": job,
    "date_time": date,
    "date_of_birth": date,
    "year": _year,
    "day_of_week": _weekday,
    "nationality": _pick(NATIONALITIES),
    "nation_plural": _pick(NATION_PLURALS),
    "nation_woman": _pick(NATION_WOMEN),
}


@cache
def load_frames(path: Path | None = None) -> tuple[str, ...]:
    """The frames of the installed presidio-evaluator (or ``path``), one per non-empty line."""
    if path is None:
        from presidio_evaluator.data_generator import raw_data_dir

        path = Path(raw_data_dir) / "templates.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def merge_address(spans: list[list[object]], text: str) -> list[list[object]]:
    """Glue address parts (and a town/country written right after them) into one STREET_ADDRESS."""
    out: list[list[object]] = []
    for span in spans:
        if out:
            prev = out[-1]
            gap = text[int(prev[1]) : int(span[0])]  # type: ignore[call-overload]
            if prev[2] == "STREET_ADDRESS" and span[2] in ("STREET_ADDRESS", "GPE") and _ADDRESS_JOIN.fullmatch(gap):
                prev[1] = span[1]
                continue
            if prev[2] == "GPE" and span[2] == "STREET_ADDRESS" and _ADDRESS_JOIN.fullmatch(gap) and gap:
                prev[1], prev[2] = span[1], "STREET_ADDRESS"
                continue
        out.append(list(span))
    return out


def render_frame(frame: str, p: Pools, rng: random.Random) -> Sample:
    """One frame filled with fresh values; unknown slots make the frame unusable (ValueError).

    Some frames write line breaks as a literal backslash-n; half the time they become real ones.
    """
    if rng.random() < 0.5:
        frame = frame.replace("\\n", "\n")
    parts: list[str] = []
    spans: list[list[object]] = []
    pos = 0
    for i, chunk in enumerate(SLOT.split(frame)):
        if i % 2 == 0:
            parts.append(chunk)
            pos += len(chunk)
            continue
        slot = chunk.lower()
        if slot not in FRAME_SLOTS:
            raise ValueError(f"unknown slot {slot!r}")
        for piece, label in FRAME_SLOTS[slot](p):
            if rng.random() < 0.05 and label == "PERSON":
                piece = piece.lower()  # chat-style lower-case names, as in generate.py
            if label is not None:
                spans.append([pos, pos + len(piece), label])
            parts.append(piece)
            pos += len(piece)
    text = "".join(parts)
    return {"text": text, "spans": merge_address(spans, text)}
