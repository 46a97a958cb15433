"""The gateway: FastAPI app factory. Routes are thin; the work happens in enclave_core and ingest."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from enclave_core.keys import KeyStore
from enclave_core.oidc import OIDCVerifier
from enclave_core.runtime import Core
from enclave_core.secrets_check import check_secrets
from enclave_core.settings import Settings, get_settings
from ingest import Ingestor
from services.gateway.api.routes import audit, collections, documents, health, query, search
from services.gateway.deps import AppState
from services.gateway.errors import install_error_handlers

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def build_state(settings: Settings) -> AppState:
    check_secrets(settings)
    core = Core(settings)
    _ = core.access  # validate policies/access.yaml now: a bad policy refuses start-up
    return AppState(
        core=core,
        ingestor=Ingestor(core),
        keys=KeyStore(settings.secrets_dir / "api-keys.json"),
        oidc=OIDCVerifier.from_settings(settings.auth),
    )


def create_app(settings: Settings | None = None, *, warm: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        app.state.enclave = state
        if warm:
            # Load the models now rather than on the first user's request.
            state.core.store.check()
            _ = state.core.embedder.dimension
            state.core.redactor.warm_up()
        log.info("gateway ready (data dir %s)", settings.data_dir)
        try:
            yield
        finally:
            state.ingestor.manifest.close()
            state.core.close()

    app = FastAPI(
        title="Enclave",
        version="0.1.0",
        summary="Private RAG over your organisation's documents, with PII removed before indexing.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its assets from a CDN: not on an air-gapped appliance
        redoc_url=None,
    )
    install_error_handlers(app)
    for module in (health, search, query, documents, collections, audit):
        app.include_router(module.router)
    return app
