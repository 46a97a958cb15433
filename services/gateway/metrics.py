"""``GET /metrics``: the instance's Prometheus registry, behind a role or on an admin port.

By default the route is on the gateway's port and needs a key with the ``auditor`` or ``admin``
role (Prometheus sends it as a bearer token from a file). With ``metrics.port`` set, the registry
is served on that port instead, without a key, by prometheus-client's own small server, and the
gateway's route is gone: bind that port to an address only Prometheus reaches (the compose file
uses the internal network). ``metrics.enabled: false`` serves neither.

What the gateway adds to the core's metrics at scrape time: the LLM queue (waiting, in progress,
capacity), 429s by reason and ingestion jobs by state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from enclave_core.identity import ADMIN_ROLE, AUDITOR_ROLE
from enclave_core.metrics import CoreCollector
from enclave_core.service import RagService
from enclave_core.settings import MetricsSettings
from services.gateway.deps import AppState, CoreDep, CurrentPrincipal

__all__ = ["JOB_STATES", "install_metrics", "router"]

log = logging.getLogger(__name__)

JOB_STATES = ("queued", "running", "interrupted", "done", "failed")
router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def read_metrics(request: Request, core: CoreDep, principal: CurrentPrincipal) -> Response:
    """Prometheus exposition of this instance (role ``auditor`` or ``admin``; else 403, audited)."""
    if ADMIN_ROLE not in principal.roles:
        RagService(core).require_role(
            principal, AUDITOR_ROLE, "metrics need the 'auditor' or 'admin' role", request.url.path
        )
    return Response(generate_latest(core.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _gateway_sources(app: FastAPI, state: AppState) -> list[Callable[[], Iterable[Metric]]]:
    def queue() -> Iterable[Metric]:
        limits: Any = getattr(app.state, "enclave_limits", None)  # made on the first LLM request
        waiting = GaugeMetricFamily("enclave_llm_queue_waiting", "LLM-backed requests waiting for a slot")
        active = GaugeMetricFamily("enclave_llm_requests_active", "LLM-backed requests holding a slot")
        capacity = GaugeMetricFamily("enclave_llm_queue_capacity", "Most requests that may wait (llm.max_queue)")
        slots = GaugeMetricFamily("enclave_llm_concurrency_limit", "Most requests at once (llm.max_concurrent)")
        rejected = CounterMetricFamily(
            "enclave_requests_rejected", "Requests answered 429, by reason", labels=["reason"]
        )
        if limits is not None:
            stats = limits.stats()
            waiting.add_metric([], stats["waiting"])
            active.add_metric([], stats["active"])
            capacity.add_metric([], limits.policy.max_queue)
            slots.add_metric([], limits.policy.max_concurrent)
            for reason, count in sorted(stats["rejected"].items()):
                rejected.add_metric([reason], count)
        else:
            for family in (waiting, active):
                family.add_metric([], 0)
            for reason in ("queue_full", "queue_timeout", "rate_limited"):
                rejected.add_metric([reason], 0)
        yield from (waiting, active, capacity, slots, rejected)

    def jobs() -> Iterable[Metric]:
        family = GaugeMetricFamily("enclave_ingest_jobs", "Ingestion jobs by state", labels=["state"])
        try:
            counts = state.jobs.journal.status_counts()
        except Exception as exc:  # a closed journal (shutdown) must not fail the scrape
            log.debug("job states not counted: %s", exc.__class__.__name__)
            counts = {}
        for job_state in sorted({*JOB_STATES, *counts}):
            family.add_metric([job_state], counts.get(job_state, 0))
        yield family

    return [queue, jobs]


def install_metrics(app: FastAPI, state: AppState, settings: MetricsSettings) -> Callable[[], None]:
    """Register the scrape-time collectors; start the admin-port server if configured.
    Returns what stops it (a no-op without one)."""
    core = state.core
    core.metrics.registry.register(CoreCollector(core, _gateway_sources(app, state)))
    state.jobs.on_file = lambda f: core.metrics.file_ingested(f.status, f.chunks, f.redactions)
    if not settings.enabled or settings.port is None:
        return lambda: None
    server, thread = start_http_server(settings.port, settings.host, registry=core.metrics.registry)
    log.info("metrics served on port %d", settings.port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
