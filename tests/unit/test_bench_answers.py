"""The answer benchmark's scoring (benchmarks/answers.py) and its labelled question set."""

from __future__ import annotations

import pytest

from benchmarks.answers import facts_present, is_refusal, load_questions, normalise, score_answer, summarise


@pytest.mark.parametrize(
    ("text", "facts", "expected"),
    [
        ("Employees get sixteen weeks of paid leave [1].", [["16 weeks"]], True),
        ("Employees get 16-week leave.", [["16 weeks"]], True),
        ("They get 160 weeks.", [["16 weeks"]], False),
        ("The budget is $1,500 a year.", [["1500"]], True),
        ("It is USD 1 500.", [["1500"]], False),
        ("The company pays 90 percent.", [["90%"]], True),
        ("Availability was 99.97%.", [["99.95%"]], False),
        ("Teams meet on Tuesdays and Thursdays.", [["tuesday"], ["thursday"]], True),
        ("Teams meet on Tuesdays.", [["tuesday"], ["thursday"]], False),
        ("Teams meet on Tuesday and Thursday.", [["tuesday"], ["thursday"]], True),
        ("Connect with NWL-Secure.", [["nwl secure"]], True),
        ("Call +1 (206) 555-0112.", [["555 0112"]], True),
    ],
)
def test_facts_are_matched_after_normalisation(text: str, facts: list[list[str]], expected: bool) -> None:
    assert facts_present(text, facts) is expected


def test_normalise_spells_numbers_and_units_one_way() -> None:
    assert normalise("Twelve Hours, 38,400 USD, 5 per cent") == "12 hour, 38400 usd, 5%"


@pytest.mark.parametrize(
    ("answer", "refused"),
    [
        ("The available documents do not answer this question.", True),
        ("The sources do not mention a dress code.", True),
        ("There is no information about that.", True),
        ("Employees get 16 weeks [1].", False),
    ],
)
def test_refusals_are_recognised(answer: str, refused: bool) -> None:
    assert is_refusal(answer) is refused


def test_score_answer_checks_facts_refusals_and_cited_sources() -> None:
    item = {"answerable": True, "facts": [["16 weeks"]]}
    cits = [{"text": "Travel is booked in TripDesk."}, {"text": "16 weeks of fully paid parental leave"}]
    s = score_answer(item, "You get 16 weeks [2] (see also [1], [7]).", cits)
    assert s["correct"] and not s["refused"] and s["refusal_correct"]
    assert s["cited"] == [1, 2] and s["cited_with_facts"] == [2]
    assert not score_answer(item, "The documents do not answer this. 16 weeks", cits)["correct"]
    no = {"answerable": False, "facts": []}
    assert score_answer(no, "The available documents do not answer this question.", cits)["refusal_correct"]
    assert not score_answer(no, "You get 12 days.", cits)["refusal_correct"]
    assert score_answer(no, "anything", [])["refused"]  # no sources: the product's no-sources answer


def test_summary_rates() -> None:
    rows = [
        {"answerable": True, "correct": True, "refused": False, "refusal_correct": True, "cited": [1],
         "cited_with_facts": [1], "latency_s": 1.0},
        {"answerable": True, "correct": False, "refused": True, "refusal_correct": False, "cited": [],
         "cited_with_facts": [], "latency_s": 3.0},
        {"answerable": False, "correct": False, "refused": True, "refusal_correct": True, "cited": [],
         "cited_with_facts": [], "latency_s": 2.0},
    ]  # fmt: skip
    s = summarise(rows)
    assert s["answer_correctness"] == 0.5 and s["refusal_correctness"] == round(2 / 3, 4)
    assert s["refusal_recall"] == 1.0 and s["false_refusals"] == 0.5 and s["citation_precision"] == 1.0
    assert s["latency"]["p50_ms"] == 2000.0


def test_question_set_is_large_labelled_and_split() -> None:
    dev, test = load_questions(["dev"]), load_questions(["test"])
    everything = dev + test
    assert len(everything) >= 60 and len(test) >= 15
    assert len({q["id"] for q in everything}) == len(everything)  # the held-out part shares no question
    assert sum(not q["answerable"] for q in everything) >= 10
    for q in everything:
        assert q["answerable"] == bool(q["facts"]) == bool(q["source"])
        assert all(isinstance(alts, list) and alts for alts in q["facts"])
    # The README example (printed by `make run`) is a dev question.
    from enclave_cli.run import EXAMPLE_QUESTION

    assert any(q["question"] == EXAMPLE_QUESTION for q in dev)
