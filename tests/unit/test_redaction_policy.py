"""The redaction policy file: schema errors name the offending key; typing and cross-field rules.

No spaCy here (fast): the policy layer must be usable, and fail clearly, without loading a model.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from enclave_core.errors import PolicyError
from enclave_core.policy import policies_dir
from enclave_core.redaction import (
    SUPPORTED_ENTITIES,
    EntityRule,
    Redactor,
    load_redaction_policy,
)

DEFAULT_POLICY = policies_dir() / "redaction.yaml"

MINIMAL = """
version: "7"
entities:
  PERSON: {operator: replace}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "redaction.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_default_policy_loads_and_covers_the_required_entities() -> None:
    policy = load_redaction_policy(DEFAULT_POLICY)
    # 2: AGE, name lists, wider address/phone shapes; 3: NER shape checks; 4: national ids, passports, org ids
    assert policy.version == "5"
    assert policy.shape_checks
    assert policy.language == "en"
    assert policy.score_threshold == 0.4
    required = {
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "LOCATION",
        "STREET_ADDRESS",
    }
    assert required <= set(policy.detected_entities)
    for name in required:
        rule = policy.rule(name)
        assert rule.operator == "replace"
        assert rule.placeholder == f"<{name}>"
    assert "Enclave" in policy.allow_list
    # keep entities are not looked for at all
    assert "ORGANIZATION" not in policy.detected_entities
    assert "address" in policy.rule("STREET_ADDRESS").context_words


def test_minimal_policy_gets_defaults(tmp_path: Path) -> None:
    policy = load_redaction_policy(write(tmp_path, MINIMAL))
    assert policy.version == "7"
    assert policy.score_threshold == 0.4
    assert policy.deny_list == ()
    assert policy.allow_list == ()
    assert policy.rule("PERSON") == EntityRule(entity="PERSON", operator="replace", placeholder="<PERSON>")


def test_integer_version_is_a_string(tmp_path: Path) -> None:
    policy = load_redaction_policy(write(tmp_path, MINIMAL.replace('"7"', "3")))
    assert policy.version == "3"


def test_deny_list_entity_without_rule_is_replaced_with_its_type(tmp_path: Path) -> None:
    policy = load_redaction_policy(
        write(
            tmp_path,
            """
            version: "1"
            entities:
              PERSON: {operator: replace}
            deny_list:
              - entity: PROJECT_CODENAME
                terms: [Nightjar]
            """,
        )
    )
    assert policy.rule("PROJECT_CODENAME").placeholder == "<PROJECT_CODENAME>"
    assert "PROJECT_CODENAME" in policy.detected_entities
    assert "<PROJECT_CODENAME>" in policy.placeholders


