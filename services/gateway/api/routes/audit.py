from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from enclave_core.errors import AccessDenied
from enclave_core.identity import AUDITOR_ROLE
from services.gateway.deps import CoreDep, CurrentPrincipal

router = APIRouter(tags=["audit"])


@router.get("/v1/audit")
def read_audit(
    request: Request,
    core: CoreDep,
    principal: CurrentPrincipal,
    since: Annotated[str | None, Query(description="ISO 8601 time, inclusive")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 time, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> dict[str, Any]:
    """Audit records for auditors (the role ``auditor``); everyone else gets 403, itself audited."""
    if AUDITOR_ROLE not in principal.roles:
        core.audit.append(
            "access.denied",
            principal=principal.name,
            groups=sorted(principal.groups),
            path=request.url.path,
            decision="deny",
            outcome="denied",
        )
        raise AccessDenied("reading the audit trail needs the 'auditor' role")
    records = []
    for record in core.audit.records():
        if since and record["ts"] < since:
            continue
        if until and record["ts"] > until:
            continue
        records.append(record)
        if len(records) >= limit:
            break
    verified = core.audit.verify()
    return {
        "records": records,
        "chain": {"ok": verified.ok, "records": verified.records, "first_bad": verified.first_bad},
    }
