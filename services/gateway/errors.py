"""Map the product's exception tree to HTTP responses with one clear message each."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from enclave_core.errors import (
    AccessDenied,
    DependencyUnavailable,
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
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, DependencyUnavailable):
        return 503
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EnclaveError)
    async def _enclave_error(request: Request, exc: EnclaveError) -> JSONResponse:
        status = status_for(exc)
        headers: dict[str, str] = {}
        if status == 503:
            headers["Retry-After"] = "5"
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status >= 500:
            log.warning("%s %s -> %d %s", request.method, request.url.path, status, exc.__class__.__name__)
        return JSONResponse(
            {"error": exc.__class__.__name__, "detail": str(exc)}, status_code=status, headers=headers
        )