# (YAML body, text the PolicyError message must contain: the key path or the key)
BAD_POLICIES = [
    pytest.param(
        """
        version: "1"
        entities:
          PERSON: {operator: erase}
        """,
        "entities/PERSON/operator",
        id="unknown-operator",
    ),
    pytest.param(
        """
        version: "1"
        score_threshold: 1.5
        entities: {PERSON: {operator: replace}}
        """,
        "score_threshold",
        id="threshold-above-1",
    ),
    pytest.param(
        """
        version: "1"
        score_threshold: -0.1
        entities: {PERSON: {operator: replace}}
        """,
        "score_threshold",
        id="threshold-below-0",
    ),
    pytest.param(
        """
        version: "1"
        score_threshold: high
        entities: {PERSON: {operator: replace}}
        """,
        "score_threshold",
        id="threshold-not-a-number",
    ),
    pytest.param(
        """
        entities: {PERSON: {operator: replace}}
        """,
        "'version' is a required property",
        id="missing-version",
    ),
    pytest.param(
        """
        version: "1"
        """,
        "'entities' is a required property",
        id="missing-entities",
    ),
    pytest.param(
        """
        version: "1"
        entities: {}
        """,
        "entities",
        id="no-entities",
    ),
    pytest.param(
        """
        version: "1"
        thresold: 0.5
        entities: {PERSON: {operator: replace}}
        """,
        "thresold",
        id="misspelt-top-level-key",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          PERSON: {operator: replace, placehodler: "<P>"}
        """,
        "placehodler",
        id="misspelt-entity-key",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          PERSON: {placeholder: "<P>"}
        """,
        "entities/PERSON",
        id="missing-operator",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          SOCIAL_SECURITY: {operator: replace}
        """,
        "entities/SOCIAL_SECURITY",
        id="entity-without-recognizer",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          person: {operator: replace}
        """,
        "person",
        id="lowercase-entity-name",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          CREDIT_CARD: {operator: mask, mask_char: "##"}
        """,
        "entities/CREDIT_CARD/mask_char",
        id="mask-char-too-long",
    ),
    pytest.param(
        """
        version: "1"
        entities:
          PERSON: {operator: replace, score_threshold: 2}
        """,
        "entities/PERSON/score_threshold",
        id="entity-threshold-out-of-range",
    ),
    pytest.param(
        """
        version: "1"
        language: de
        entities: {PERSON: {operator: replace}}
        """,
        "language",
        id="unsupported-language",
    ),
    pytest.param(
        """
        version: "1"
        entities: {PERSON: {operator: replace}}
        deny_list:
          - entity: PERSON
        """,
        "deny_list/0",
        id="deny-entry-without-terms",
    ),
    pytest.param(
        """
        version: "1"
        entities: {PERSON: {operator: keep}}
        deny_list:
          - {entity: PERSON, terms: [J. Doe]}
        """,
        "deny_list/0",
        id="deny-list-for-kept-entity",
    ),
    pytest.param(
        """
        version: "1"
        entities: {PERSON: {operator: replace}}
        deny_list:
          - {entity: PERSON, terms: [Jordan]}
        allow_list: [jordan]
        """,
        "deny_list/0/terms",
        id="term-both-denied-and-allowed",
    ),
    pytest.param(
        """
        version: "1"
        entities: {PERSON: {operator: replace}}
        allow_list: [Acme, Acme]
        """,
        "allow_list",
        id="duplicate-allow-term",
    ),
    pytest.param(
        """
        - version: "1"
        """,
        "top level",
        id="not-a-mapping",
    ),
    pytest.param(
        """
        version: "1"
        entities: {PERSON: {operator: replace}
        """,
        "not valid YAML",
        id="broken-yaml",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_POLICIES)
def test_invalid_policy_raises_policy_error_naming_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(PolicyError) as excinfo:
        load_redaction_policy(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_missing_file_raises_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        Redactor.from_policy_file(tmp_path / "nope.yaml")


HASH_POLICY = """
version: "1"
hash_key_env: TEST_REDACTION_KEY
entities:
  EMAIL_ADDRESS: {operator: hash}
"""


def test_hash_operator_refuses_to_start_without_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, HASH_POLICY)
    monkeypatch.delenv("TEST_REDACTION_KEY", raising=False)
    with pytest.raises(PolicyError, match="TEST_REDACTION_KEY"):
        Redactor.from_policy_file(path)
    monkeypatch.setenv("TEST_REDACTION_KEY", "short")
    with pytest.raises(PolicyError, match="at least 16 bytes"):
        Redactor.from_policy_file(path)
    monkeypatch.setenv("TEST_REDACTION_KEY", "x" * 32)
    assert Redactor.from_policy_file(path).policy_version == "1"


def test_constructing_a_redactor_does_not_load_spacy() -> None:
    """Import and construction are cheap; the model loads on first use (or warm_up)."""
    code = (
        "import sys\n"
        "from enclave_core.policy import policies_dir\n"
        "from enclave_core.redaction import Redactor\n"
        "r = Redactor.from_policy_file(policies_dir() / 'redaction.yaml')\n"
        "heavy = [m for m in ('spacy', 'presidio_analyzer', 'thinc') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print(r.policy_version)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5"


def test_supported_entities_are_upper_snake_case() -> None:
    assert all(name.isupper() and " " not in name for name in SUPPORTED_ENTITIES)
