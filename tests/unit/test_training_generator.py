"""training/pii_ner: presidio-evaluator's generator over our own identities, and the dev sets."""

from __future__ import annotations

import pytest

from training.pii_ner.devset import EVALUATOR_LABELS, build
from training.pii_ner.evaluator_generator import evaluator_records, people, training_samples
from training.pii_ner.generate import Pools, generate


@pytest.fixture(scope="module")
def records() -> list[dict[str, object]]:
    return evaluator_records(150, seed=5, n_people=200)


def test_people_carry_the_columns_the_generator_reads() -> None:
    rows = people(Pools(3), 20)
    for row in rows:
        for column in ("first_name", "last_name", "person", "street_name", "city", "country", "organization"):
            assert row[column], column
        assert (row["first_name_female"] or row["first_name_male"]) == row["first_name"]


def test_the_identity_table_and_company_list_are_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import presidio_evaluator.data_generator.faker_extensions.providers as providers
    import presidio_evaluator.data_generator.presidio_sentence_faker as sentence_faker

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("presidio-evaluator's own data was read")

    monkeypatch.setattr(sentence_faker, "load_fake_person_df", refuse)
    monkeypatch.setattr(providers.OrganizationProvider, "load_organizations", refuse)
    recs = evaluator_records(200, seed=6, n_people=50)
    assert any(s["entity_type"] == "ORGANIZATION" for r in recs for s in r["spans"])  # type: ignore[attr-defined]


def test_records_are_in_the_benchmark_shape_with_exact_offsets(records: list[dict[str, object]]) -> None:
    for rec in records:
        text = str(rec["full_text"])
        for span in rec["spans"]:  # type: ignore[attr-defined]
            # its lower-casing of a sentence lower-cases the values, not the text: compare folded
            assert text[span["start_position"] : span["end_position"]].lower() == str(span["entity_value"]).lower()


def test_training_samples_use_training_labels_and_merge_addresses() -> None:
    samples = training_samples(120, seed=9)
    labels: set[str] = set()
    for sample in samples:
        text = str(sample["text"])
        previous_end = 0
        for start, end, label in sample["spans"]:  # type: ignore[attr-defined]
            assert previous_end <= start < end <= len(text)
            labels.add(label)
            previous_end = end
    assert labels <= {"PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE", "ORG"}
    assert {"PERSON", "STREET_ADDRESS", "GPE"} <= labels
    first, again = training_samples(20, seed=9), training_samples(20, seed=9)
    assert [s["spans"] for s in first] == [s["spans"] for s in again]  # dates in the text follow the clock


def test_share_of_generator_samples_follows_the_option() -> None:
    samples = generate(300, seed=11, generator_share=0.2)
    assert len(samples) == 300
    assert sum(str(s["template"]).startswith("G") for s in samples) == 60


def test_frames_dev_set_labels_every_slot_like_presidio_evaluator() -> None:
    recs = build(60, seed=4)
    types = {s["entity_type"] for r in recs for s in r["spans"]}
    assert types <= set(EVALUATOR_LABELS.values())
    for rec in recs:
        text = rec["full_text"]
        for span in rec["spans"]:
            assert text[span["start_position"] : span["end_position"]] == span["entity_value"]
