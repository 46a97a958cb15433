"""Tests for enclave_core.pseudonymize: per-collection modes on top of a (fake) redactor and a real vault.

The fake redactor "detects" a fixed list of exact substrings, so the tests are about what replaces
them, not about detection quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from enclave_core.errors import PolicyError
from enclave_core.policy.loader import policies_dir
from enclave_core.pseudonymize import CollectionPii, PiiPolicy, Pseudonymizer
from enclave_core.redaction import Redacted
from enclave_core.redaction.redactor import Detection
from enclave_core.vault import Vault

TERMS = {
    "Ann Smith": "PERSON",
    "ann smith": "PERSON",
    "Bob Jones": "PERSON",
    "Carol White": "PERSON",
    "555-0143": "PHONE_NUMBER",
    "555 0143": "PHONE_NUMBER",
    "ann@example.org": "EMAIL_ADDRESS",
    "Springfield": "LOCATION",
}


@dataclass(frozen=True)
class _Rule:
    placeholder: str


class _Policy:
    def rule(self, entity: str) -> _Rule:
        return _Rule(f"<{entity}>")


class FakeRedactor:
    """Finds the TERMS as exact substrings (non-overlapping, sorted by start)."""

    def __init__(self) -> None:
        self.policy = _Policy()
        self.detect_calls = 0
        self.redact_calls = 0

    def _find(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        for term, entity in TERMS.items():
            start = text.find(term)
            while start != -1:
                found.append(Detection(start, start + len(term), entity, 0.9))
                start = text.find(term, start + len(term))
        found.sort(key=lambda d: d.start)
        return found

    def detect_many(self, texts: Sequence[str]) -> list[list[Detection]]:
        self.detect_calls += 1
        return [self._find(t) for t in texts]

    def redact_many(self, texts: Sequence[str]) -> list[Redacted]:
        self.redact_calls += 1
        out = []
        for text in texts:
            counts: dict[str, int] = {}
            for d in reversed(self._find(text)):
                text = text[: d.start] + f"<{d.entity}>" + text[d.end :]
                counts[d.entity] = counts.get(d.entity, 0) + 1
            out.append(Redacted(text, dict(sorted(counts.items()))))
        return out


POLICY = PiiPolicy(
    default=CollectionPii("pseudonymize"),
    collections={
        "legal": CollectionPii("redact"),
        "crm": CollectionPii("pseudonymize", frozenset({"LOCATION", "EMAIL_ADDRESS"})),
        "press": CollectionPii("redact", frozenset({"LOCATION"})),
    },
)


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "vault", bytes(range(32)))


@pytest.fixture
def redactor() -> FakeRedactor:
    return FakeRedactor()


@pytest.fixture
def pii(redactor: FakeRedactor, vault: Vault) -> Pseudonymizer:
    return Pseudonymizer(redactor, vault, POLICY)  # type: ignore[arg-type]


# -- ingest ---------------------------------------------------------------------------------------


def test_pseudonymize_mode_is_consistent_across_texts_and_documents(
    pii: Pseudonymizer, vault: Vault, redactor: FakeRedactor
) -> None:
    first = pii.process_many(
        "hr",
        ["Ann Smith called Bob Jones.", "Call 555-0143, ann smith said."],
        ["d1", "d1"],
    )
    assert [r.text for r in first] == [
        "<PERSON_1> called <PERSON_2>.",
        "Call <PHONE_NUMBER_1>, <PERSON_1> said.",
    ]
    assert [r.counts for r in first] == [{"PERSON": 2}, {"PERSON": 1, "PHONE_NUMBER": 1}]
    second = pii.process_many("hr", ["Bob Jones met Carol White and Ann Smith at 555 0143 in Springfield."], ["d2"])
    assert second[0].text == "<PERSON_2> met <PERSON_3> and <PERSON_1> at <PHONE_NUMBER_1> in <LOCATION_1>."
    assert second[0].counts == {"LOCATION": 1, "PERSON": 3, "PHONE_NUMBER": 1}
    assert second[0].total == 5
    assert redactor.detect_calls == 2 and redactor.redact_calls == 0  # one batched pass per call
    # The vault holds the values, revealable, and knows which document uses each.
    # (the first spelling seen is what comes back: "555-0143", not "555 0143")
    assert vault.reveal("hr", second[0].text)[0] == (
        "Bob Jones met Carol White and Ann Smith at 555-0143 in Springfield."
    )
    assert sorted(e.value for e in vault.forget_document("hr", "d2")) == ["Carol White", "Springfield"]


def test_each_collection_has_its_own_numbering(pii: Pseudonymizer) -> None:
    pii.process_many("hr", ["Bob Jones"], ["d1"])
    assert pii.process_many("hr", ["Ann Smith"], ["d2"])[0].text == "<PERSON_2>"
    assert pii.process_many("finance", ["Ann Smith"], ["d2"])[0].text == "<PERSON_1>"


def test_texts_without_pii_are_unchanged(pii: Pseudonymizer, vault: Vault) -> None:
    out = pii.process_many("hr", ["Nothing personal here.", ""], ["d1", "d2"])
    assert out == [Redacted("Nothing personal here.", {}), Redacted("", {})]
    assert vault.collections() == []


def test_redact_mode_gives_typed_placeholders_and_creates_no_vault_entries(
    pii: Pseudonymizer, vault: Vault, redactor: FakeRedactor
) -> None:
    out = pii.process_many("legal", ["Ann Smith called 555-0143 from Springfield."], ["d1"])
    assert out[0].text == "<PERSON> called <PHONE_NUMBER> from <LOCATION>."
    assert out[0].counts == {"LOCATION": 1, "PERSON": 1, "PHONE_NUMBER": 1}
    assert redactor.redact_calls == 1
    assert vault.collections() == []
    assert vault.lookup("legal", "PERSON", "Ann Smith") is None


def test_redact_mode_with_keep_leaves_the_kept_type_and_creates_no_entries(pii: Pseudonymizer, vault: Vault) -> None:
    out = pii.process_many("press", ["Ann Smith, Springfield, and Bob Jones, Springfield."], ["d1"])
    assert out[0].text == "<PERSON>, Springfield, and <PERSON>, Springfield."
    assert out[0].counts == {"PERSON": 2}
    assert vault.collections() == []


def test_keep_leaves_an_entity_type_in_clear_in_pseudonymize_mode(pii: Pseudonymizer, vault: Vault) -> None:
    out = pii.process_many("crm", ["Ann Smith <ann@example.org> of Springfield; Bob Jones, 555-0143."], ["d1"])
    assert out[0].text == "<PERSON_1> <ann@example.org> of Springfield; <PERSON_2>, <PHONE_NUMBER_1>."
    assert out[0].counts == {"PERSON": 2, "PHONE_NUMBER": 1}
    assert vault.lookup("crm", "LOCATION", "Springfield") is None  # kept values are not stored
    assert vault.lookup("crm", "EMAIL_ADDRESS", "ann@example.org") is None


def test_doc_ids_must_match_texts(pii: Pseudonymizer) -> None:
    with pytest.raises(ValueError):
        pii.process_many("hr", ["Ann Smith", "Bob Jones"], ["d1"])


# -- questions ------------------------------------------------------------------------------------


def test_query_maps_known_values_to_placeholders_and_unknown_to_typed_without_creating(
    pii: Pseudonymizer, vault: Vault
) -> None:
    pii.process_many("hr", ["Ann Smith lives in Springfield."], ["d1"])
    before = (vault.directory / "hr.vault").read_bytes()
    out = pii.pseudonymize_query("hr", "Did ann smith call Bob Jones at 555-0143 in Springfield?")
    assert out.text == "Did <PERSON_1> call <PERSON> at <PHONE_NUMBER> in <LOCATION_1>?"
    assert out.counts == {"LOCATION": 1, "PERSON": 2, "PHONE_NUMBER": 1}
    assert (vault.directory / "hr.vault").read_bytes() == before
    assert vault.lookup("hr", "PERSON", "Bob Jones") is None
    assert vault.lookup("hr", "PHONE_NUMBER", "555-0143") is None


def test_query_on_an_empty_collection_creates_no_vault(pii: Pseudonymizer, vault: Vault) -> None:
    out = pii.pseudonymize_query("hr", "Where is Ann Smith?")
    assert out == Redacted("Where is <PERSON>?", {"PERSON": 1})
    assert vault.collections() == []


@pytest.mark.parametrize(
    ("collection", "question", "expected"),
    [
        ("legal", "Who is Ann Smith?", "Who is <PERSON>?"),  # redact mode: known values stay typed
        ("crm", "Is Ann Smith in Springfield?", "Is <PERSON_1> in Springfield?"),  # kept in clear
        ("press", "Is Ann Smith in Springfield?", "Is <PERSON> in Springfield?"),
    ],
)
def test_query_follows_the_collection_rule(
    pii: Pseudonymizer, vault: Vault, collection: str, question: str, expected: str
) -> None:
    vault.assign(collection, [("PERSON", "Ann Smith", "d0"), ("LOCATION", "Springfield", "d0")])
    assert pii.pseudonymize_query(collection, question).text == expected


# -- the policy file ------------------------------------------------------------------------------


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pii.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_policy_file_with_a_per_collection_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
version: 1
default:
  mode: redact
collections:
  hr:
    mode: pseudonymize
    keep: [LOCATION, DATE_TIME]
  legal: {}
""",
    )
    policy = PiiPolicy.from_file(path)
    assert policy.default == CollectionPii("redact", frozenset())
    assert policy.rule("hr") == CollectionPii("pseudonymize", frozenset({"LOCATION", "DATE_TIME"}))
    assert policy.rule("legal") == CollectionPii("pseudonymize", frozenset())  # omitted mode: default mode
    assert policy.rule("unlisted") == CollectionPii("redact", frozenset())


