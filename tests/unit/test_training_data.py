"""training/pii_ner: the synthetic data's templates, held-out split, places and span offsets."""

from __future__ import annotations

import random
import re

import pytest

from training.pii_ner import generate as gen
from training.pii_ner.places import city_pool, swap_city


@pytest.fixture(scope="module")
def train_samples() -> list[gen.Sample]:
    return gen.generate(400, seed=11)


@pytest.fixture(scope="module")
def dev_samples() -> list[gen.Sample]:
    return gen.generate(200, seed=12, split="dev")


@pytest.mark.parametrize("prefix", [prefix for _, prefix, _ in gen.TEMPLATE_LISTS])
def test_every_template_uses_only_known_slots(prefix: str) -> None:
    templates = next(pool for pool, p, _ in gen.TEMPLATE_LISTS if p == prefix)
    assert not gen.unknown_slots(templates)
    assert len(set(templates)) == len(templates), "duplicate templates"


def test_dev_templates_never_occur_in_training(train_samples: list[gen.Sample], dev_samples: list[gen.Sample]) -> None:
    train_ids = {str(s["template"]) for s in train_samples} - {"R"}
    dev_ids = {str(s["template"]) for s in dev_samples} - {"R"}
    assert train_ids and dev_ids
    assert not train_ids & dev_ids
    assert all(gen.held_out(int(t[1:])) for t in dev_ids)
    assert not any(gen.held_out(int(t[1:])) for t in train_ids)


def test_foreign_templates_are_only_in_their_own_dev_set(train_samples: list[gen.Sample]) -> None:
    assert not gen.unknown_slots(gen.FOREIGN)
    foreign = gen.generate(200, 3, "foreign")
    assert {str(s["template"])[0] for s in foreign} == {"F"}
    assert not any(str(s["template"]).startswith("F") for s in train_samples)
    assert not set(gen.FOREIGN) & {t for pool, _, _ in gen.TEMPLATE_LISTS for t in pool}
    with pytest.raises(ValueError):
        gen.generate(1, 3, "test")


def test_every_list_and_random_context_is_drawn(train_samples: list[gen.Sample]) -> None:
    prefixes = {str(s["template"])[0] for s in train_samples}
    assert prefixes == {p for _, p, _ in gen.TEMPLATE_LISTS} | {"R"}


def test_spans_are_exact_and_trimmed(train_samples: list[gen.Sample], dev_samples: list[gen.Sample]) -> None:
    labels = set()
    for sample in train_samples + dev_samples:
        text = str(sample["text"])
        for start, end, label in sample["spans"]:  # type: ignore[attr-defined]
            piece = text[start:end]
            assert piece and piece == piece.strip(), (text, start, end)
            labels.add(label)
    assert {"PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE", "ORG"} <= labels


def test_lower_casing_keeps_offsets_for_letters_that_grow() -> None:
    sample: gen.Sample = {"text": "Ask İlqar Aliyev", "spans": [[4, 16, "PERSON"]]}

    class Always(random.Random):
        def random(self) -> float:
            return 0.0

    lowered = gen._lower_sentence(sample, Always())
    assert len(str(lowered["text"])) == len("Ask İlqar Aliyev")
    assert str(lowered["text"])[4:16] == "İlqar aliyev"


def test_train_and_dev_cities_are_disjoint() -> None:
    train = {(c.name, c.code) for c in city_pool("train").cities}
    dev = {(c.name, c.code) for c in city_pool("dev").cities}
    assert len(train) > 20000 and len(dev) > 5000
    assert len(train & dev) < 0.1 * len(dev)  # only namesakes (two Springfields) may meet


@pytest.mark.parametrize(
    ("locale", "lines", "country"),
    [
        ("en_US", ["4922 Rose Estates", "Lewismouth, GU 84139"], "US"),
        ("en_AU", ["3/934 Wagner Strip", "Robertshire, SA, 0868"], "AU"),
        ("en_GB", ["Flat 0", "Lewis Valley", "Debraborough", "N1 7SD"], "GB"),
    ],
)
def test_invented_towns_become_real_ones_of_the_same_country(locale: str, lines: list[str], country: str) -> None:
    pool = city_pool("train")
    real_names = {c.name for c in pool.cities if c.code == country}
    out = swap_city(locale, lines, pool, random.Random(3))
    assert out[0] == lines[0]
    if country == "GB":
        assert out[-2] in real_names and out[-1] == "N1 7SD"
    else:
        town, _, rest = out[-1].partition(",")
        assert town in real_names
        assert rest.split()[-1] == lines[-1].split()[-1]  # the postcode stays
        if country == "US":
            assert re.fullmatch(r" [A-Z]{2} 84139", rest)


def test_other_locales_keep_their_address() -> None:
    lines = ["Sieringgasse 28", "1234 Wien"]
    assert swap_city("de_AT", lines, city_pool("train"), random.Random(1)) == lines


@pytest.mark.parametrize(
    ("found", "expected_found", "expected_covered"),
    [
        ([], 0, 0),  # nothing redacted
        ([(0, 10)], 1, 10),  # exact
        ([(1, 10)], 1, 9),  # 90 % of the characters still counts as found
        ([(2, 10)], 0, 8),  # 80 % does not
        ([(0, 4), (4, 10)], 1, 10),  # two adjacent detections cover one span
        ([(20, 30)], 0, 0),  # elsewhere
    ],
)
def test_coverage_counts_spans_and_characters(
    found: list[tuple[int, int]], expected_found: int, expected_covered: int
) -> None:
    from training.pii_ner.compare import coverage

    c = coverage([(0, 10, "PERSON")], found)["PERSON"]
    assert (c["spans"], c["found"], c["chars"], c["chars_covered"]) == (1, expected_found, 10, expected_covered)
