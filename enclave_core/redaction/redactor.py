"""The Redactor: text in, text with typed placeholders out, plus per-type counts (never the values).

Used by ingest before anything is embedded or stored (``redact_many``), and by the gateway as the
output guard on LLM answers (``guard``).

Loading: constructing a Redactor is cheap and does not touch spaCy; the model and the Presidio
analyzer load on first use, or when ``warm_up()`` is called (services should call it at start-up
so the first request does not pay ~5 s). The spaCy model is loaded once per process and shared
by every Redactor; keeping one Redactor per policy is the caller's job.

Thread safety: a Redactor may be used from many threads at once. Loading is guarded by a lock;
the spaCy pass is serialised by a process-wide lock (spaCy does not promise concurrent use of one
pipeline, and under the GIL little is lost); regex recognizers and the span logic share no
mutable state (English patterns compile on first need under a lock, gated_patterns; ``warm_up``
compiles them all, and the Japanese analyzer is warmed when it is built).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from enclave_core.errors import PolicyError
from enclave_core.language import JAPANESE, is_japanese, japanese_runs, latin_runs
from enclave_core.redaction.companies import names_a_brand, names_a_company
from enclave_core.redaction.lookalikes import is_lookalike
from enclave_core.redaction.policy import (
    JAPANESE_ONLY_ENTITIES,
    NER_ENTITIES,
    RedactionPolicy,
    load_redaction_policy,
)

if TYPE_CHECKING:  # Presidio imports spaCy: only at load time, never at import time.
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["PLACEHOLDER_PATTERN", "Detection", "Redacted", "Redactor", "analysis_text"]

logger = logging.getLogger("enclave.redaction")

#: What a placeholder looks like: <PERSON>, <PERSON_7>, <EMAIL_ADDRESS_3F2A9C1B0D> (hash operator).
PLACEHOLDER_PATTERN = re.compile(r"<[A-Z][A-Z0-9_]*>")

_MAX_SEGMENT_CHARS = 50_000  # spaCy memory grows with doc length; long texts are cut at line breaks
_MIN_HASH_KEY_BYTES = 16
_HASH_HEX_CHARS = 10
_SINGLE_TEXT_BATCH = 8  # segments of one text per nlp.pipe call in ``redact`` (most texts are one segment)
_T = TypeVar("_T")
_NLP_LOCK = threading.Lock()  # one spaCy pipeline per process (engine.shared_nlp_engine)
# Detections a brand name can be mistaken for ("Porsche Taycan" as a person, "Microsoft Surface Pro 9" as an address).
_BRAND_CHECKED = frozenset({"PERSON", "LOCATION", "STREET_ADDRESS"})
# Synthetic text run once at load time so every recognizer compiles its regexes and tldextract
# reads its bundled suffix list before concurrent use.
_WARM_UP_TEXT = (
    "Jane Roe (DOB 01/02/1980) lives at 1 Main Street, Springfield, IL 62704; call +1 202 555 0143 "
    "or mail jane.roe@example.com, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, "
    "host 10.0.0.1, SSN 078-05-1120, https://example.com."
)
_WARM_UP_TEXT_JA = "山田太郎様（東京都新宿区西新宿2丁目8番1号）の電話は03-1234-5678、メールは taro@example.jp です。"


@dataclass(frozen=True)
class Redacted:
    """Redacted text and how many replacements of each entity type were made (no values, ever)."""

    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Detection:
    """Where a replacement would go: offsets into the input text, the entity type, the score (no value)."""

    start: int
    end: int
    entity: str
    score: float


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    entity: str
    score: float


class Redactor:
    """Detects PII per a :class:`RedactionPolicy` and replaces it (see the module doc for loading/threads)."""

    def __init__(self, policy: RedactionPolicy) -> None:
        """Cheap: validates the hash key if needed, compiles two regexes; spaCy loads on first use."""
        self._policy = policy
        self._hash_key = _resolve_hash_key(policy)
        self._entities = list(policy.detected_entities)
        self._thresholds = {
            name: rule.score_threshold for name, rule in policy.entities.items() if rule.score_threshold is not None
        }
        self._min_threshold = min([policy.score_threshold, *self._thresholds.values()])
        extra = sorted(p for p in policy.placeholders if not PLACEHOLDER_PATTERN.fullmatch(p))
        # Also protected: citation markers ("[1]", "[2][3]") that answers carry; digits in brackets
        # are never a phone number or an ID, and the guard must not break the answer's citations.
        self._protect_re = re.compile(
            "|".join(
                [
                    PLACEHOLDER_PATTERN.pattern,
                    r"\[\d{1,3}\]",
                    *(re.escape(p) for p in sorted(extra, key=len, reverse=True)),
                ]
            )
        )
        allow = sorted(policy.allow_list, key=len, reverse=True)
        self._allow_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in allow) + r")(?!\w)") if allow else None
        )
        self._load_lock = threading.RLock()  # _warm runs inside _get_analyzer for Japanese
        # One analyzer per language, each built on first use (GiNZA only loads when Japanese text comes).
        self._analyzers: dict[str, AnalyzerEngine] = {}
        self._warmed: set[str] = set()
        self._entities_by_language = {
            lang: [e for e in self._entities if lang == JAPANESE or e not in JAPANESE_ONLY_ENTITIES]
            for lang in policy.languages
        }

    @classmethod
    def from_policy_file(cls, path: Path) -> Redactor:
        """Load and validate ``path`` (PolicyError on any problem); spaCy is not loaded yet."""
        return cls(load_redaction_policy(Path(path)))

    @property
    def policy(self) -> RedactionPolicy:
        return self._policy

    @property
    def policy_version(self) -> str:
        """Stored with each redacted chunk, so a policy change can trigger re-redaction."""
        return self._policy.version

    def warm_up(self, languages: Sequence[str] | None = None) -> None:
        """Load spaCy and the recognizers now instead of on the first call (default: English only;
        the Japanese engine loads when the first Japanese text arrives, or when asked for here)."""
        for language in languages or (self._policy.language,):
            self._get_analyzer(language)
            self._warm(language)

    def language_of(self, text: str) -> str:
        """The engine a text goes to: Japanese when the policy covers it and the text reads as Japanese."""
        if JAPANESE in self._policy.languages and is_japanese(text):
            return JAPANESE
        return self._policy.language

    def redact(self, text: str, language: str | None = None) -> Redacted:
        """Redact one text (prefer ``redact_many`` for bulk work).

        ``language``: route it as that language instead of the one its script chooses (one of
        ``policy.languages``; the other script's runs are still read by the other engine): the
        streaming guard checks a window of a growing answer with every route the whole answer may
        end up with, and ends it with the whole answer's, so it releases what ``redact`` would."""
        if language is not None and language not in self._policy.languages:
            raise ValueError(f"the policy does not cover language {language!r}")
        _, segments, spans = self._segment_spans([text], _SINGLE_TEXT_BATCH, language)
        result = _join([self._apply(segment, found) for segment, found in zip(segments, spans, strict=True)])
        if result.counts:
            logger.debug("redacted %d spans: %s", result.total, result.counts)
        return result

    def redact_many(self, texts: Sequence[str], batch_size: int = 32) -> list[Redacted]:
        """Batch path used by ingest: spaCy runs with ``nlp.pipe`` over ``batch_size`` texts at a time.

        Same output as ``[redact(t) for t in texts]``; faster per text because spaCy batches its
        matrix work (see the tests' module doc for the measurement).
        """
        owners, segments, spans = self._segment_spans(texts, batch_size)
        grouped: list[list[Redacted]] = [[] for _ in texts]
        for owner, segment, found in zip(owners, segments, spans, strict=True):
            grouped[owner].append(self._apply(segment, found))
        results = [_join(parts) for parts in grouped]
        totals: Counter[str] = Counter()
        for r in results:
            totals.update(r.counts)
        if totals:
            logger.debug("redacted %d texts, %d spans: %s", len(results), sum(totals.values()), dict(totals))
        return results

    def detect_many(
        self, texts: Sequence[str], batch_size: int = 32, language: str | None = None
    ) -> list[list[Detection]]:
        """What ``redact_many`` would replace, as offsets into each text (for evaluation and audits).

        Overlaps are already merged and placeholders / allow-listed words cut out, exactly as in
        ``redact_many``: replacing these spans right to left gives its text (operators aside).
        ``language``: as in ``redact``.
        """
        if language is not None and language not in self._policy.languages:
            raise ValueError(f"the policy does not cover language {language!r}")
        owners, segments, spans = self._segment_spans(texts, batch_size, language)
        out: list[list[Detection]] = [[] for _ in texts]
        offsets = [0 for _ in texts]
        for owner, segment, found in zip(owners, segments, spans, strict=True):
            base = offsets[owner]
            out[owner].extend(Detection(base + s.start, base + s.end, s.entity, s.score) for s in found)
            offsets[owner] = base + len(segment)
        return out

    def _segment_spans(
        self, texts: Sequence[str], batch_size: int, language: str | None = None
    ) -> tuple[list[int], list[str], list[list[_Span]]]:
        """Cut texts into segments, run spaCy in batches, return the final spans of every segment."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        owners: list[int] = []
        segments: list[str] = []
        for index, text in enumerate(texts):
            for segment in _segments(text):
                owners.append(index)
                segments.append(segment)
        seen = {k: analysis_text(s) for k, s in enumerate(segments) if s.strip()}
        by_language: dict[str, list[tuple[int, int, str]]] = {}
        for k, segment in seen.items():
            by_language.setdefault(language or self.language_of(segment), []).append((k, 0, segment))
        found = self._read(by_language, batch_size, {k: [] for k in seen})
        # The other engine reads the other script's runs (security review F1): English names, phones and
        # IDs in Japanese text; Japanese names, bank accounts in English text (GiNZA loads only when
        # such a run appears). A run wholly inside a span already found can add nothing: not read.
        runs_by_language: dict[str, list[tuple[int, int, str]]] = {}
        if JAPANESE in self._policy.languages and self._policy.language != JAPANESE:
            for lang, pending in by_language.items():
                other, find_runs = (
                    (self._policy.language, latin_runs) if lang == JAPANESE else (JAPANESE, japanese_runs)
                )
                for k, _, segment in pending:
                    runs_by_language.setdefault(other, []).extend(
                        (k, start, segment[start:end])
                        for start, end in find_runs(segment)
                        if not any(o.start <= start and end <= o.end for o in found[k])
                    )
        from_runs = self._read(runs_by_language, batch_size, {k: [] for k in seen})
        spans: list[list[_Span]] = [[] for _ in segments]
        for k, segment in seen.items():
            # Both engines' spans, one set of overlap rules.
            spans[k] = self._final_spans(segment, found[k] + _adding(segment, found[k], from_runs[k]))
        return owners, segments, spans

    def _read(
        self, by_language: dict[str, list[tuple[int, int, str]]], batch_size: int, into: dict[int, list[_Span]]
    ) -> dict[int, list[_Span]]:
        """Each engine reads its pieces (segment, offset in it, piece) with ``nlp.pipe``; the spans, shifted
        to segment offsets, go to ``into[segment]``."""
        for lang, pending in by_language.items():
            if not pending:
                continue
            analyzer = self._get_analyzer(lang)
            for chunk in _batched(pending, batch_size):
                batch = [piece for _, _, piece in chunk]
                with _NLP_LOCK:
                    artifacts = [
                        art for _, art in analyzer.nlp_engine.process_batch(batch, lang, batch_size=batch_size)
                    ]
                for (k, offset, piece), art in zip(chunk, artifacts, strict=True):
                    into[k].extend(
                        _Span(offset + s.start, offset + s.end, s.entity, s.score)
                        for s in self._detect_segment(analyzer, piece, art, lang)
                    )
        return into

    def guard(self, text: str) -> Redacted:
        """Output guard for LLM answers: redact PII that is not already a placeholder.

        Placeholders (``<PERSON>``, ``<PERSON_7>``, configured ones) are never touched, by
        ``redact`` either; what ``guard`` adds is a warning (types and counts only) whenever it
        had to redact, because then the model produced PII that retrieval should not have shown it.
        """
        result = self.redact(text)
        if result.counts:
            logger.warning("output guard redacted %d spans: %s", result.total, result.counts)
        return result

    # --- internals -------------------------------------------------------------------------

    def _get_analyzer(self, language: str | None = None) -> AnalyzerEngine:
        """The language's analyzer, built on first use. English patterns compile when a text first needs
        them (gated_patterns, under a lock): a one-question CLI call compiles few; ``warm_up`` compiles all."""
        language = language or self._policy.language
        analyzer = self._analyzers.get(language)
        if analyzer is not None:
            return analyzer
        with self._load_lock:
            if language not in self._analyzers:
                from enclave_core.redaction.light_import import import_presidio

                import_presidio()  # without PyTorch/transformers when it can: seconds of start-up
                if language == JAPANESE:
                    from enclave_core.redaction import japanese_engine  # heavy: GiNZA

                    built = japanese_engine.build_ja_analyzer(self._policy, japanese_engine.shared_ja_nlp_engine())
                else:
                    from enclave_core.redaction import engine  # heavy: Presidio + spaCy

                    built = engine.build_analyzer(self._policy, engine.shared_nlp_engine())
                self._analyzers[language] = built
                if language == JAPANESE:  # its recognizers' lazy state is made before concurrent use
                    self._warm(language)
                logger.info(
                    "redaction policy %s loaded for %s: %d entity types",
                    self._policy.version,
                    language,
                    len(self._entities_by_language[language]),
                )
            return self._analyzers[language]

    def _warm(self, language: str) -> None:
        """Run the synthetic warm-up text once, so every recognizer has compiled its patterns."""
        with self._load_lock:
            if language in self._warmed:
                return
            analyzer = self._analyzers[language]
            text = _WARM_UP_TEXT_JA if language == JAPANESE else _WARM_UP_TEXT
            with _NLP_LOCK:
                artifacts = analyzer.nlp_engine.process_text(text, language)
            analyzer.analyze(
                text=text, language=language, entities=self._entities_by_language[language], nlp_artifacts=artifacts
            )
            self._warmed.add(language)

    def _detect_segment(
        self, analyzer: AnalyzerEngine, text: str, artifacts: NlpArtifacts, language: str = "en"
    ) -> list[_Span]:
        """Analyzer results above their thresholds, not yet merged (``_final_spans`` does that once per
        segment, over every engine's spans).

        The shape checks (company and brand names, look-alike numbers) read English and Latin-script
        text; on the Japanese path the recognizers make their own context checks instead."""
        results = analyzer.analyze(
            text=text,
            language=language,
            entities=self._entities_by_language[language],
            score_threshold=self._min_threshold,
            nlp_artifacts=artifacts,
        )
        return [
            _Span(r.start, r.end, r.entity_type, r.score)
            for r in results
            if r.score >= self._thresholds.get(r.entity_type, self._policy.score_threshold)
            and not (
                self._policy.shape_checks
                and language != JAPANESE
                and (
                    (r.entity_type == "PERSON" and names_a_company(text, r.end))
                    or (r.entity_type in _BRAND_CHECKED and names_a_brand(text[r.start : r.end]))
                    or is_lookalike(text, r.start, r.end, r.entity_type)
                )
            )
        ]

    def _final_spans(self, text: str, spans: list[_Span]) -> list[_Span]:
        """Cut protected text out of detections, then merge overlaps."""
        protected = [m.span() for m in self._protect_re.finditer(text)]
        allowed = [m.span() for m in self._allow_re.finditer(text)] if self._allow_re else []
        pieces: list[_Span] = []
        for span in spans:
            if span.entity in NER_ENTITIES:
                # NER spans are fuzzy ("Enclave Pro", "PERSON> Smith"): cut the protected words out.
                holes = protected + allowed
            else:
                # Structured identifiers are atomic: an allow-listed word inside an e-mail does not
                # expose the rest of it; only a detection wholly inside an allowed term is dropped.
                if any(a <= span.start and span.end <= b for a, b in allowed):
                    continue
                holes = protected
            pieces.extend(_subtract(text, span, holes))
        return _resolve_overlaps(pieces)

    def _apply(self, text: str, merged: list[_Span]) -> Redacted:
        """Substitute the final spans right to left."""
        counts: Counter[str] = Counter()
        out = text
        for span in reversed(merged):
            out = out[: span.start] + self._replacement(span, text[span.start : span.end]) + out[span.end :]
            counts[span.entity] += 1
        return Redacted(out, dict(sorted(counts.items())))

    def _replacement(self, span: _Span, value: str) -> str:
        rule = self._policy.rule(span.entity)
        if rule.operator == "mask":
            return _mask(value, rule.mask_char, rule.keep_last)
        if rule.operator == "hash":
            assert self._hash_key is not None  # checked in __init__
            normalised = " ".join(value.split()).casefold().encode()
            digest = hmac.new(self._hash_key, normalised, hashlib.sha256).hexdigest()
            return f"<{span.entity}_{digest[:_HASH_HEX_CHARS].upper()}>"
        return rule.placeholder


def _resolve_hash_key(policy: RedactionPolicy) -> bytes | None:
    """An unkeyed hash of an SSN or phone number is reversed by enumeration: require a secret key."""
    if not policy.uses_hash:
        return None
    key = os.environ.get(policy.hash_key_env, "").encode()
    if len(key) < _MIN_HASH_KEY_BYTES:
        raise PolicyError(
            f"{policy.source}: operator hash needs a secret key of at least {_MIN_HASH_KEY_BYTES} "
            f"bytes in ${policy.hash_key_env}"
        )
    return key


def _subtract(text: str, span: _Span, holes: list[tuple[int, int]]) -> list[_Span]:
    """``span`` minus ``holes``, each remainder trimmed of spaces/punctuation; empty remainders vanish."""
    parts = [(span.start, span.end)]
    for h_start, h_end in holes:
        if h_end <= span.start or h_start >= span.end:
            continue
        next_parts = []
        for p_start, p_end in parts:
            if h_end <= p_start or h_start >= p_end:
                next_parts.append((p_start, p_end))
                continue
            if p_start < h_start:
                next_parts.append((p_start, h_start))
            if h_end < p_end:
                next_parts.append((h_end, p_end))
        parts = next_parts
    if parts == [(span.start, span.end)]:
        return [span]
    out = []
    for p_start, p_end in parts:
        while p_start < p_end and not text[p_start].isalnum():
            p_start += 1
        while p_end > p_start and not text[p_end - 1].isalnum():
            p_end -= 1
        if p_start < p_end:
            out.append(_Span(p_start, p_end, span.entity, span.score))
    return out


def _adding(text: str, own: list[_Span], extra: list[_Span]) -> list[_Span]:
    """The second engine's spans that add something: not wholly inside one of the segment engine's own
    (which then names the type: a Japanese phone stays PHONE_NUMBER, not the English engine's UK_NHS),
    and no all-capitals Latin name ("CSIRT", "NTT": spaCy calls a lone acronym a PERSON)."""
    return [
        span
        for span in extra
        if not any(o.start <= span.start and span.end <= o.end for o in own)
        and not (span.entity in NER_ENTITIES and _is_acronym(text[span.start : span.end]))
    ]


def _is_acronym(value: str) -> bool:
    return value.isascii() and not any(c.islower() for c in value)


def _resolve_overlaps(spans: list[_Span]) -> list[_Span]:
    """Overlapping detections become one span covering all of them (never leak a fragment).

    Its type is the longest member's, so a STREET_ADDRESS swallows the LOCATION "Springfield"
    inside it and a CREDIT_CARD beats a phone-shaped piece of it. On equal length a pattern
    recognizer beats spaCy (its NER scores are a constant 0.85, not a confidence), then the score.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[_Span] = []
    cluster: list[_Span] = []
    cluster_end = -1
    for span in [*ordered, None]:
        if span is not None and cluster and span.start < cluster_end:
            cluster.append(span)
            cluster_end = max(cluster_end, span.end)
            continue
        if cluster:
            best = max(cluster, key=lambda s: (s.end - s.start, s.entity not in NER_ENTITIES, s.score))
            merged.append(_Span(cluster[0].start, cluster_end, best.entity, best.score))
        if span is not None:
            cluster = [span]
            cluster_end = span.end
    return merged


def _mask(value: str, char: str, keep_last: int) -> str:
    """Mask letters and digits, keep separators (so "4111-1111" stays readable as a shape)."""
    out = []
    visible = 0
    for ch in reversed(value):
        if not ch.isalnum():
            out.append(ch)
        elif visible < keep_last:
            out.append(ch)
            visible += 1
        else:
            out.append(char)
    return "".join(reversed(out))


# A line break or tab written out as two characters (JSON exports, logs, CSV cells:
# "12 High St\\nLeeds"). spaCy splits words at whitespace only, so the street and the town would be
# one token and no entity could end between them.
_WRITTEN_OUT_BREAK = re.compile(r"\\[nrt]")


def analysis_text(text: str) -> str:
    """What the detectors read: ``text`` with written-out breaks as real whitespace, same length
    (so every detected offset is an offset into ``text``, which is what gets redacted)."""
    if "\\" not in text:
        return text
    return _WRITTEN_OUT_BREAK.sub(lambda m: " \t" if m.group()[1] == "t" else " \n", text)


def _segments(text: str, limit: int | None = None) -> list[str]:
    """Pieces of at most ``limit`` chars that concatenate back to ``text``, cut at a line break or space."""
    limit = limit or _MAX_SEGMENT_CHARS
    if len(text) <= limit:
        return [text]
    pieces = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = window.rfind("\n", limit // 2)
        if cut < 0:
            cut = max(window.rfind(" ", limit // 2), window.rfind("\t", limit // 2))
        cut = cut + 1 if cut >= 0 else limit
        pieces.append(text[start : start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def _join(parts: list[Redacted]) -> Redacted:
    if len(parts) == 1:
        return parts[0]
    counts: Counter[str] = Counter()
    for p in parts:
        counts.update(p.counts)
    return Redacted("".join(p.text for p in parts), dict(sorted(counts.items())))


def _batched(items: list[_T], size: int) -> Iterator[list[_T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
