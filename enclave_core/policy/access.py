"""Collection-level access rules from ``policies/access.yaml``.

Two layers decide what a principal sees: this policy (may the principal read, write or
administer a collection at all?) and each document's ACL, enforced inside the vector search
by a payload filter (``Principal.scope()``). Both derive from the authenticated identity only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from enclave_core.errors import AccessDenied
from enclave_core.identity import Principal
from enclave_core.policy.loader import load_policy_file

__all__ = ["ANY", "AccessPolicy", "Action", "CollectionRule"]

ANY = "*"
Action = Literal["read", "write", "admin"]


@dataclass(frozen=True)
class CollectionRule:
    read: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()
    admin: frozenset[str] = frozenset()

    def groups_for(self, action: Action) -> frozenset[str]:
        # Administering implies writing, writing implies reading.
        if action == "read":
            return self.read | self.write | self.admin
        if action == "write":
            return self.write | self.admin
        return self.admin


def _rule(data: dict[str, list[str]] | None) -> CollectionRule:
    data = data or {}
    return CollectionRule(*(frozenset(data.get(k, [])) for k in ("read", "write", "admin")))


@dataclass(frozen=True)
class AccessPolicy:
    default: CollectionRule
    collections: dict[str, CollectionRule]
    version: str

    @classmethod
    def from_file(cls, path: Path) -> AccessPolicy:
        data = load_policy_file(path, "access")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(
            default=_rule(data.get("default")),
            collections={name: _rule(rule) for name, rule in (data.get("collections") or {}).items()},
            version=f"{data['version']}:{digest}",
        )

    def rule(self, collection: str) -> CollectionRule:
        return self.collections.get(collection, self.default)

    def allows(self, principal: Principal, action: Action, collection: str) -> bool:
        if principal.is_admin:
            return True
        groups = self.rule(collection).groups_for(action)
        return ANY in groups or bool(groups & principal.groups)

    def require(self, principal: Principal, action: Action, collection: str) -> None:
        if not self.allows(principal, action, collection):
            raise AccessDenied(f"'{principal.name}' may not {action} collection '{collection}'")
