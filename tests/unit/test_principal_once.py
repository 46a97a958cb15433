"""A request's caller is verified once: BodyGuard authenticates before the body is read, and the
route's ``get_principal`` dependency reuses that answer from the request's own ASGI scope. The
next request verifies again, so a key revoked in between is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from enclave_core.keys import KeyStore
from enclave_core.settings import load_settings
from services.gateway.deps import get_principal
from services.gateway.errors import Unauthenticated


class CountingKeys:
    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.calls = 0

    def authenticate(self, presented: str) -> Any:
        self.calls += 1
        return self.store.authenticate(presented)


def request_for(secret: str) -> Request:
    """A fresh request (uvicorn gives every request its own copy of the state dict)."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/search",
        "headers": [(b"authorization", f"Bearer {secret}".encode())],
        "state": {},
        "client": ("127.0.0.1", 1234),
    }
    return Request(scope)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Any, KeyStore, CountingKeys]:
    settings = load_settings({"ENCLAVE_DATA_DIR": str(tmp_path)})
    store = KeyStore(tmp_path / "api-keys.json")
    keys = CountingKeys(store)
    auditor = SimpleNamespace(denied=lambda *args: None)
    state = SimpleNamespace(keys=keys, core=SimpleNamespace(settings=settings), oidc=None)
    state.failed_auth_auditor = lambda: auditor
    return state, store, keys


def test_one_verification_per_request_and_again_on_the_next(setup: tuple[Any, KeyStore, CountingKeys]) -> None:
    state, store, keys = setup
    key, secret = store.create("ann", ["staff"], [])
    first = request_for(secret)
    guard = asyncio.run(get_principal(first, state))  # BodyGuard's call
    route = asyncio.run(get_principal(first, state))  # the route's dependency, same request
    assert guard is route and guard.name == "ann" and keys.calls == 1
    assert asyncio.run(get_principal(request_for(secret), state)).name == "ann"
    assert keys.calls == 2  # a new request is verified anew
    store.revoke(key.key_id)
    with pytest.raises(Unauthenticated):
        asyncio.run(get_principal(request_for(secret), state))


def test_a_refused_credential_is_not_remembered_as_a_caller(setup: tuple[Any, KeyStore, CountingKeys]) -> None:
    state, _, keys = setup
    bad = request_for("enc_not-a-real-key")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            asyncio.run(get_principal(bad, state))
    assert keys.calls >= 2 and not bad.scope["state"]
