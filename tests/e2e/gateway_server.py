"""Run the real gateway (uvicorn, real HTTP on loopback) inside the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from enclave_core.settings import Settings
from services.gateway.app import create_app
from services.gateway.server import uvicorn_options
from tests.conftest import free_port


@contextmanager
def serving(config: uvicorn.Config) -> Iterator[None]:
    """``config``'s app served by uvicorn in a thread of this process until the block ends."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("gateway did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serving_app(app: Any, settings: Settings) -> Iterator[int]:
    """``app`` under the production server options (``uvicorn_options``) on a free loopback port."""
    port = free_port()
    with serving(uvicorn.Config(app, **uvicorn_options(settings, "127.0.0.1", port))):
        yield port


@contextmanager
def running_gateway(settings: Settings) -> Iterator[str]:
    port = free_port()
    with serving(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")):
        yield f"http://127.0.0.1:{port}"
