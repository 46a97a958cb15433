from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from enclave_core.identity import AUDITOR_ROLE
from enclave_core.metrics import record_verification
from enclave_core.service import RagService
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
    verify: Annotated[
        Literal["incremental", "full"],
        Query(description="incremental: only the records appended since the last check; full: the whole chain"),
    ] = "incremental",
) -> dict[str, Any]:
    """Audit records for auditors (the role ``auditor``); everyone else gets 403, itself audited.

    ``chain`` says whether the trail verifies. By default only the records appended since the
    previous check are walked (with the signed head and checkpoints): the whole chain is walked
    once per gateway process, or with ``verify=full``, or by ``enclave audit verify``, which is what
    finds an edit to an old record."""
    RagService(core).require_role(
        principal, AUDITOR_ROLE, "reading the audit trail needs the 'auditor' role", request.url.path
    )
    records = []
    for record in core.audit.records():
        if since and record["ts"] < since:
            continue
        if until and record["ts"] > until:
            continue
        records.append(record)
        if len(records) >= limit:
            break
    verified = core.audit.verify_incremental(full=verify == "full")
    if verified.scope == "full":  # the metrics' enclave_audit_verify_* follow every full walk
        record_verification(core.settings.state_dir, verified)
    return {
        "records": records,
        "chain": {
            "ok": verified.ok,
            "records": verified.records,
            "first_bad": verified.first_bad,
            "reason": verified.reason,
            "verified": verified.scope,
            "checked": verified.checked,
        },
    }
