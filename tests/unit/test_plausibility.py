"""Shape checks on NER spans (enclave_core/redaction/plausibility.py): a table of values each rule
must keep and values it must reject, then the same through the Redactor (with the policy switch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from enclave_core.redaction.engine import _vocabulary, shared_nlp_engine
from enclave_core.redaction.person import name_lists, place_names
from enclave_core.redaction.plausibility import SpanShapes, age_in_context, is_cased
from enclave_core.redaction.policy import load_redaction_policy
from enclave_core.redaction.redactor import Redactor
from tests.conftest import REPO


@pytest.fixture(scope="module")
def shapes() -> SpanShapes:
    first, last = name_lists()
    nlp = shared_nlp_engine().get_nlp("en")
    return SpanShapes(_vocabulary(nlp), first, last, place_names())


KEEP = [
    ("PERSON", "Oluwaseun Adeyemi"),
    ("PERSON", "Summer Jones"),  # with a surname it is a name
    ("PERSON", "Ludwig van Beethoven"),
    ("PERSON", "fatima al-sayed"),  # typed in lower case, not English words
    ("PERSON", "JOHN SMITH"),  # a form in capitals: known names
    ("PERSON", "Rose"),  # an English word that is also a listed first name
    ("PERSON", "Mr. Tanaka"),
    ("PERSON", "Seán O'Connor"),
    ("PERSON", "Mary McDonald"),  # inner capital explained by the prefix
    ("PERSON", "Jean-Luc Picard"),  # hyphenated names: no one-letter or acronym part
    ("PERSON", "Chen I-Hsiung"),  # a one-letter syllable beside a name part
    ("PERSON", "PENG, I-HSIUNG"),  # the same in capitals: no short acronym part
    ("PERSON", "Ahmed Al-Sayed"),
    ("PERSON", "JEAN-PIERRE DUBOIS"),  # typed in capitals
    ("LOCATION", "Rio de Janeiro"),
    ("LOCATION", "Frankfurt am Main"),
    ("LOCATION", "tokyo"),  # lower case places stay
    ("LOCATION", "USA"),
    ("LOCATION", "TX"),  # state codes are places
    ("LOCATION", "U.S."),
    ("LOCATION", "Reading"),  # an English word that is a town
    ("STREET_ADDRESS", "221B Baker Street, London NW1 6XE"),
    ("STREET_ADDRESS", "Rue de Rivoli, Paris"),
    ("STREET_ADDRESS", "Hauptstraße 5, 10115 Berlin"),
    ("STREET_ADDRESS", "Teplická 48"),
    ("STREET_ADDRESS", "Björktorget 7"),
    ("STREET_ADDRESS", "P.O. Box 1234, Accra"),
    ("STREET_ADDRESS", "MOENHOLTET 6, 5477 HELGEØY"),
    ("STREET_ADDRESS", "alameda esteves, 533, chaves"),
    ("STREET_ADDRESS", "Springfield, IL 62704"),
    ("STREET_ADDRESS", "Flat 9"),  # a flat, a level, a studio: street words, however English
    ("STREET_ADDRESS", "Level 2"),
    ("STREET_ADDRESS", "8861 CR"),  # a Dutch postcode
    ("STREET_ADDRESS", "8312 stark streets"),  # typed in lower case, street word in the plural
    ("PHONE_NUMBER", "+91 98765 43210"),
    ("PHONE_NUMBER", "01.23.45.67.89"),  # French dotted groups are no decimal
    ("PHONE_NUMBER", "(555) 010-0199 ext. 12"),
    ("AGE", "45"),
]

REJECT = [
    ("PERSON", "However"),
    ("PERSON", "Summer"),  # a listed first name, but alone a season ("Summer (1 June to 31 August)")
    ("PERSON", "May"),
    ("PERSON", "Thus"),
    ("PERSON", "METHODS"),
    ("PERSON", "CONCLUSIONS These"),
    ("PERSON", "Physicians"),  # a plural English word
    ("PERSON", "S. aureus"),  # a lower-case word that is no particle
    ("PERSON", "HER2"),
    ("PERSON", "TGF-beta"),  # an acronym part next to a word part
    ("PERSON", "N-cadherin"),  # a one-letter part
    ("PERSON", "G-CSF"),
    ("PERSON", "T-cell"),
    ("PERSON", "HSCs"),  # an acronym in the plural
    ("PERSON", "modulating actin"),
    ("LOCATION", "IL-6"),
    ("LOCATION", "NusG"),  # mixed case: a symbol
    ("LOCATION", "siRNAs"),
    ("LOCATION", "ADHD"),  # an acronym that is no known place
    ("LOCATION", "Although"),
    ("LOCATION", "R"),
    ("STREET_ADDRESS", "P = 0.016"),
    ("STREET_ADDRESS", "1.81; 95%"),
    ("STREET_ADDRESS", "non-Q-wave"),
    ("STREET_ADDRESS", "more than 20"),
    ("STREET_ADDRESS", "2*2"),
    ("STREET_ADDRESS", "Figure 1"),  # English words and a number, no street word
    ("STREET_ADDRESS", "RESULTS 20"),
    ("STREET_ADDRESS", "250 WORDS"),
    ("PHONE_NUMBER", "0.05"),
    ("PHONE_NUMBER", "+"),
    ("PHONE_NUMBER", "74 +/- 7, 40 +/- 4, 49 +/- 5"),
    ("PHONE_NUMBER", "(0.70, 0.61 to 0.81"),
    ("PHONE_NUMBER", "P0 180-199"),
    ("AGE", "0.01"),
    ("AGE", "16–29"),
    ("AGE", "450"),
]


@pytest.mark.parametrize(("entity", "value"), KEEP)
def test_real_values_are_kept(shapes: SpanShapes, entity: str, value: str) -> None:
    assert not shapes.implausible(entity, value)


@pytest.mark.parametrize(("entity", "value"), REJECT)
def test_impossible_values_are_rejected(shapes: SpanShapes, entity: str, value: str) -> None:
    assert shapes.implausible(entity, value)


def test_lower_case_places_count_only_in_lower_case_text(shapes: SpanShapes) -> None:
    assert is_cased("Cells were grown in vitro. Mice were used.")
    assert not is_cased("my friend fatima moved to dubai last year")
    assert shapes.implausible("LOCATION", "vitro", cased_text=True)
    assert not shapes.implausible("LOCATION", "dubai", cased_text=False)
    assert not shapes.implausible("LOCATION", "Dubai", cased_text=True)


@pytest.mark.parametrize(
    ("value", "cased_text", "implausible"),
    [
        ("autophagy", True, True),  # a term, in text that capitalises names
        ("quercetin", True, True),
        ("john", True, False),  # a known first name stays a name whatever the casing around it
        ("fatima al-sayed", True, False),
        ("autophagy", False, False),  # lower-case chat: an unknown word may be a name ("zyxo")
        ("Quercetin", True, False),  # capitalised: the other shape rules decide
    ],
)
def test_lower_case_unknown_names_count_only_in_lower_case_text(
    shapes: SpanShapes, value: str, cased_text: bool, implausible: bool
) -> None:
    assert shapes.implausible("PERSON", value, cased_text=cased_text) is implausible


@pytest.mark.parametrize(
    ("text", "number", "expected"),
    [
        ("The patient, aged 45, was admitted.", "45", True),
        ("Jane Doe (45) lives in Leeds.", "45", True),
        ("John Smith, 45, of Leeds was not injured.", "45", True),
        ("a 45-year-old man", "45", True),
        ("She is 45 years old.", "45", True),
        ("Stage 5 tumours were excluded.", "5", False),
        ("Figure 2 shows the cohort of 45 mice.", "45", False),
        ("| 5 to 9 years | 200 hours |", "5", False),  # a range of service years
        ("| 5 to 9 years | 200 hours |", "9", False),
        ("Less than 5 years of service", "5", False),
        ("renewed every 5 years", "5", False),
        ("children aged 5-9 were", "5", False),  # a range is nobody's age
    ],
)
def test_a_bare_number_is_an_age_only_where_ages_stand(text: str, number: str, expected: bool) -> None:
    start = text.index(number)
    assert age_in_context(text, start, start + len(number)) is expected


SCIENCE = (
    "METHODS We measured IL-6 in 45 mice. However, the effect was small (P = 0.016; 95% CI 0.61 to 0.81). "
    "Thus S. aureus remains a concern in vitro."
)


def _policy(tmp_path: Path, shape_checks: bool) -> Path:
    text = (REPO / "policies" / "redaction.yaml").read_text(encoding="utf-8")
    path = tmp_path / f"redaction-{shape_checks}.yaml"
    path.write_text(text.replace("shape_checks: true", f"shape_checks: {str(shape_checks).lower()}"), "utf-8")
    return path


def test_redactor_leaves_scientific_prose_alone_and_still_redacts_people(tmp_path: Path) -> None:
    redactor = Redactor(load_redaction_policy(_policy(tmp_path, True)))
    assert redactor.redact(SCIENCE).text == SCIENCE
    assert redactor.redact("However, Maria Garcia (45) called +44 20 7946 0958.").text == (
        "However, <PERSON> (<AGE>) called <PHONE_NUMBER>."
    )


def test_policy_switch_turns_the_checks_off(tmp_path: Path) -> None:
    on = Redactor(load_redaction_policy(_policy(tmp_path, True)))
    off = Redactor(load_redaction_policy(_policy(tmp_path, False)))
    assert not off._policy.shape_checks
    # Without the checks the NER's guesses on this prose come back (at least one redaction).
    assert off.redact(SCIENCE).counts and not on.redact(SCIENCE).counts
