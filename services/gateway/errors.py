"""Map the product's exception tree to HTTP responses with one clear message each."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from enclave_core.errors import (
    AccessDenied,
    DependencyUnavailable,
    DocumentConflict,
    DocumentTooLarge,
    EnclaveError,
    InputError,
    NotFoundError,
    UnsupportedFileType,
)

__all__ = ["install_error_handlers", "status_for"]

log = logging.getLogger(__name__)


class Unauthenticated(EnclaveError):
    """No valid credential was presented (401)."""


def status_for(exc: EnclaveError) -> int:
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, UnsupportedFileType):
        return 415
    if isinstance(exc, DocumentTooLarge):
        return 413
    if isinstance(exc, DocumentConflict):
        return 409
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, DependencyUnavailable):
        return 503
    if hasattr(exc, "retry_after"):  # over a limit (services.gateway.limits.TooBusy)
        return 429
    return 500


def _safe(value: object) -> str:
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the rejected input: it may hold personal data, or values JSON cannot encode.
        errors = [
            {"type": _safe(e.get("type")), "loc": [_safe(p) for p in e.get("loc", ())], "msg": _safe(e.get("msg"))}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "InvalidRequest", "detail": errors}, status_code=422)

    @app.exception_handler(EnclaveError)
    async def _enclave_error(request: Request, exc: EnclaveError) -> JSONResponse:
        status = status_for(exc)
        headers: dict[str, str] = {}
        if status == 503:
            headers["Retry-After"] = "5"
        if status == 429:
            headers["Retry-After"] = str(getattr(exc, "retry_after", 1))
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status >= 500:
            # The route's template, not the raw path: a path can hold a value (a name in a job id, say).
            route = getattr(request.scope.get("route"), "path", "unmatched")
            log.warning("%s %s -> %d %s", request.method, route, status, exc.__class__.__name__)
        return JSONResponse({"error": exc.__class__.__name__, "detail": str(exc)}, status_code=status, headers=headers)
