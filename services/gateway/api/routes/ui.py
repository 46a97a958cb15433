"""The chat UI: ``/`` and its static assets (``/ui/...``), all served by the appliance itself.

The page loads nothing from anywhere else (no CDN, no web fonts) and runs under a strict
Content-Security-Policy: same-origin scripts, styles and connections only, no inline script
or style, no framing. It signs in with an API key or an SSO token that it keeps in the
tab's sessionStorage and sends as a Bearer token; ``GET /v1/me`` tells it who that is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from enclave_core.errors import NotFoundError
from enclave_core.identity import REVEAL_ROLE
from enclave_core.reasoning import profile_for_settings
from services.gateway.api.routes.conversations import conversation_store
from services.gateway.api.routes.openai_compat import readable_collections
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parents[2] / "ui" / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

router = APIRouter(tags=["ui"])


def _asset(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file() or path.suffix not in _TYPES:
        raise NotFoundError(f"no such file: {name}")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=_HEADERS)


@router.get("/", include_in_schema=False)
def index() -> Response:
    return _asset("index.html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return _asset("favicon.svg")


@router.get("/ui/{name:path}", include_in_schema=False)
def static_asset(name: str) -> Response:
    return _asset(name)


@router.get("/v1/me")
def me(request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Who the presented credential belongs to, and what the UI should offer them."""
    readable = readable_collections(core, ingestor, principal)
    return {
        "user": principal.name,
        "groups": sorted(principal.groups),
        "roles": sorted(principal.roles),
        "auth": principal.auth,
        "is_admin": principal.is_admin,
        "collections": readable,
        "writable": [c for c in readable if core.access.allows(principal, "write", c)],
        # The reveal switch is offered to pii:reveal holders only (each reveal is audited with a reason).
        "can_reveal": REVEAL_ROLE in principal.roles,
        "history_days": conversation_store(request, core).retention_days,
        "reasoning": profile_for_settings(core.settings.llm).mode,
        # Which model answers, and whether it is the small CPU demo model (the UI says so).
        "model": core.settings.llm.model,
        "demo_model": profile_for_settings(core.settings.llm).prompt == "small",
    }
