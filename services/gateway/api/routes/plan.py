"""``GET /v1/admin/plan``: the sizing and cost planner (``enclave plan``) for administrators.

The same function as the CLI (enclave_core.planning.make_plan) on the packaged catalogue; it
reads no document and reaches nothing, but it is an operator's tool, so it needs the admin role
and a refusal is audited like the other admin routes'.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from enclave_core.identity import ADMIN_ROLE
from enclave_core.planning import PlanRequest, load_catalog, make_plan
from enclave_core.planning.cost import CostInputs
from enclave_core.service import RagService
from services.gateway.deps import CoreDep, CurrentPrincipal

router = APIRouter(tags=["admin"])


@router.get("/v1/admin/plan")
def plan(
    request: Request,
    core: CoreDep,
    principal: CurrentPrincipal,
    model: Annotated[str, Query(description="a model id of policies/catalog/models.yaml")],
    gpu: Annotated[str, Query(description="an accelerator id of policies/catalog/accelerators.yaml")],
    count: Annotated[int, Query(ge=1, le=16)] = 1,
    nodes: Annotated[int, Query(ge=1, le=8)] = 1,
    users: Annotated[int, Query(ge=1, le=10000)] = 1,
    context: Annotated[int | None, Query(ge=512)] = None,
    answer_tokens: Annotated[int, Query(ge=1, le=32768)] = 512,
    prompt_tokens: Annotated[int, Query(ge=0, le=1_000_000)] = 3000,
    gpu_memory_utilization: Annotated[float, Query(ge=0.3, le=0.98)] = 0.90,
    kv_cache_dtype: Literal["auto", "fp8"] = "auto",
    quantization: Literal["fp8"] | None = None,
    gpu_hour_price: Annotated[float | None, Query(gt=0)] = None,
    purchase_price: Annotated[float | None, Query(gt=0)] = None,
    years: Annotated[float | None, Query(gt=0)] = None,
    kwh_price: Annotated[float | None, Query(ge=0)] = None,
    utilisation: Annotated[float, Query(gt=0, le=1)] = 1.0,
    api: str = "gpt-4o",
) -> dict[str, Any]:
    """The plan as ``enclave plan --json`` prints it; unknown names are 422 with the known ones."""
    RagService(core).require_role(principal, ADMIN_ROLE, "the planner needs the 'admin' role", request.url.path)
    req = PlanRequest(
        model=model,
        gpu=gpu,
        count=count,
        nodes=nodes,
        users=users,
        context=context,
        answer_tokens=answer_tokens,
        prompt_tokens=prompt_tokens,
        gpu_memory_utilization=gpu_memory_utilization,
        kv_cache_dtype=kv_cache_dtype,
        quantization=quantization,
        cost=CostInputs(gpu_hour_price, purchase_price, years, kwh_price, utilisation),
        api=api,
    )
    return make_plan(load_catalog(), req)
