"""Run the gateway under uvicorn with the server options the settings choose."""

from __future__ import annotations

from enclave_core.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings, host: str | None = None, port: int | None = None, access_log: bool = True) -> None:
    """Serve the gateway until interrupted (blocking)."""
    import uvicorn

    from services.gateway.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.gateway.host,
        port=port or settings.gateway.port,
        log_level="info",
        access_log=access_log,
        timeout_keep_alive=settings.gateway.keep_alive_s,
    )
