"""PII redaction (Presidio + spaCy en_core_web_sm, offline): before anything is embedded or stored,
and as the output guard on answers.

Importing this package is cheap: Presidio and spaCy load when a Redactor is first used
(or on ``Redactor.warm_up()``), once per process.

    redactor = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    redactor.redact("Call Jane Roe at 555-867-5309").text  # 'Call <PERSON> at <PHONE_NUMBER>'
"""

from enclave_core.redaction.policy import (
    NER_ENTITIES,
    SUPPORTED_ENTITIES,
    DenyRule,
    EntityRule,
    Operator,
    RedactionPolicy,
    load_redaction_policy,
    parse_redaction_policy,
)
from enclave_core.redaction.redactor import PLACEHOLDER_PATTERN, Detection, Redacted, Redactor

__all__ = [
    "NER_ENTITIES",
    "PLACEHOLDER_PATTERN",
    "SUPPORTED_ENTITIES",
    "DenyRule",
    "Detection",
    "EntityRule",
    "Operator",
    "Redacted",
    "RedactionPolicy",
    "Redactor",
    "load_redaction_policy",
    "parse_redaction_policy",
]
