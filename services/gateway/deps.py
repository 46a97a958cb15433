"""Typed dependencies shared by the routes: the wired components and the caller's identity."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from enclave_core.identity import Principal
from enclave_core.keys import KEY_PREFIX, KeyStore
from enclave_core.oidc import OIDCVerifier, TokenInvalid
from enclave_core.policy.access import Action
from enclave_core.runtime import Core
from enclave_core.service import RagService
from ingest import AdminService, Ingestor
from ingest.jobs import JobRunner
from services.gateway.authfail import AuthFailureAuditor
from services.gateway.errors import Unauthenticated
from services.gateway.reserve import check_audit_reserve

__all__ = [
    "AdminDep",
    "AppState",
    "CoreDep",
    "CurrentPrincipal",
    "IngestorDep",
    "JobsDep",
    "RagDep",
    "StateDep",
    "authorize",
    "get_principal",
    "resolve_principal",
]


@dataclass
class AppState:
    core: Core
    ingestor: Ingestor
    keys: KeyStore
    jobs: JobRunner
    admin: AdminService  # the write side: documents, jobs, keys (the read side: RagService)
    oidc: OIDCVerifier | None = None
    auth_failures: AuthFailureAuditor | None = None  # made on first use: failed_auth_auditor()

    def failed_auth_auditor(self) -> AuthFailureAuditor:
        """The gateway's one auditor of failed authentications (per-client aggregation)."""
        if self.auth_failures is None:
            with _STATE_LOCK:
                if self.auth_failures is None:
                    self.auth_failures = AuthFailureAuditor.for_core(self.core)
        return self.auth_failures


_STATE_LOCK = threading.Lock()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.enclave
    return state


async def _state(request: Request) -> AppState:
    # The trivial dependencies are coroutines: FastAPI runs a plain function dependency in the
    # thread pool, one hop per dependency per request (and a worker thread held meanwhile).
    return get_state(request)


StateDep = Annotated[AppState, Depends(_state)]


async def get_core(state: StateDep) -> Core:
    return state.core


async def get_ingestor(state: StateDep) -> Ingestor:
    return state.ingestor


async def get_jobs(state: StateDep) -> JobRunner:
    return state.jobs


async def get_admin(state: StateDep) -> AdminService:
    return state.admin


CoreDep = Annotated[Core, Depends(get_core)]
AdminDep = Annotated[AdminService, Depends(get_admin)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]


def _presented_credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def get_principal(request: Request, state: StateDep) -> Principal:
    """The caller. A valid API key (one SHA-256, a stat of the cached key file, a statvfs for the
    audit reserve) is admitted on the event loop: a plain-function dependency would cost every
    request a hop through the thread pool. SSO tokens (verifying may fetch the IdP's keys) and
    refusals (an audit record, a disk sync) are resolved in the thread pool.

    Resolved once per request: BodyGuard authenticates before the body is read and the route's
    dependency gets the same answer from the request's own scope, not a second verification."""
    scope_state = request.scope.setdefault("state", {})
    admitted = scope_state.get(_ADMITTED)
    if isinstance(admitted, Principal):
        return admitted
    credential = _presented_credential(request)
    principal: Principal | None = None
    if credential and credential.startswith(KEY_PREFIX):
        key = state.keys.authenticate(credential)
        if key is not None:
            principal = _admitted(request, state, key.principal())
    if principal is None:
        principal = await run_in_threadpool(resolve_principal, request, state)
    scope_state[_ADMITTED] = principal
    return principal


# This request's authenticated caller, in its ASGI scope's state, under a key no header, setting or
# other middleware can name (a private object, not a string).
_ADMITTED: Final = object()


def resolve_principal(request: Request, state: AppState) -> Principal:
    """The caller, or Unauthenticated (audited, aggregated per client address); blocking."""
    credential = _presented_credential(request)
    reason = "no credential: send 'Authorization: Bearer <api key>'"
    if credential and credential.startswith(KEY_PREFIX):
        key = state.keys.authenticate(credential)
        if key is not None:
            return _admitted(request, state, key.principal())
        reason = "invalid or revoked API key"
    elif credential and state.oidc is not None:
        try:
            return _admitted(request, state, state.oidc.verify(credential))
        except TokenInvalid as exc:
            reason = str(exc)
    elif credential:
        reason = "invalid API key (and SSO tokens are not configured)"
    # Aggregated per client address: a flood of bad requests cannot flood the audit log.
    client = request.client.host if request.client else None
    state.failed_auth_auditor().denied(client, request.method, request.url.path, reason)
    raise Unauthenticated(reason)


def _admitted(request: Request, state: AppState, principal: Principal) -> Principal:
    """An authenticated caller; a write is refused (503) while the audit volume is below its reserve."""
    check_audit_reserve(state.core.settings, request.method, request.url.path)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_rag(core: CoreDep) -> RagService:
    return RagService(core)


RagDep = Annotated[RagService, Depends(get_rag)]


def authorize(core: Core, principal: Principal, action: Action, collection: str, request: Request) -> None:
    """Collection-level check from the access policy; a refusal is audited, then 403."""
    RagService(core).authorize(principal, action, collection, path=request.url.path)
