"""Run the gateway under uvicorn with the server options the settings choose."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from enclave_core.logs import ACCESS_LOGGER, configure_logging
from enclave_core.settings import Settings

__all__ = ["serve", "uvicorn_options"]


def uvicorn_options(settings: Settings, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """uvicorn's options for the gateway: our JSON logging (``log_config=None`` keeps uvicorn from
    installing its own handlers) and no uvicorn access log (raw paths and query strings): the
    gateway writes its own access line with the route template (services/gateway/telemetry.py).
    HTTP/1.1 is parsed by httptools with a bound on the request head (services/gateway/http_protocol.py)."""
    from services.gateway.http_protocol import BoundedHttpToolsProtocol

    return {
        "host": host or settings.gateway.host,
        "port": port or settings.gateway.port,
        "log_level": settings.logging.level.lower(),
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": settings.gateway.keep_alive_s,
        "http": BoundedHttpToolsProtocol,
    }


def serve(settings: Settings, host: str | None = None, port: int | None = None, access_log: bool = True) -> None:
    """Serve the gateway until interrupted (blocking), logging JSON lines at ``logging.level``."""
    from services.gateway.app import create_app

    configure_logging(settings.logging.level)
    logging.getLogger(ACCESS_LOGGER).disabled = not (access_log and settings.logging.access_log)
    uvicorn.run(create_app(settings), **uvicorn_options(settings, host, port))
