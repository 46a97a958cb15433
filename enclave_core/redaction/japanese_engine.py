"""The Japanese analyzer: GiNZA (spaCy ``ja_ginza``) NER plus the Japanese pattern recognizers.

Loaded lazily, the first time a Redactor meets a Japanese text (GiNZA takes ~10 s and ~500 MB to
load, which an English-only deployment should never pay). GiNZA's bunsetu and compound
pipes are excluded (they run after NER; same entities, measured); the parser stays (see _UNUSED_PIPES).

GiNZA's NER speaks Sekine's extended named-entity labels; only the ones that can be personal data are
mapped, the rest (Company, Position_Vocation, Product, Date, ...) are dropped inside the NLP engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
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
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer, IpRecognizer, SpacyRecognizer

from enclave_core.errors import PolicyError
from enclave_core.redaction.japanese import CORPORATE_WORDS as _CORPORATE_WORDS
from enclave_core.redaction.japanese import business_phone, japanese_recognizers, plausible_japanese_name
from enclave_core.redaction.japanese_gate import NerGate, ner_regions
from enclave_core.redaction.policy import RedactionPolicy

__all__ = ["GINZA_MODEL", "GINZA_TO_ENTITY", "GatedGinzaEngine", "build_ja_analyzer", "shared_ja_nlp_engine"]

logger = logging.getLogger("enclave.redaction")

GINZA_MODEL = "ja_ginza"
LANG = "ja"
# GiNZA label -> the entity names the policy uses (as the English path names them).
GINZA_TO_ENTITY: dict[str, str] = {
    "Person": "PERSON",
    "Province": "LOCATION",
    "City": "LOCATION",
    "County": "LOCATION",
    "GPE_Other": "LOCATION",
    "Postal_Address": "STREET_ADDRESS",
    "Phone_Number": "PHONE_NUMBER",
    "Email": "EMAIL_ADDRESS",
}
_NER_ENTITIES = frozenset(GINZA_TO_ENTITY.values())
# Measured on benchmarks/data/pii_ja (dev + unseen, best of 3, same process): without these two the
# entities are identical and the speed the same (1.01x). Excluding the parser as well changed GiNZA's
# entities (its NER reads the parser's sentence boundaries) and was slower (0.76x), so the parser stays.
# The morphologizer runs after the NER and only tags the gated pieces, whose tags are thrown away (the
# recognizers read the whole text's tokens, tagged by Sudachi), so it is excluded as well.
_UNUSED_PIPES = ("compound_splitter", "bunsetu_recognizer", "morphologizer")

_lock = threading.Lock()
_engine: SpacyNlpEngine | None = None


def shared_ja_nlp_engine() -> SpacyNlpEngine:
    """Load GiNZA once per process and share it between Redactors (PolicyError if not installed)."""
    global _engine
    with _lock:
        if _engine is None:
            try:
                import spacy

                nlp = spacy.load(GINZA_MODEL, exclude=list(_UNUSED_PIPES))
                _use_numpy_blas(nlp)
                # Split mode C makes spaCy's tokenizer split every word again in modes A and B for the
                # "sub_tokens" that only the excluded compound_splitter reads (docs/benchmarks.md, Japanese).
                tokenizer: Any = nlp.tokenizer  # spacy.lang.ja.JapaneseTokenizer
                tokenizer.need_subtokens = False
            except OSError as exc:
                raise PolicyError(
                    f"the policy covers Japanese but spaCy model '{GINZA_MODEL}' is not installed "
                    "(requirements/app.txt: ja-ginza)"
                ) from exc
            labels = set(getattr(nlp.get_pipe("ner"), "labels", ()))
            configuration = NerModelConfiguration(
                model_to_presidio_entity_mapping=GINZA_TO_ENTITY,
                labels_to_ignore=sorted(labels - set(GINZA_TO_ENTITY)),
            )
            # Built around the pipeline loaded above: SpacyNlpEngine.load() would load it again, with every pipe.
            engine = GatedGinzaEngine(
                models=[{"lang_code": LANG, "model_name": GINZA_MODEL}], ner_model_configuration=configuration
            )
            engine.nlp = {LANG: nlp}  # type: ignore[assignment]
            _engine = engine
            logger.info("redaction: GiNZA loaded for Japanese (%s)", ", ".join(nlp.pipe_names))
        return _engine


def _use_numpy_blas(nlp: Any) -> None:
    """Run this pipeline's matrix products through NumPy's BLAS instead of thinc's bundled BLIS.

    GiNZA's tok2vec (width 256, depth 8, maxout 3) spends most of the Japanese redaction time in
    gemm, where BLIS ran 1.2-1.4x slower than NumPy's OpenBLAS on this CPU; the entities were identical
    (docs/benchmarks.md, Japanese ingest). Only GiNZA's models get the new ops, so the
    English spaCy pipeline is untouched.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops


_blas_controller: Any = None


