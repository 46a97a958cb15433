"""Tests for enclave_core.secrets_check: production refuses placeholder secrets, other modes only report."""

from __future__ import annotations

from pathlib import Path

import pytest

from enclave_core.errors import PolicyError
from enclave_core.secrets_check import check_secrets, problems
from tests.conftest import make_settings

QDRANT_PROBLEM = "vector_store.api_key (QDRANT_API_KEY) is missing or a placeholder"
LLM_PROBLEM = "llm.api_key (ENCLAVE_LLM_API_KEY) is a placeholder while the LLM is not on loopback"
REAL_KEY = "qk_7f3c9a1e5b2d4086a9e1c3b5d7f90214"


@pytest.mark.parametrize(
    "api_key",
    [
        None,  # not set at all
        "changeme",
        "CHANGE-ME",
        "change_me",
        "  secret  ",
        "Password",
        "placeholder",
        "example",
        "xxx",
        "TODO",
        "not-needed-on-loopback",
        "none",
        "test",
        "default",
        "empty",
        "<your qdrant key>",
        "   ",
    ],
)
def test_production_refuses_qdrant_without_a_real_key(tmp_path: Path, api_key: str | None) -> None:
    env = {"ENCLAVE_ENV": "production", "QDRANT_URL": "http://qdrant:6333"}
    if api_key is not None:
        env["QDRANT_API_KEY"] = api_key
    settings = make_settings(tmp_path, **env)
    assert settings.env == "production"
    assert problems(settings) == [QDRANT_PROBLEM]
    with pytest.raises(PolicyError) as exc:
        check_secrets(settings)
    assert "QDRANT_API_KEY" in str(exc.value)
    assert str(exc.value) == "refusing to start with placeholder secrets: " + QDRANT_PROBLEM


@pytest.mark.parametrize("env_name", ["development", "test"])
def test_other_modes_only_report(tmp_path: Path, env_name: str) -> None:
    settings = make_settings(
        tmp_path,
        llm_url="http://vllm.internal:8001/v1",
        ENCLAVE_ENV=env_name,
        QDRANT_URL="http://qdrant:6333",
        QDRANT_API_KEY="changeme",
    )
    assert settings.env == env_name
    assert problems(settings) == [QDRANT_PROBLEM, LLM_PROBLEM]
    check_secrets(settings)  # does not raise


def test_embedded_store_needs_no_qdrant_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ENCLAVE_ENV="production")
    assert settings.vector_store.url is None
    assert problems(settings) == []
    check_secrets(settings)


@pytest.mark.parametrize(
    ("llm_url", "api_key", "problem"),
    [
        ("http://127.0.0.1:8001/v1", None, False),
        ("http://localhost:8001/v1", None, False),
        ("http://[::1]:8001/v1", None, False),
        ("http://LOCALHOST:8001/v1", None, False),
        ("http://vllm:8000/v1", None, True),  # the default key is "not-needed-on-loopback"
        ("http://10.0.0.5:8000/v1", "changeme", True),
        ("https://llm.corp.example/v1", "<set me>", True),
        ("http://127.0.0.1.nip.io:8000/v1", None, True),  # not loopback, only looks like it
        ("http://vllm:8000/v1", "sk-9b1f0c2e7d4a4e6f8a3b5c7d9e1f2a4b", False),
    ],
)
def test_llm_key_is_required_off_loopback(tmp_path: Path, llm_url: str, api_key: str | None, problem: bool) -> None:
    env = {"ENCLAVE_ENV": "production"}
    if api_key is not None:
        env["ENCLAVE_LLM_API_KEY"] = api_key
    settings = make_settings(tmp_path, llm_url=llm_url, **env)
    assert settings.llm.url == llm_url
    assert problems(settings) == ([LLM_PROBLEM] if problem else [])
    if problem:
        with pytest.raises(PolicyError, match="ENCLAVE_LLM_API_KEY"):
            check_secrets(settings)
    else:
        check_secrets(settings)


def test_both_problems_are_named_together(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, llm_url="http://vllm:8000/v1", ENCLAVE_ENV="production", QDRANT_URL="http://qdrant:6333"
    )
    with pytest.raises(PolicyError) as exc:
        check_secrets(settings)
    assert "QDRANT_API_KEY" in str(exc.value) and "ENCLAVE_LLM_API_KEY" in str(exc.value)


@pytest.mark.parametrize("qdrant_url", ["http://qdrant:6333", "http://127.0.0.1:6333"])
def test_real_looking_keys_pass_in_production(tmp_path: Path, qdrant_url: str) -> None:
    settings = make_settings(
        tmp_path,
        llm_url="http://vllm:8000/v1",
        ENCLAVE_ENV="production",
        QDRANT_URL=qdrant_url,
        QDRANT_API_KEY=REAL_KEY,
        ENCLAVE_LLM_API_KEY="sk-9b1f0c2e7d4a4e6f8a3b5c7d9e1f2a4b",
    )
    assert problems(settings) == []
    check_secrets(settings)


@pytest.mark.parametrize("value", ["changeme-not", "secret123", "my-example-key-4f9a", "testing-only-7d1c"])
def test_placeholder_words_inside_a_longer_key_are_not_placeholders(tmp_path: Path, value: str) -> None:
    settings = make_settings(tmp_path, ENCLAVE_ENV="production", QDRANT_URL="http://qdrant:6333", QDRANT_API_KEY=value)
    assert problems(settings) == []
