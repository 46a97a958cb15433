"""The city gazetteer, NER span trimming, clause starts before streets, the age patterns and
company names that look like people.

First the logic alone (a small city list, no NER), then each rule through the shipped Redactor
with the real spaCy model, as tables of (text, what must be redacted, what must stay).
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
from enclave_core.redaction.cities import CityNameRecognizer, city_names
from enclave_core.redaction.companies import names_a_company
from enclave_core.redaction.engine import _vocabulary, shared_nlp_engine
from enclave_core.redaction.person import name_lists, place_names
from enclave_core.redaction.plausibility import SpanShapes
from enclave_core.redaction.recognizers import AgeRecognizer, StreetAddressRecognizer


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    r.warm_up()
    return r


def _ent(start: int, end: int, label: str) -> SimpleNamespace:
    return SimpleNamespace(start_char=start, end_char=end, label_=label)


def _found(recognizer: CityNameRecognizer, text: str, ner: list[SimpleNamespace] | None = None) -> list[str]:
    artifacts = SimpleNamespace(entities=ner or [])
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["LOCATION"], artifacts)]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def small() -> CityNameRecognizer:
    cities = ["Delfgauw", "Orange", "San", "San Jose", "San Luis", "San Pedro", "Rothenburg ob der Tauber", "Jackson"]
    cities += ["St. Louis", "Boston", "Lyon", "Florence", "Raman", "LMS", "Bla"]
    return CityNameRecognizer(
        vocabulary=frozenset({"orange"}),
        first_names=frozenset({"Florence"}),
        surnames=frozenset({"Jackson", "Lyon", "Raman"}),
        cities=cities,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We moved to Delfgauw last May.", ["Delfgauw"]),
        ("Delfgauw.", ["Delfgauw"]),
        ("a trip to Rothenburg ob der Tauber by bus", ["Rothenburg ob der Tauber"]),  # lower-case particles inside
        ("From St. Louis to San Jose.", ["St. Louis", "San Jose"]),  # an abbreviation's dot inside
        ("Orange or nearby only.", []),  # a one-word name that is an English word
        ("San Clara is lovely.", []),  # "San" starts three longer names: a fragment alone
        ("The delfgauw office", []),  # matched with its capitals only
        ("Boston Scientific reported earnings.", []),  # part of a longer proper noun
        ("Mr Jackson moved to Jackson.", ["Jackson"]),  # after a title: the person
        ("Raman scattering of Florence samples", []),  # listed person names, no place evidence
        ("She was born in Florence.", ["Florence"]),  # a place preposition
        ("Lyon, France and Jackson, MS", ["Lyon", "Jackson"]),  # a country or a state code follows
        ("the LMS method and the Bla cells", []),  # acronyms and three-letter names never count
        ("as shown by Delfgauw et al. (2020)", []),  # an author cited
    ],
)
def test_gazetteer_matches(small: CityNameRecognizer, text: str, expected: list[str]) -> None:
    assert _found(small, text) == expected


def test_gazetteer_defers_to_the_ner_on_organisations_and_listed_person_names(small: CityNameRecognizer) -> None:
    text = "Lyon works at Bank of Boston; she moved to Lyon."
    org, second = text.index("Bank of Boston"), text.rindex("Lyon")
    ner = [_ent(0, 4, "PERSON"), _ent(org, org + 14, "ORGANIZATION"), _ent(second, second + 4, "PERSON")]
    # The first Lyon is a listed surname the NER reads as a person; the second stands after "to".
    found = small.analyze(text, ["LOCATION"], SimpleNamespace(entities=ner))  # type: ignore[arg-type]
    assert [(r.start, r.end) for r in found] == [(second, second + 4)]


def test_gazetteer_leaves_a_word_of_a_longer_person_name(small: CityNameRecognizer) -> None:
    text = "Shoutout to Hideki Delfgauw for the coffee."
    start = text.index("Hideki")
    assert _found(small, text, [_ent(start, start + len("Hideki Delfgauw"), "PERSON")]) == []


def test_gazetteer_overrides_a_person_reading_of_an_unlisted_name(small: CityNameRecognizer) -> None:
    text = "Delfgauw, not Leiden."
    assert _found(small, text, [_ent(0, 8, "PERSON")]) == ["Delfgauw"]


def test_shipped_city_list_holds_real_cities_and_folded_spellings() -> None:
    cities = city_names()
    assert len(cities) > 70000
    assert {"São Paulo", "Sao Paulo", "Malmö", "Malmo", "Ibadan", "Haderslev"} <= cities


@pytest.fixture(scope="module")
def shapes() -> SpanShapes:
    first, last = name_lists()
    return SpanShapes(_vocabulary(shared_nlp_engine().get_nlp("en")), first, last, place_names())


@pytest.mark.parametrize(
    ("value", "cased", "kept"),
    [
        ("Ringgränd 66, two", False, "Ringgränd 66"),  # a capitalised span: its lower-case tail is the sentence
        ("444 Isabella Lakes, two", True, "444 Isabella Lakes"),
        ("San Giuseppe Vesuviano #", True, "San Giuseppe Vesuviano"),
        ("Springfield, IL 62704", True, "Springfield, IL 62704"),
        ("Smith, John", True, "Smith, John"),
        ("calle mayor 5, madrid", False, "calle mayor 5, madrid"),  # typed in lower case: no evidence
        ("Jurgendreef 20, heverlee", True, "Jurgendreef 20, heverlee"),  # not an English word
        ("Dr. J. Smith Jr.", True, "Dr. J. Smith Jr."),
    ],
)
def test_trimmed_end(shapes: SpanShapes, value: str, cased: bool, kept: str) -> None:
    assert value[: shapes.trimmed_end(value, cased_text=cased)] == kept


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Gansbaai, Denise Manning", "Denise Manning"),
        ("Diadema, SEIJA HARJU", "SEIJA HARJU"),
        ("Smith, John", "Smith, John"),  # "Last, First": no city before the comma
        ("Gansbaai, Denise", "Gansbaai, Denise"),  # one word after it: could be "Last, First"
        ("Jackson, Mary Ann", "Jackson, Mary Ann"),  # a listed surname as well as a city
    ],
)
def test_a_town_before_a_name_is_not_part_of_it(shapes: SpanShapes, value: str, name: str) -> None:
    with_cities = replace(shapes, cities=frozenset({"Gansbaai", "Diadema", "Jackson"}))
    assert value[with_cities.place_before_name(value) :] == name


@pytest.mark.parametrize(
    ("entity", "value", "kept"),
    [
        ("PHONE_NUMBER", "03281753339 [2025", "03281753339"),
        ("PHONE_NUMBER", "+48 512 555 208\n[2025-09-02", "+48 512 555 208"),
        ("PHONE_NUMBER", "0116 496 0321\nFax", "0116 496 0321"),
        ("STREET_ADDRESS", "ul. Długa 17/4, 80-827 Gdańsk [2025-09-02", "ul. Długa 17/4, 80-827 Gdańsk"),
        ("STREET_ADDRESS", "18 Belvoir Terrace\nLeicester LE2 1DX", "18 Belvoir Terrace\nLeicester LE2 1DX"),
        ("STREET_ADDRESS", "Flat 3\n2025-10-02T08:12 kernel", "Flat 3"),
        ("PERSON", "Marta Nowak", "Marta Nowak"),
    ],
)
def test_no_span_runs_into_the_next_record(shapes: SpanShapes, entity: str, value: str, kept: str) -> None:
    assert value[: shapes.record_end(entity, value)] == kept


@pytest.mark.parametrize(("value", "rejected"), [("Tue", True), ("Wed.", True), ("Sun", False), ("Marta", False)])
def test_weekday_abbreviations_are_not_people(shapes: SpanShapes, value: str, rejected: bool) -> None:
    assert shapes.implausible("PERSON", value, cased_text=True) is rejected


@pytest.mark.parametrize(("value", "rejected"), [("Saturdays", True), ("Friday", True), ("Bavaria", False)])
def test_days_and_months_are_not_places(shapes: SpanShapes, value: str, rejected: bool) -> None:
    assert shapes.implausible("LOCATION", value, cased_text=True) is rejected


def _matches(recognizer: AgeRecognizer | StreetAddressRecognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, recognizer.supported_entities)]


@pytest.mark.parametrize(
    ("text", "ages"),
    [
        ("I'm 61, living in Leeds.", ["61"]),
        ("When I was 82, we left.", ["82"]),
        ("My neighbour, who is 30 and still mows his lawn", ["30"]),
        ("she's 45 and works nights", ["45"]),
        ("He just turned 18!", ["18"]),
        ("Marcel Morard, 7, of Lyon, was arrested.", ["7"]),
        ("beloved teacher, dies at 72", ["72"]),
        ("Rosie George is 73 and allergic to peanuts.", ["73"]),
        ("A. I was 11.", ["11"]),
        ("The total is 12.5 and the score was 7-3.", []),
        ("died at the age of 90", ["90"]),
        ("I was 5 minutes late and she is 6 feet tall.", []),
        ("I'm 100 percent sure; he was 3rd.", []),
        ("She is 250 miles away.", []),
        ("Section 4, 12, and 13", []),
        ("I'm 12:30 today", []),
        ("it was 30 degrees", []),
    ],
)
def test_age_patterns(text: str, ages: list[str]) -> None:
    assert _matches(AgeRecognizer(), text) == ages


def test_a_clause_start_is_not_part_of_a_street() -> None:
    found = _matches(StreetAddressRecognizer(), "Residents near Schweitzerweg 12, 1953 Mödling heard it.")
    assert found and all(f.startswith("Schweitzerweg 12") for f in found)


@pytest.mark.parametrize(
    ("text", "name", "company"),
    [
        ("Is she still at Rosemann Pärtzelt AG, or did she leave?", "Rosemann Pärtzelt", True),
        ("Denis Richard S.A.R.L. moved their HQ.", "Denis Richard", True),
        ("Olsson Johnsson AB moved.", "Olsson Johnsson", True),
        ("Smith, Inc. and Jones met.", "Smith", True),
        ("Schmidt Tintzmann e.G.. Never again.", "Schmidt Tintzmann", True),
        ("Mary Jones met Tom.", "Mary Jones", False),
        ("Mary Jones, Agnes Smith", "Mary Jones", False),  # "Agnes" is no legal form
        ("Mary Jones ABANDONED it", "Mary Jones", False),
    ],
)
def test_company_suffix(text: str, name: str, company: bool) -> None:
    assert names_a_company(text, text.index(name) + len(name)) is company


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("The plaintiff moved from Delfgauw to Haderslev in 2019.", ["Delfgauw", "Haderslev"], ["plaintiff"]),
        ("Your flight from Shivpur Charcha to Ljubljana has been rescheduled.", ["Ljubljana"], ["flight"]),
        ("I grew up on Ringgränd 66, two doors down from the church.", ["Ringgränd 66"], ["two doors down"]),
        ("I'm 61, living in Leeds, and just got my first credit card.", [" 61,", "Leeds"], ["credit card"]),
        ("Shares of Boston Scientific fell 4% on Monday.", [], ["Boston Scientific"]),
        ("Is Mx. Chakrabarti still at Rosemann Pärtzelt AG?", ["Chakrabarti"], ["Rosemann Pärtzelt AG"]),
        ("Rein S. Smirnov\tRecords manager\tLeeds", ["Rein S. Smirnov"], ["\tRecords manager"]),  # a cell ends a name
        ("The mayor of Gansbaai, Denise Manning, opened it.", ["Gansbaai"], ["of <LOCATION>, <PERSON>, opened"]),
        ("Orange juice and Reading glasses are on the list.", [], ["Orange juice", "Reading glasses"]),
        # Mail headers, chat and log records: a weekday is no person, no span runs into the next record.
        ("From: Priya Raman\nDate: Tue, 14 Oct 2025 09:12:44 +0200", ["Priya Raman"], ["Tue, 14 Oct 2025"]),
        (
            "[2025-09-02 14:05:41] customer: 03281753339 [2025-09-02 14:06:30] agent: got it",
            ["03281753339"],
            ["[2025-09-02 14:06:30] agent"],
        ),
        (
            "customer: it was meant to go to ul. Długa 17/4, 80-827 Gdańsk [2025-09-02 14:05:10] agent: thanks",
            ["Długa 17/4", "Gdańsk"],
            ["[2025-09-02 14:05:10] agent"],
        ),
        ("2025-10-02T08:12:00Z vpn-gw-02 kernel: [82331.10214] eth1: link up", [], ["[82331.10214]"]),
        # Look-alikes: a document label, a chat verb, a sentence end, a lab value.
        ("Rechnung Nr. 2024-1187 vom 05.02.2024", [], ["Rechnung Nr. 2024-1187"]),
        ("can we move job 44817 to the A100 pool? Ping me if not.", [], ["Ping me"]),
        ("Not fit for work 3 to 17 June. Reviewed by Dr Hanna Lindahl.", ["Hanna Lindahl"], ["17 June. Reviewed"]),
        ("I met Prof. Kenji Ito. He said the results hold.", ["Kenji Ito"], ["He said"]),
        ("Blood pressure 132/84, HbA1c 41 mmol/mol.", [], ["132/84, HbA1c 41"]),
    ],
)
def test_through_the_redactor(redactor: Redactor, text: str, gone: list[str], kept: list[str]) -> None:
    out = redactor.redact(text).text
    for value in gone:
        assert value not in out, out
    for value in kept:
        assert value in out, out
