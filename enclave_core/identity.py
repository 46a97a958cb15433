"""Who is asking: the principal every request and CLI command acts as."""

from __future__ import annotations

from dataclasses import dataclass

from enclave_core.vectorstore.base import AccessScope

__all__ = ["ADMIN_ROLE", "AUDITOR_ROLE", "LOCAL_ADMIN", "REVEAL_ROLE", "Principal"]

ADMIN_ROLE = "admin"
AUDITOR_ROLE = "auditor"
REVEAL_ROLE = "pii:reveal"


@dataclass(frozen=True)
class Principal:
    name: str
    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    auth: str = "none"  # how the identity was established: api-key | oidc | local
    # The identity provider's stable id for this user (an OIDC token's issuer and ``sub``); the
    # name is only a display name and may be chosen by someone else (``preferred_username``).
    subject: str = ""

    @property
    def key(self) -> str:
        """What per-user records (jobs, conversations, rate-limit buckets) are keyed on:
        the way the user authenticated plus a stable id, never the display name alone, so an
        SSO user whose name equals an API-key user's name is a different user."""
        return f"{self.auth}:{self.subject or self.name}"

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def scope(self) -> AccessScope:
        """The retrieval scope is derived from the identity alone, never from request fields."""
        if self.is_admin:
            return AccessScope.unrestricted()
        # "*" in a document's ACL means any authenticated principal.
        return AccessScope(groups=self.groups | {"*"})


# The CLI on the appliance host acts as this configured local administrator.
LOCAL_ADMIN = Principal("local-admin", frozenset(), frozenset({ADMIN_ROLE, AUDITOR_ROLE}), auth="local")
