"""The request id of the work in progress, shared by logs, audit records and responses.

One id ties a request's response header, every log line and every audit record together.
It lives in a context variable so it follows the request through `await`s and into the
threads that `anyio.to_thread` starts (they copy the context), without being passed down
every call. Jobs and CLI commands set their own id the same way.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["REQUEST_ID_HEADER", "current_request_id", "new_request_id", "request_scope", "sanitize_request_id"]

REQUEST_ID_HEADER = "X-Request-ID"

_request_id: ContextVar[str | None] = ContextVar("enclave_request_id", default=None)
# A caller may pass its own id (a proxy's, a tracing system's); it is kept only if it is
# short and plain, so it can never carry text (or personal data) into logs and the audit.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    """A fresh random id: 16 bytes, URL-safe, no timestamp or host in it."""
    return secrets.token_hex(16)


def sanitize_request_id(candidate: str | None) -> str:
    """The caller's id when it is plain enough to trust, otherwise a new one."""
    if candidate and _ACCEPTED.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request (or job, or CLI command) being served, if any."""
    return _request_id.get()


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """Run a block under one request id (a new one unless given)."""
    rid = request_id or new_request_id()
    token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _request_id.reset(token)
