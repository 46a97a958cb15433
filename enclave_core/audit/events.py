"""One audit record schema for every writer (gateway, CLI, jobs) and the one helper that writes it.

Before this module each caller put its own fields into ``AuditLog.append``; now every record
is an :class:`AuditEvent` written by :func:`write_event`, so every record has the same core
fields, always present (``null`` when unknown):

``action``, ``principal``, ``outcome``, ``via`` (api | openai | ui | cli | job | gateway) and
``request_id`` (from ``enclave_core.requestctx``: the HTTP request, CLI command or job that
wrote it, so ``enclave audit show REQUEST_ID`` finds a request's whole chain).

Optional core fields appear when set: ``groups`` (the principal's), ``collection``,
``decision`` (allow | deny), ``policy_version`` and ``documents`` (the target document ids).
Action-specific fields (``chunks``, ``answer_sha256``, ``key_id`` ...) go in ``details``
and are written beside the core fields (records stay flat, as older records are), never over
them. The field caps and the hash chain stay in ``AuditLog``.

Callers never put raw personal data in an event: questions arrive pseudonymized, answers and
reasoning are kept as SHA-256 digests only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from enclave_core.requestctx import current_request_id

if TYPE_CHECKING:
    from enclave_core.audit.log import AuditLog
    from enclave_core.identity import Principal

__all__ = ["CORE_FIELDS", "AuditEvent", "matching_records", "request_chain", "write_event"]

# Written by AuditLog itself around the event.
_LOG_FIELDS = frozenset({"seq", "ts", "prev", "hash", "sig"})
CORE_FIELDS = (
    "action",
    "principal",
    "outcome",
    "via",
    "request_id",
    "groups",
    "collection",
    "decision",
    "policy_version",
    "documents",
)
_RESERVED = _LOG_FIELDS | frozenset(CORE_FIELDS)


@dataclass(frozen=True)
class AuditEvent:
    """What happened, by whom, with what result; ``details`` holds the action's own fields."""

    action: str
    outcome: str
    principal: str | None
    via: str | None = None
    groups: Sequence[str] | None = None
    collection: str | None = None
    decision: str | None = None
    policy_version: Any = None
    documents: Sequence[str] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(set(self.details) & _RESERVED)
        if clash:
            raise ValueError(f"audit details may not set core fields: {', '.join(clash)}")

    @classmethod
    def by(
        cls,
        principal: Principal,
        action: str,
        outcome: str,
        *,
        via: str | None = None,
        collection: str | None = None,
        decision: str | None = None,
        policy_version: Any = None,
        documents: Iterable[str] | None = None,
        **details: Any,
    ) -> AuditEvent:
        """An event done by ``principal`` (its name and groups are recorded)."""
        return cls(
            action,
            outcome,
            principal.name,
            via,
            sorted(principal.groups),
            collection,
            decision,
            policy_version,
            None if documents is None else list(documents),
            details,
        )

    def fields(self, request_id: str | None) -> dict[str, Any]:
        """The record's fields in schema order (AuditLog adds seq, ts, prev, hash, sig)."""
        out: dict[str, Any] = {
            "principal": self.principal,
            "outcome": self.outcome,
            "via": self.via,
            "request_id": request_id,
        }
        optional = {
            "groups": None if self.groups is None else list(self.groups),
            "collection": self.collection,
            "decision": self.decision,
            "policy_version": self.policy_version,
            "documents": None if self.documents is None else list(self.documents),
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update(self.details)
        return out


def write_event(log: AuditLog, event: AuditEvent) -> dict[str, Any]:
    """Append ``event`` to ``log`` under the current request id; returns the record written.

    The only caller of ``AuditLog.append`` in the product (tests/unit/test_audit_events.py checks)."""
    return log.append(event.action, **event.fields(current_request_id()))


def request_chain(records: Iterable[dict[str, Any]], request_id: str) -> Iterator[dict[str, Any]]:
    """The records of one request, in the order they were written (``enclave audit show``)."""
    return (r for r in records if r.get("request_id") == request_id)


def matching_records(
    records: Iterable[dict[str, Any]], filters: Mapping[str, str | None], since: str | None, until: str | None
) -> Iterator[dict[str, Any]]:
    """Records whose core fields equal every given filter (``action`` also matches its family:
    ``query`` finds ``query.sources``), written between ``since`` and ``until`` (ISO, inclusive)."""
    wanted = {k: v for k, v in filters.items() if v}
    for record in records:
        if (since and record["ts"] < since) or (until and record["ts"] > until):
            continue
        ok = True
        for key, value in wanted.items():
            got = record.get(key)
            if key == "action" and isinstance(got, str) and got.startswith(value + "."):
                continue
            if got != value:
                ok = False
                break
        if ok:
            yield record
