"""Typed dependencies shared by the routes: the wired components and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from enclave_core.identity import Principal
from enclave_core.keys import KeyStore
from enclave_core.runtime import Core
from ingest import Ingestor
from services.gateway.errors import Unauthenticated

__all__ = ["AppState", "CoreDep", "CurrentPrincipal", "IngestorDep", "StateDep"]


@dataclass
class AppState:
    core: Core
    ingestor: Ingestor
    keys: KeyStore


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.enclave
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_core(state: StateDep) -> Core:
    return state.core


def get_ingestor(state: StateDep) -> Ingestor:
    return state.ingestor


CoreDep = Annotated[Core, Depends(get_core)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]


def _presented_credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def get_principal(request: Request, state: StateDep) -> Principal:
    credential = _presented_credential(request)
    reason = "no credential: send 'Authorization: Bearer <api key>'"
    if credential:
        key = state.keys.authenticate(credential)
        if key is not None:
            return key.principal()
        reason = "invalid or revoked API key"
    state.core.audit.append(
        "auth.denied",
        principal=None,
        outcome="denied",
        path=request.url.path,
        method=request.method,
        reason=reason,
    )
    raise Unauthenticated(reason)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
