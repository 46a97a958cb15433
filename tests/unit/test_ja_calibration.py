"""The Japanese refusal calibration's inputs and scoring (the run itself is `python -m benchmarks.ja_calibration`)."""

from __future__ import annotations

from benchmarks.ja_calibration import _accuracy, load_unanswerable
from benchmarks.ja_retrieval import load_questions


def test_unanswerable_questions_are_split_and_distinct_from_the_retrieval_set() -> None:
    rows = load_unanswerable()
    assert {r["split"] for r in rows} == {"dev", "heldout"}
    assert len({r["id"] for r in rows}) == len(rows)
    assert not {r["question"] for r in rows} & {q.text for q in load_questions()}


def test_accuracy_counts_answerable_at_or_above_and_unanswerable_below_the_cut() -> None:
    assert _accuracy([0.9, 0.85], [0.8, 0.86], 0.85) == 0.75
    assert _accuracy([], [], 0.5) == 0.0
