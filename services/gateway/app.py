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
from ingest import AdminService, Ingestor
from ingest.jobs import JobJournal, Staging
from ingest.worker_pool import job_runner
from services.gateway.api.routes import (
    admin,
    audit,
    collections,
    connectors,
    conversations,
    documents,
    health,
    openai_compat,
    plan,
    query,
    search,
    ui,
)
from services.gateway.api.routes.conversations import open_conversation_store
from services.gateway.bodyguard import BodyGuard
from services.gateway.deps import AppState
from services.gateway.errors import install_error_handlers
from services.gateway.metrics import install_metrics
from services.gateway.metrics import router as metrics_router
from services.gateway.telemetry import Telemetry

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def build_state(settings: Settings) -> AppState:
    check_secrets(settings)
    core = Core(settings)
    _ = core.access  # validate policies/access.yaml now: a bad policy refuses start-up
    ingestor = Ingestor(core)
    journal = JobJournal(settings.state_dir / "jobs.sqlite", core.data_key)

    staging = Staging(settings.state_dir / "staging", core.data_key)
    jobs = job_runner(settings, ingestor, journal, staging)  # ingest.worker: worker processes or a thread
    keys = KeyStore(settings.secrets_dir / "api-keys.json")
    writes = AdminService(core, ingestor, jobs=jobs, keys=keys)
    jobs.on_finished = writes.job_finished  # each finished job is audited by the write-side service
    return AppState(
        core=core,
        ingestor=ingestor,
        jobs=jobs,
        keys=keys,
        admin=writes,
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
            state.core.query_vectors.enable_early()  # a question's embedding may start while its NER runs
        stop_metrics = install_metrics(app, state, settings.metrics)
        state.jobs.start()  # resumes jobs a previous process left unfinished
        stop_connectors = connectors.start_connectors(app.state, state.ingestor)  # syncs and their schedule
        open_conversation_store(app.state, settings)  # checks retention.yaml, purges expired history
        log.info("gateway ready (data dir %s)", settings.data_dir)
        try:
            yield
        finally:
            stop_metrics()
            stop_connectors()
            state.jobs.stop()
            state.jobs.journal.close()
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
    # Every route but /healthz and the UI's files (/openapi.json included) needs a valid credential,
    # checked before any byte of the body is read; bodies are bounded (gateway.max_body_kb, upload limits).
    app.add_middleware(BodyGuard, gateway=settings.gateway)
    # Outermost: the request id, the access line and the request metrics cover every answer, refusals too.
    app.add_middleware(Telemetry)
    for module in (health, search, query, documents, collections, audit, plan, connectors, admin):
        app.include_router(module.router)
    for module in (openai_compat, conversations, ui):  # OpenAI-compatible API, chat UI
        app.include_router(module.router)
    if settings.metrics.enabled and settings.metrics.port is None:  # else on the admin port, or nowhere
        app.include_router(metrics_router)
    return app