def _one_blas_thread() -> AbstractContextManager[Any]:
    """GiNZA's matrix products on one OpenBLAS thread while it runs.

    Why: with OpenBLAS's default of a thread per core, GiNZA on the 2-core host took 2.0-2.4x the CPU
    and 2.4-3.3x the wall time of one thread (busy host, same texts, identical entities; the threads
    wait for each other on every small gemm, and ingest already runs detection in parallel processes
    beside the embedding). NumPy calls in other threads meanwhile run on one thread too (the limit is
    process-wide); GiNZA itself runs under the redactor's lock, one call at a time.
    """
    global _blas_controller
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - installed with the app's requirements
            return nullcontext()
        _blas_controller = ThreadpoolController()  # scans the loaded libraries once
    limited: AbstractContextManager[Any] = _blas_controller.limit(limits=1, user_api="blas")
    return limited


class GatedGinzaEngine(SpacyNlpEngine):
    """GiNZA that runs its NER only on the sentences that can hold a name (``japanese_gate``).

    Every text is tokenised whole (Sudachi: the tokens and lemmas the recognizers' context checks
    read); the full pipeline then runs on the selected sentences only, and their entities are mapped
    back onto the whole text. ``gate`` is a class attribute so that the benchmark can compare both paths.
    """

    gate = NerGate()

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return next(iter(self.process_batch([text], language)))[1]

    def process_batch(  # type: ignore[override]
        self, texts: Any, language: str, batch_size: int = 1, n_process: int = 1, as_tuples: bool = False
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        if as_tuples:
            raise ValueError("GatedGinzaEngine does not take (text, context) tuples")
        from spacy.tokens import Span
        from spacy.util import filter_spans

        nlp = self.nlp[language]  # type: ignore[index]
        docs = [nlp.make_doc(str(t)) for t in texts]
        # Each selected piece goes to the pipeline as a copy of the whole text's tokens (Span.as_doc),
        # so Sudachi does not tokenise it a second time; the NER reads only the tokens' text and shape.
        jobs = [
            (k, piece)
            for k, doc in enumerate(docs)
            for start, end in ner_regions(doc, self.gate)
            if (piece := doc.char_span(start, end, alignment_mode="expand")) is not None and len(piece)
        ]
        found: list[list[Any]] = [[] for _ in docs]
        parsed = nlp.pipe((piece.as_doc() for _, piece in jobs), batch_size=max(batch_size, 1))
        with _one_blas_thread():
            for (k, piece), part in zip(jobs, parsed, strict=True):
                for ent in part.ents:
                    found[k].append(Span(docs[k], piece.start + ent.start, piece.start + ent.end, label=ent.label_))
        for doc, spans in zip(docs, found, strict=True):
            doc.ents = filter_spans(spans)
            yield doc.text, self._doc_to_nlp_artifact(doc, language)


class _GinzaRecognizer(SpacyRecognizer):
    """GiNZA's entities, each cut at its first line break (its NER runs a postal address on into the
    next line's label: "...渋谷2-21-1\\n電話"), minus persons no name looks like ("法人番号 0647545285532",
    "小林水産": GiNZA reads a surname plus a business as a person), minus toll-free numbers (0120)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        for r in results:
            cut = text.find("\n", r.start, r.end)
            if cut > r.start:
                r.end = cut
        return [
            r
            for r in results
            if text[r.start : r.end].strip()
            and (r.entity_type != "PERSON" or plausible_japanese_name(text[r.start : r.end], text, r.start, r.end))
            and (r.entity_type != "PHONE_NUMBER" or not business_phone(text[r.start : r.end]))
        ]


class _CardNotCorporateNumber(CreditCardRecognizer):
    """Card numbers, except a 13-digit 法人番号 that happens to pass the Luhn check."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _CORPORATE_WORDS.search(text[max(0, r.start - 16) : r.start])]


def build_ja_analyzer(policy: RedactionPolicy, nlp_engine: SpacyNlpEngine) -> AnalyzerEngine:
    """An AnalyzerEngine for Japanese text holding the recognizers ``policy`` asks for."""
    wanted = set(policy.detected_entities)
    recognizers: list[EntityRecognizer] = []
    ner_wanted = sorted(wanted & _NER_ENTITIES)
    if ner_wanted:
        recognizers.append(_GinzaRecognizer(supported_language=LANG, supported_entities=ner_wanted))
    recognizers.extend(japanese_recognizers(wanted))
    language_neutral = {"CREDIT_CARD": _CardNotCorporateNumber, "IBAN_CODE": IbanRecognizer, "IP_ADDRESS": IpRecognizer}
    for entity, builder in language_neutral.items():
        if entity in wanted:
            recognizers.append(builder(supported_language=LANG))
    for deny in policy.deny_list:
        recognizers.append(
            PatternRecognizer(
                supported_entity=deny.entity,
                deny_list=list(deny.terms),
                supported_language=LANG,
                name=f"Deny_{deny.entity}",
            )
        )
    for declared in policy.identifier_patterns:
        recognizers.append(
            PatternRecognizer(
                supported_entity=declared.entity,
                name=f"IdentifierPattern_{declared.name}",
                patterns=[Pattern(declared.name, declared.pattern, declared.score)],
                context=list(declared.context_words),
                supported_language=LANG,
                global_regex_flags=re.MULTILINE,
            )
        )
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANG])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANG],
        default_score_threshold=policy.score_threshold,
    )
