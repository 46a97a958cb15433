"""Request ids, request metrics and the access log line, as one pure ASGI middleware.

``Telemetry`` is the outermost middleware of the gateway (outside ``BodyGuard``), so every
answer carries ``X-Request-ID``, authentication refusals and body-limit refusals included. It
takes the caller's id when ``sanitize_request_id`` accepts it, else makes one, and runs the
request inside ``request_scope``: log records and audit records of the request get the same id.
An exception that escapes the application is answered here as a JSON 500 with the id (Starlette's
own 500 page is sent from outside every middleware and would have none), then re-raised.

Per request it counts and times the response by method, route *template* (``/v1/jobs/{job_id}``,
never the raw path) and status, and writes one JSON access line with those fields. Pure ASGI
rather than ``BaseHTTPMiddleware``: no extra task or body copy per request.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enclave_core.logs import ACCESS_LOGGER
from enclave_core.metrics import Metrics
from enclave_core.requestctx import REQUEST_ID_HEADER, request_scope, sanitize_request_id

__all__ = ["RouteTable", "Telemetry"]

access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger(__name__)

_HEADER = REQUEST_ID_HEADER.lower().encode("latin-1")
UNMATCHED = "unmatched"


def _walk(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[Any, str, re.Pattern[str]]]:
    """(route, full template, its regex) for every route, through included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's include_router() wrapper
        if inner is not None:
            inner_prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from _walk(inner.routes, prefix + inner_prefix)
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if isinstance(route, Mount):
            yield route, f"{prefix}{path}/{{path}}", compile_path(f"{prefix}{path}/{{path:path}}")[0]
        else:
            yield route, prefix + path, compile_path(prefix + path)[0]


class RouteTable:
    """The app's route templates, for labels: the matched route's, or for a request refused
    before routing (401, 413) the template it would have matched. Built once per app."""

    def __init__(self, app: Any) -> None:
        self.entries = list(_walk(getattr(getattr(app, "router", None), "routes", ())))
        self.by_route = {id(route): template for route, template, _ in self.entries}

    def template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:
            return self.by_route.get(id(route)) or getattr(route, "path", None) or UNMATCHED
        method, path = scope.get("method"), scope.get("path", "")
        for candidate, template, regex in self.entries:
            methods = getattr(candidate, "methods", None)
            if (methods is None or method in methods) and regex.fullmatch(path):
                return template
        return UNMATCHED


class Telemetry:
    """See the module's docstring. ``metrics`` may be swapped per app (``Metrics`` of its Core)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self._routes: RouteTable | None = None

    def _route(self, scope: Scope) -> str:
        if self._routes is None:
            self._routes = RouteTable(scope.get("app"))
        return self._routes.template(scope)

    def _metrics(self, scope: Scope) -> Metrics | None:
        if self.metrics is not None:
            return self.metrics
        state = getattr(scope.get("app"), "state", None)
        enclave = getattr(state, "enclave", None) if state is not None else None
        return getattr(getattr(enclave, "core", None), "metrics", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope.get("headers", ()):
            if name == _HEADER:
                offered = value.decode("latin-1")
                break
        request_id = sanitize_request_id(offered)
        header = (_HEADER, request_id.encode("latin-1"))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        with request_scope(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                log.error("unhandled %s", exc.__class__.__name__, exc_info=True)
                if not response_started:
                    await _internal_error(send_with_id, request_id)
                raise
            finally:
                self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, elapsed: float, request_id: str) -> None:
        route = self._route(scope)
        method = scope["method"]
        metrics = self._metrics(scope)
        if metrics is not None:
            code = str(status)
            metrics.http_requests.labels(method, route, code).inc()
            metrics.http_duration.labels(method, route, code).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            extra: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            }
            access_log.info("request", extra=extra)


async def _internal_error(send: Any, request_id: str) -> None:
    body = (
        b'{"error":"InternalError","detail":"internal error; quote request id '
        + request_id.encode("latin-1")
        + b' to the operator"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
