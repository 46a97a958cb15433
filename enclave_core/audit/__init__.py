"""The audit trail: what was asked, what was retrieved, by whom, and what changed."""

from enclave_core.audit.events import AuditEvent, request_chain, write_event
from enclave_core.audit.log import AuditLog, VerifyResult

__all__ = ["AuditEvent", "AuditLog", "VerifyResult", "request_chain", "write_event"]
