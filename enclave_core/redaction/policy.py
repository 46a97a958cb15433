"""The typed redaction policy: what to detect, and what to put in its place.

The YAML file is validated by ``policies/schemas/redaction.schema.json`` (shape, ranges, enums);
this module adds the checks a schema cannot express (entity types we can actually detect,
deny/allow contradictions) and turns the mapping into frozen dataclasses, so a policy object
can be shared between threads without copying.

Importing this module is cheap: no Presidio, no spaCy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

from enclave_core.errors import PolicyError
from enclave_core.policy.loader import load_policy_file

__all__ = [
    "DEFAULT_HASH_KEY_ENV",
    "JAPANESE_ONLY_ENTITIES",
    "LANGUAGES",
    "NER_ENTITIES",
    "OPERATORS",
    "SUPPORTED_ENTITIES",
    "DenyRule",
    "EntityRule",
    "IdentifierPattern",
    "Operator",
    "RedactionPolicy",
    "load_redaction_policy",
    "parse_redaction_policy",
]

Operator = Literal["replace", "mask", "hash", "keep"]
OPERATORS: tuple[Operator, ...] = ("replace", "mask", "hash", "keep")

# Entities found by spaCy's NER (en_core_web_sm); the rest come from pattern recognizers.
NER_ENTITIES: frozenset[str] = frozenset({"PERSON", "LOCATION", "NRP", "ORGANIZATION", "DATE_TIME"})
# Every entity type the engine has a recognizer for (engine.py builds them; a test keeps the two in step).
SUPPORTED_ENTITIES: frozenset[str] = NER_ENTITIES | frozenset(
    {
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "STREET_ADDRESS",
        "DATE_OF_BIRTH",
        "AGE",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "US_ITIN",
        "UK_NHS",
        "UK_NINO",
        "URL",
        "NATIONAL_ID",
        "PASSPORT",
        "ORG_ID",
    }
)

# Entity types the Japanese engine (japanese_engine.py) detects that the English one does not.
JAPANESE_ONLY_ENTITIES: frozenset[str] = frozenset({"BANK_ACCOUNT"})
#: Languages a policy may cover; "en" is the default path (every text that is not detected as Japanese).
LANGUAGES: tuple[str, ...] = ("en", "ja")

DEFAULT_HASH_KEY_ENV = "ENCLAVE_REDACTION_HASH_KEY"
_DEFAULT_THRESHOLD = 0.4


@dataclass(frozen=True)
class EntityRule:
    """How one entity type is handled.

    ``placeholder`` is used by ``replace``; ``mask_char``/``keep_last`` by ``mask``
    (e.g. keep the last 4 digits of a card). ``score_threshold`` overrides the policy-wide one.
    """

    entity: str
    operator: Operator = "replace"
    placeholder: str = ""
    context_words: tuple[str, ...] = ()
    score_threshold: float | None = None
    mask_char: str = "*"
    keep_last: int = 0

    def __post_init__(self) -> None:
        if not self.placeholder:
            object.__setattr__(self, "placeholder", f"<{self.entity}>")

    @property
    def redacts(self) -> bool:
        """False for ``keep``: such entities are not even looked for."""
        return self.operator != "keep"


@dataclass(frozen=True)
class DenyRule:
    """Literal terms always redacted as ``entity`` (whole words, case-insensitive)."""

    entity: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class IdentifierPattern:
    """An admin-declared identifier: ``pattern`` (a compiled-checked regex) redacted as ``entity``.

    With ``context_words`` the default score is below any sane threshold, so a match counts only with
    one of the words within the 5 words before it (Presidio's context enhancer adds 0.35).
    """

    name: str
    pattern: str
    entity: str = "ORG_ID"
    score: float = 0.85
    context_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedactionPolicy:
    """A validated redaction policy; build it with :func:`load_redaction_policy`."""

    version: str
    entities: Mapping[str, EntityRule]
    score_threshold: float = _DEFAULT_THRESHOLD
    language: str = "en"
    # Every language covered; a text detected as Japanese goes to the Japanese engine when "ja" is listed.
    languages: tuple[str, ...] = ("en",)
    deny_list: tuple[DenyRule, ...] = ()
    identifier_patterns: tuple[IdentifierPattern, ...] = ()
    allow_list: tuple[str, ...] = ()
    hash_key_env: str = DEFAULT_HASH_KEY_ENV
    # Reject NER spans no real name, place, address, phone number or age looks like
    # (redaction/plausibility.py): fewer false redactions, a little less recall.
    shape_checks: bool = True
    source: str = field(default="<memory>", compare=False)

    def rule(self, entity: str) -> EntityRule:
        """The rule for ``entity``; deny-list entities not listed under ``entities`` get ``replace``."""
        found = self.entities.get(entity)
        return found if found is not None else EntityRule(entity=entity)

    @property
    def detected_entities(self) -> tuple[str, ...]:
        """Entity types the analyzer must look for (``keep`` entities are skipped: nothing to do)."""
        wanted = {name for name, rule in self.entities.items() if rule.redacts}
        wanted.update(d.entity for d in self.deny_list)
        wanted.update(p.entity for p in self.identifier_patterns)
        return tuple(sorted(wanted))

    @property
    def uses_hash(self) -> bool:
        return any(r.operator == "hash" for r in self.entities.values())

    @property
    def placeholders(self) -> frozenset[str]:
        """Every literal a ``replace`` can produce; text already holding one is left alone."""
        names = set(self.entities) | {d.entity for d in self.deny_list} | {p.entity for p in self.identifier_patterns}
        return frozenset(self.rule(n).placeholder for n in names)


def load_redaction_policy(path: Path) -> RedactionPolicy:
    """Read, schema-validate and type ``path``; raises PolicyError naming the offending key."""
    data = load_policy_file(Path(path), "redaction")
    return parse_redaction_policy(data, source=str(path))


def parse_redaction_policy(data: Mapping[str, Any], source: str = "<memory>") -> RedactionPolicy:
    """Type an already schema-validated mapping and apply the cross-field checks."""
    deny_rules = tuple(
        DenyRule(entity=str(item["entity"]), terms=tuple(str(t) for t in item["terms"]))
        for item in data.get("deny_list") or ()
    )
    patterns = tuple(
        _identifier_pattern(item, i, source) for i, item in enumerate(data.get("identifier_patterns") or ())
    )
    deny_entities = {d.entity for d in deny_rules} | {p.entity for p in patterns}

    languages = tuple(str(x) for x in data.get("languages") or [data.get("language", "en")])
    supported = SUPPORTED_ENTITIES | (JAPANESE_ONLY_ENTITIES if "ja" in languages else frozenset())
    rules: dict[str, EntityRule] = {}
    for name, spec in (data.get("entities") or {}).items():
        spec = spec or {}
        if name not in supported and name not in deny_entities:
            raise PolicyError(
                f"{source}: at entities/{name}: no recognizer for entity type '{name}' "
                f"(supported: {', '.join(sorted(supported))}; "
                "other names must be the target of a deny_list or identifier_patterns entry)"
            )
        threshold = spec.get("score_threshold")
        rules[name] = EntityRule(
            entity=name,
            operator=cast(Operator, spec.get("operator", "replace")),
            placeholder=str(spec.get("placeholder") or ""),
            context_words=tuple(str(w) for w in spec.get("context_words") or ()),
            score_threshold=None if threshold is None else float(threshold),
            mask_char=str(spec.get("mask_char", "*")),
            keep_last=int(spec.get("keep_last", 0)),
        )

    for i, declared in enumerate(patterns):
        if declared.entity in rules and not rules[declared.entity].redacts:
            raise PolicyError(
                f"{source}: at identifier_patterns/{i}: entity '{declared.entity}' has operator keep, "
                "so its matches would never be redacted"
            )
    for i, deny in enumerate(deny_rules):
        if deny.entity in rules and not rules[deny.entity].redacts:
            raise PolicyError(
                f"{source}: at deny_list/{i}: entity '{deny.entity}' has operator keep, "
                "so its deny-list terms would never be redacted"
            )

    allow = tuple(str(t) for t in data.get("allow_list") or ())
    allowed_folded = {t.casefold() for t in allow}
    for i, deny in enumerate(deny_rules):
        clash = sorted(t for t in deny.terms if t.casefold() in allowed_folded)
        if clash:
            raise PolicyError(f"{source}: at deny_list/{i}/terms: {clash} also appear in allow_list")

    return RedactionPolicy(
        version=str(data["version"]),
        entities=MappingProxyType(rules),
        score_threshold=float(data.get("score_threshold", _DEFAULT_THRESHOLD)),
        language="en",
        languages=languages,
        deny_list=deny_rules,
        identifier_patterns=patterns,
        allow_list=allow,
        hash_key_env=str(data.get("hash_key_env", DEFAULT_HASH_KEY_ENV)),
        shape_checks=bool(data.get("shape_checks", True)),
        source=source,
    )


def _identifier_pattern(item: Mapping[str, Any], index: int, source: str) -> IdentifierPattern:
    """Type one ``identifier_patterns`` entry; its regex must compile (PolicyError naming it otherwise)."""
    import regex

    pattern = str(item["pattern"])
    try:
        regex.compile(pattern)
    except regex.error as exc:
        raise PolicyError(f"{source}: at identifier_patterns/{index}/pattern: not a valid regex ({exc})") from None
    context = tuple(str(w) for w in item.get("context_words") or ())
    score = item.get("score")
    return IdentifierPattern(
        name=str(item["name"]),
        pattern=pattern,
        entity=str(item.get("entity") or "ORG_ID"),
        score=float(score) if score is not None else (0.1 if context else 0.85),
        context_words=context,
    )
