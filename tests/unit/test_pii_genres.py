"""Our genre PII development set (benchmarks/data/pii_genres) and the bench's label-agnostic scorer."""

from __future__ import annotations

import pytest

from benchmarks.pii import privacy_scores
from benchmarks.pii_genres import GENRES_DIR, NO_PII_GENRE, load_passages, parse_passages

FILES = ("dev.txt", "unseen.txt")


@pytest.mark.parametrize("name", FILES)
def test_every_span_offset_points_at_its_value(name: str) -> None:
    records = load_passages(GENRES_DIR / name)
    assert len(records) >= 20
    for record in records:
        text = record["full_text"]
        assert "[[" not in text and "]]" not in text and "===" not in text
        for span in record["spans"]:
            value = text[span["start_position"] : span["end_position"]]
            assert value == span["entity_value"], record["id"]
            assert value == value.strip() and value, record["id"]


@pytest.mark.parametrize("name", FILES)
def test_ids_unique_and_no_pii_passages_have_no_spans(name: str) -> None:
    records = load_passages(GENRES_DIR / name)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    clean = [r for r in records if r["genre"] == NO_PII_GENRE]
    assert clean and all(not r["spans"] for r in clean)
    assert all(r["spans"] for r in records if r["genre"] != NO_PII_GENRE)


def test_dev_and_unseen_share_no_passage_text() -> None:
    dev = {r["full_text"] for r in load_passages(GENRES_DIR / "dev.txt")}
    unseen = {r["full_text"] for r in load_passages(GENRES_DIR / "unseen.txt")}
    assert not dev & unseen


def test_parse_offsets_and_multiline_values() -> None:
    records = parse_passages(
        "=== a1 cv\nName: [[PERSON:Ann Lee]]\n[[STREET_ADDRESS:1 Main St\nSpringfield]] end\n=== a2 no-pii\nv1.2"
    )
    assert [r["id"] for r in records] == ["a1", "a2"]
    text = records[0]["full_text"]
    assert text == "Name: Ann Lee\n1 Main St\nSpringfield end"
    assert [(s["start_position"], s["end_position"]) for s in records[0]["spans"]] == [(6, 13), (14, 35)]
    assert records[1]["full_text"] == "v1.2"


def test_parse_rejects_unbalanced_markup() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        parse_passages("=== a1 cv\nName: [[PERSON Ann Lee]]")


def _record(text: str, *spans: tuple[str, str]) -> dict[str, object]:
    out = []
    for label, value in spans:
        start = text.index(value)
        out.append(
            {"entity_type": label, "entity_value": value, "start_position": start, "end_position": start + len(value)}
        )
    return {"full_text": text, "spans": out}


@pytest.mark.parametrize(
    ("pred", "recall", "precision"),
    [
        ((8, 16), 1.0, 1.0),  # exact
        ((8, 15), 1.0, 1.0),  # 6 of 7 non-space characters: found
        ((8, 14), 0.0, 1.0),  # 5 of 7 (71 %): missed
        ((8, 13), 0.0, 1.0),  # 4 of 7: missed, though the redaction lies inside the value
        ((4, 16), 1.0, 1.0),  # 8 of 12 inside gold: >= 50 %, right
        ((0, 13), 0.0, 0.0),  # 5 of 13 inside: wrong
    ],
)
def test_privacy_scores_75_and_50_percent_rules(pred: tuple[int, int], recall: float, precision: float) -> None:
    record = _record("Contact Jane Doe today", ("PERSON", "Jane Doe"))
    scores = privacy_scores([record], [[(pred[0], pred[1], "X", 1.0)]])
    assert scores["recall"] == recall
    assert scores["precision"] == precision


def test_privacy_scores_types_outside_pii_count_for_precision_only() -> None:
    record = _record("Acme hired Jane Doe", ("ORGANIZATION", "Acme"), ("PERSON", "Jane Doe"))
    scores = privacy_scores([record], [[(0, 4, "PERSON", 0.9)]], pii_types=frozenset({"PERSON"}))
    assert scores["recall"] == 0.0 and scores["chars_removed_share"] == 0.0
    assert scores["precision"] == 1.0 and scores["precision_vs_pii_only"] == 0.0
