"""training/pii_ner/evaluator_frames.py: presidio-evaluator's frames filled with our own values."""

from __future__ import annotations

import random

import pytest

from training.pii_ner.evaluator_frames import load_frames, merge_address, render_frame
from training.pii_ner.generate import Pools, generate


@pytest.fixture(scope="module")
def pools() -> Pools:
    return Pools(7)


def test_every_frame_renders_with_spans_on_word_boundaries(pools: Pools) -> None:
    frames = load_frames()
    assert len(frames) >= 200  # 210 in presidio-evaluator 0.3.2
    rng = random.Random(3)
    labels: set[str] = set()
    for frame in frames:
        sample = render_frame(frame, pools, rng)
        text = str(sample["text"])
        assert "{{" not in text
        previous_end = 0
        for start, end, label in sample["spans"]:  # type: ignore[attr-defined]
            assert previous_end <= start < end <= len(text)
            assert text[start:end].strip() == text[start:end], (frame, text[start:end])
            labels.add(label)
            previous_end = end
    assert labels == {"PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE", "ORG"}


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        # number + street name + town: one address
        (
            "at 12 High St, Leeds now",
            [[3, 5, "STREET_ADDRESS"], [6, 13, "STREET_ADDRESS"], [15, 20, "GPE"]],
            [[3, 20, "STREET_ADDRESS"]],
        ),
        # a town on its own, far from any street, stays a place
        (
            "Leeds and 12 High St",
            [[0, 5, "GPE"], [10, 12, "STREET_ADDRESS"], [13, 20, "STREET_ADDRESS"]],
            [[0, 5, "GPE"], [10, 20, "STREET_ADDRESS"]],
        ),
        # two people side by side are not merged
        ("Ann Lee, Bo Chan", [[0, 7, "PERSON"], [9, 16, "PERSON"]], [[0, 7, "PERSON"], [9, 16, "PERSON"]]),
    ],
)
def test_address_parts_merge_into_one_span(text: str, spans: list[list[object]], expected: list[list[object]]) -> None:
    assert merge_address(spans, text) == expected


def test_share_of_frame_samples_follows_the_option() -> None:
    samples = generate(400, seed=11, evaluator_share=0.25)
    share = sum(str(s["template"]).startswith("E") for s in samples) / len(samples)
    assert 0.18 < share < 0.32
    assert not any(str(s["template"]).startswith("E") for s in generate(100, seed=11))
