"""Keep room for the audit trail: refuse writes (503) before the audit volume fills up.

Every request that changes something, and every search or question, writes an audit record; when
the disk holding the audit log is full, nothing can be served. So, measured on the filesystem of
``<data_dir>/audit`` at each request:

- below ``audit.min_free_mb`` (the reserve), writes get 503: uploads, deletes, ACL changes, and
  every other method than GET/HEAD/OPTIONS except the reads listed below;
- reads keep working: GET/HEAD/OPTIONS, and the reads that POST (``READ_POSTS``: searches and
  questions, which write one audit record each) until the free space falls below
  ``audit.floor_mb``; below that floor only GET/HEAD/OPTIONS are served.

A route is a write unless it is listed here as a read: a new route is covered by default.
"""

from __future__ import annotations

from enclave_core.audit.log import free_bytes
from enclave_core.errors import DependencyUnavailable
from enclave_core.settings import Settings

__all__ = ["READ_METHODS", "READ_POSTS", "AuditSpaceLow", "check_audit_reserve", "is_write"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_POSTS = frozenset({"/v1/search", "/v1/query", "/v1/chat", "/v1/chat/completions"})
_MB = 1 << 20


class AuditSpaceLow(DependencyUnavailable):
    """The audit volume is below its reserve (503): writes wait until an operator frees space."""


def is_write(method: str, path: str) -> bool:
    return method.upper() not in READ_METHODS and path.rstrip("/") not in READ_POSTS


def check_audit_reserve(settings: Settings, method: str, path: str) -> None:
    """Raise AuditSpaceLow if this request may not run with the free space left for the audit log."""
    if method.upper() in READ_METHODS:
        return
    audit = settings.audit
    needed = audit.min_free_mb if is_write(method, path) else audit.floor_mb
    if not needed:
        return
    free = free_bytes(settings.audit_dir)
    if free >= needed * _MB:
        return
    if is_write(method, path):
        raise AuditSpaceLow(
            "audit volume",
            f"{free // _MB} MB free, below its reserve of {audit.min_free_mb} MB: changes (uploads, deletes, "
            "permission changes) are refused until space is freed; searches and questions still work",
        )
    raise AuditSpaceLow(
        "audit volume",
        f"{free // _MB} MB free, below its floor of {audit.floor_mb} MB: "
        "only reading requests (GET) are served until space is freed",
    )
