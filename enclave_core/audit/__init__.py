"""The audit trail: what was asked, what was retrieved, by whom, and what changed."""

from enclave_core.audit.log import AuditLog, VerifyResult

__all__ = ["AuditLog", "VerifyResult"]
