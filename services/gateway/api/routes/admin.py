"""Routes of the admin console (``/ui/admin.html``): jobs, API keys, the audit trail with filters and a
verify button, and the health of every component. Role ``admin`` only: anyone else gets 403, and
the refusal is audited (``RagService.require_role``, through ``AdminService.require_admin``).

Documents and their access groups are managed through the ordinary routes
(``/v1/collections/{name}/documents``), which already check the collection's ``admin`` permission.
Every route is a thin call into the write-side ``AdminService``; changes are audited there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.gateway.deps import AdminDep, CurrentPrincipal

router = APIRouter(tags=["admin"])

_VIA = "console"


class KeyRequest(BaseModel):
    user: str = Field(min_length=1, max_length=128)
    groups: list[str] = Field(default_factory=list, max_length=64)
    roles: list[str] = Field(default_factory=list, max_length=8)


@router.get("/v1/admin/jobs")
def list_jobs(
    request: Request,
    admin: AdminDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The newest ingestion jobs, with per-file progress and errors."""
    return {"jobs": admin.with_via(_VIA).recent_jobs(principal, limit, request.url.path)}


@router.get("/v1/admin/keys")
def list_keys(request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Every API key (never a secret or its hash)."""
    return {"keys": admin.with_via(_VIA).list_keys(principal, request.url.path)}


@router.post("/v1/admin/keys", status_code=201)
def create_key(body: KeyRequest, request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """A new key; its secret is in this answer only."""
    record, secret = admin.with_via(_VIA).create_key(principal, body.user, body.groups, body.roles, request.url.path)
    return {**record, "secret": secret}


@router.delete("/v1/admin/keys/{key_id}")
def revoke_key(key_id: str, request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return admin.with_via(_VIA).revoke_key(principal, key_id[:64], request.url.path)


@router.get("/v1/admin/audit")
def audit_trail(
    request: Request,
    admin: AdminDep,
    principal: CurrentPrincipal,
    action: Annotated[str | None, Query(max_length=64, description="e.g. query (also query.sources)")] = None,
    who: Annotated[str | None, Query(max_length=128, description="the principal's name")] = None,
    outcome: Annotated[str | None, Query(max_length=32)] = None,
    collection: Annotated[str | None, Query(max_length=128)] = None,
    request_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601 time, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO 8601 time, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    """The newest matching audit records first."""
    filters = {
        "action": action,
        "principal": who,
        "outcome": outcome,
        "collection": collection,
        "request_id": request_id,
    }
    records = admin.with_via(_VIA).audit_trail(principal, filters, since, until, limit, request.url.path)
    return {"records": records}


@router.post("/v1/admin/audit/verify")
def verify_audit(request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Walk the whole hash chain with its signatures, as ``enclave audit verify`` does."""
    return admin.with_via(_VIA).verify_audit(principal, request.url.path)


@router.get("/v1/admin/health")
def health(request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Each component's state (200 even when one is down: the console shows which)."""
    return admin.with_via(_VIA).health(principal, request.url.path)
