"""training/pii_ner/synth_shapes: only presidio-synth's development-half frames, a third of them held back,
address parts merged into whole addresses; training/pii_ner/templates_running has its own negatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.pii_ner import generate as gen
from training.pii_ner import synth_shapes as shapes
from training.pii_ner.templates_running import RUNNING


def test_held_back_ids_are_a_third_of_the_development_ids() -> None:
    ids = list(range(10, 40))
    back = shapes.held_back_ids(ids)
    assert len(back) == 10 and back < set(ids)


def test_without_the_benchmark_folder_there_are_no_frames(tmp_path: Path) -> None:
    assert shapes.synth_templates(tmp_path / "missing.txt") == []


def test_frames_come_only_from_listed_ids_not_held_back(tmp_path: Path) -> None:
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("1\n2\n4\n", encoding="utf-8")
    frames = shapes.synth_templates(ids_file)
    assert [i for i, _ in frames] == [1, 2]  # 4 is the third id: held back
    assert all("{{" not in t for _, t in frames)
    assert shapes.trained_template_ids(ids_file) == {1, 2}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("I live in {{city}}", "I live in {city}"),
        (
            "{{building_number}} {{street_name}}\\n {{city}}\\n {{country}} {{postcode}}",
            "{a_building} {a_street}\n {a_city}\n {a_country} {a_postcode}",
        ),
        ("Hi {{first_name}}, from {{country}}", "Hi {first}, from {country}"),
    ],
)
def test_convert(template: str, expected: str) -> None:
    assert shapes._convert(template) == expected


def test_address_parts_become_one_address_and_a_lone_town_a_place() -> None:
    text = "Anna\n12 Main St\n Suite 4\n Oslo\n at Oslo"
    spans = [[0, 4, "PERSON"], [5, 7, "_ADDR"], [8, 15, "_ADDR"], [17, 24, "_ADDR"], [26, 30, "_ADDR_TOWN"]]
    spans.append([34, 38, "_ADDR_TOWN"])
    merged = shapes.merge_address_parts(text, spans)
    assert merged == [[0, 4, "PERSON"], [5, 30, "STREET_ADDRESS"], [34, 38, "GPE"]]


def test_rendered_frames_carry_only_model_labels() -> None:
    pools = gen.Pools(5)
    labels = set()
    for template in RUNNING:
        sample = gen.render(template, pools)
        labels |= {label for _, _, label in sample["spans"]}  # type: ignore[attr-defined]
    assert labels <= {"PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE", "ORG"}
    assert not gen.unknown_slots(RUNNING)
