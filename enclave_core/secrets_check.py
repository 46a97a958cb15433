"""Refuse to start outside development with placeholder secrets in the configuration."""

from __future__ import annotations

from urllib.parse import urlparse

from enclave_core.errors import PolicyError
from enclave_core.settings import Settings

__all__ = ["PLACEHOLDERS", "check_secrets"]

PLACEHOLDERS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "placeholder",
        "example",
        "xxx",
        "todo",
        "not-needed-on-loopback",
        "empty",
        "none",
        "test",
        "default",
    }
)


def _is_placeholder(value: str | None) -> bool:
    return value is None or value.strip().lower() in PLACEHOLDERS or value.strip().lower().startswith("<")


def problems(settings: Settings) -> list[str]:
    found: list[str] = []
    vs = settings.vector_store
    if vs.url and _is_placeholder(vs.api_key.get_secret_value() if vs.api_key else None):
        found.append("vector_store.api_key (QDRANT_API_KEY) is missing or a placeholder")
    host = urlparse(settings.llm.url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and _is_placeholder(settings.llm.api_key.get_secret_value()):
        found.append("llm.api_key (ENCLAVE_LLM_API_KEY) is a placeholder while the LLM is not on loopback")
    return found


def check_secrets(settings: Settings) -> None:
    """Development and test mode only warn; production refuses to start."""
    found = problems(settings)
    if found and settings.env == "production":
        raise PolicyError("refusing to start with placeholder secrets: " + "; ".join(found))
