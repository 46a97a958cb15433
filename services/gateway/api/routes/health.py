from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from enclave_core.errors import DependencyUnavailable
from services.gateway.deps import CoreDep, get_principal
from services.gateway.schemas import ReadyResponse

router = APIRouter(tags=["health"])
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers. No identity needed, nothing else checked."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse}},
    dependencies=[Depends(get_principal)],
)
def readyz(core: CoreDep) -> JSONResponse:
    """Readiness: the vector store and the LLM both answer within the health timeout."""
    timeout = core.settings.llm.health_timeout_s
    checks: dict[str, str] = {}
    futures = {"vector_store": _pool.submit(core.store.check), "llm": _pool.submit(core.llm.check)}
    for name, future in futures.items():
        try:
            future.result(timeout=timeout + 0.2)
            checks[name] = "ok"
        except DependencyUnavailable as exc:
            checks[name] = f"unavailable: {exc.detail}"
        except TimeoutError:
            checks[name] = f"unavailable: no answer within {timeout:g} s"
    ready = all(v == "ok" for v in checks.values())
    headers = {} if ready else {"Retry-After": "5"}
    body = ReadyResponse(ready=ready, checks=checks).model_dump()
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)
