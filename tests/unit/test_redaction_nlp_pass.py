"""The English spaCy pass with deferred tagging (enclave_core/redaction/nlp_pass.py), against the full pipeline.

The NER-only pass must give the entities of the full pipeline; tagging later must give its tags and lemmas;
texts that never read tags must stay untagged (that is the saving); thinc's ops must be pinned in a fresh
context (a gateway worker thread).
"""

from __future__ import annotations

import contextvars

import pytest
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from thinc.backends import context_ops

from enclave_core.redaction import engine
from enclave_core.redaction.nlp_pass import TAGGING_PIPES, DeferredTaggingNlpEngine, TaggedOnDemand
from enclave_core.redaction.person import PersonNameRecognizer

TEXTS = [
    "Does aspirin reduce the risk of stroke in patients over 65?",
    "Maria Lopez moved to 12 Baker Street, London, and called 020 7946 0958 on 3 May 2021.",
    "The Smith-Jones lab in Boston reported p < 0.05 for BRCA1 carriers (n = 412).",
    "Contact Dr. Anand Raman at anand.raman@example.org or +44 7700 900123.",
]


@pytest.fixture(scope="module")
def nlp_engine() -> DeferredTaggingNlpEngine:
    shared = engine.shared_nlp_engine()
    assert isinstance(shared, DeferredTaggingNlpEngine)
    return shared


@pytest.mark.parametrize("text", TEXTS)
def test_entities_tags_and_lemmas_match_the_full_pipeline(nlp_engine: DeferredTaggingNlpEngine, text: str) -> None:
    full = nlp_engine.get_nlp("en")(text)  # every enabled pipe, in the pipe
    reference = SpacyNlpEngine._doc_to_nlp_artifact(nlp_engine, full, "en")  # Presidio's own artifacts
    art = nlp_engine.process_text(text, "en")
    assert isinstance(art, TaggedOnDemand)
    assert not art.is_tagged
    assert [(e.start_char, e.end_char, e.label_) for e in art.entities] == [
        (e.start_char, e.end_char, e.label_) for e in reference.entities
    ]
    assert art.scores == reference.scores
    assert art.tokens_indices == reference.tokens_indices
    assert art.lemmas == reference.lemmas
    assert art.keywords == reference.keywords
    assert art.is_tagged
    assert [(t.tag_, t.pos_) for t in art.tokens] == [(t.tag_, t.pos_) for t in full]


def test_batch_gives_the_same_artifacts_as_one_text_at_a_time(nlp_engine: DeferredTaggingNlpEngine) -> None:
    batch = [art for _, art in nlp_engine.process_batch(TEXTS, "en", batch_size=8)]
    for text, art in zip(TEXTS, batch, strict=True):
        one = nlp_engine.process_text(text, "en")
        assert [(e.start_char, e.end_char, e.label_) for e in art.entities] == [
            (e.start_char, e.end_char, e.label_) for e in one.entities
        ]
        assert art.scores == one.scores
        assert art.keywords == one.keywords


def test_the_tagging_pipes_are_the_deferred_ones(nlp_engine: DeferredTaggingNlpEngine) -> None:
    nlp = nlp_engine.get_nlp("en")
    deferred = [name for name in TAGGING_PIPES if name in nlp.pipe_names]
    assert deferred, "the model has no tagging pipes to defer"
    art = nlp_engine.process_text(TEXTS[0], "en")
    assert all(t.tag_ == "" for t in art.tokens)  # not tagged in the pass
    assert "ner" in nlp.pipe_names and "ner" not in deferred


def test_a_name_check_tags_the_doc_and_a_text_without_names_stays_untagged(
    nlp_engine: DeferredTaggingNlpEngine,
) -> None:
    recognizer = PersonNameRecognizer(vocabulary=frozenset({"does", "aspirin", "reduce"}))
    plain = nlp_engine.process_text("does aspirin reduce the risk of stroke?", "en")
    assert isinstance(plain, TaggedOnDemand)
    recognizer.analyze("does aspirin reduce the risk of stroke?", ["PERSON"], plain)
    assert not plain.is_tagged
    named = nlp_engine.process_text("Yesterday Maria Lopez arrived.", "en")
    assert isinstance(named, TaggedOnDemand)
    found = recognizer.analyze("Yesterday Maria Lopez arrived.", ["PERSON"], named)
    assert named.is_tagged
    assert [(r.start, r.end) for r in found] == [(10, 21)]


def test_thinc_ops_are_pinned_in_a_fresh_context(nlp_engine: DeferredTaggingNlpEngine) -> None:
    def in_fresh_context() -> object:
        assert context_ops.get() is None
        nlp_engine.process_text(TEXTS[0], "en")
        return context_ops.get()

    ops = contextvars.Context().run(in_fresh_context)
    assert ops is nlp_engine.get_nlp("en").get_pipe("ner").model.ops