def test_the_repository_pii_policy_loads() -> None:
    policy = PiiPolicy.from_file(policies_dir() / "pii.yaml")
    assert policy.default == CollectionPii("pseudonymize", frozenset())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("default: {}\n", "'version' is a required property"),
        ("version: 1\n", "'default' is a required property"),
        ("version: 0\ndefault: {}\n", "at version"),
        ("version: 1\ndefault: {mode: encrypt}\n", "at default/mode"),
        ("version: 1\ndefault: {keep: [person]}\n", "at default/keep/0"),
        ("version: 1\ndefault: {keep: [PERSON, PERSON]}\n", "at default/keep"),
        ("version: 1\ndefault: {colour: red}\n", "'colour' was unexpected"),
        ("version: 1\ndefault: {}\nextra: 1\n", "'extra' was unexpected"),
        ("version: 1\ndefault: {}\ncollections: {HR: {}}\n", "'HR' does not match"),
        ("version: 1\ndefault: {}\ncollections: {hr: {mode: clear}}\n", "at collections/hr/mode"),
        ("version: 1\ndefault:\n", "at default"),
        ("- 1\n- 2\n", "(top level)"),
        ("version: [1\n", "not valid YAML"),
    ],
)
def test_policy_schema_errors(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(PolicyError) as exc:
        PiiPolicy.from_file(path)
    assert str(path) in str(exc.value)
    assert message in str(exc.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        PiiPolicy.from_file(tmp_path / "nope.yaml")
