"""Test helpers for fault and load tests, loopback only:

* ``FaultProxy``: a TCP proxy that passes, delays, hangs or drops connections (switchable at
  run time; switching cuts the connections already open, as an outage would);
* ``FakeLLM``: a minimal OpenAI-compatible server (``/v1/models``, ``/v1/chat/completions``,
  JSON and SSE) for testing the logic around the LLM client - never the answers;
* ``serve_gateway``: the real gateway app under uvicorn in this process, sharing the session's
  already-loaded embedding and NLP models (so a second gateway costs no model load);
* ``policies_with_limits``: a copy of the policies folder with a given limits policy.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import REPO, free_port

__all__ = [
    "FakeLLM",
    "FaultProxy",
    "RunningGateway",
    "StatusCounter",
    "admin_key",
    "policies_with_limits",
    "serve_gateway",
]

Mode = Literal["pass", "delay", "hang", "drop"]

GENEROUS_LIMITS = """
version: test
llm: {max_concurrent: 64, max_queue: 256, queue_timeout_s: 30}
users:
  default: {unlimited: true}
"""


class FaultProxy:
    """``127.0.0.1:<port>`` forwarding to ``127.0.0.1:<target_port>`` according to ``mode``:

    * ``pass``: forward both ways;
    * ``delay``: forward, but hold each chunk ``delay_s`` first (a slow or overloaded peer);
    * ``hang``: accept and never answer (a stuck process, a black-holed route);
    * ``drop``: accept and reset at once (a process gone, a firewall rejecting).
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode: Mode = "pass"
        self.delay_s = 0.0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, mode: Mode, delay_s: float = 0.0) -> None:
        """Switch mode; connections already open are cut (keep-alive pools must not hide it)."""
        with self._lock:
            self.mode, self.delay_s = mode, delay_s
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def close(self) -> None:
        self._stop.set()
        self.set("drop")
        self._thread.join(5)
        self._listener.close()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            mode, delay = self.mode, self.delay_s
            if mode == "drop":
                _reset(client)
            elif mode == "hang":
                self._track(client)  # held open, never read, until the mode changes
            else:
                threading.Thread(target=self._connect, args=(client, delay), daemon=True).start()

    def _connect(self, client: socket.socket, delay: float) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            _reset(client)
            return
        upstream.settimeout(None)
        self._track(client, upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst, delay), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        try:
            while data := src.recv(65536):
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


def _reset(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.close()


# --- a fake OpenAI-compatible LLM -----------------------------------------------------------


class FakeLLM:
    """Answers every chat completion with ``answer`` (streamed in a few chunks when asked)."""

    def __init__(
        self, model: str = "smollm2-135m-instruct", answer: str = "Sixteen weeks, according to the handbook."
    ) -> None:
        self.model = model
        self.answer = answer
        self.fail_with: int | None = None  # answer every completion with this HTTP status instead
        self.prompts: list[list[dict[str, Any]]] = []  # the messages of every completion request
        self.completions = 0
        self.port = free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, name="fake-llm", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "test"}]}

        @app.post("/v1/chat/completions", response_model=None)
        async def completions(request: Request) -> JSONResponse | StreamingResponse:
            body = await request.json()
            self.completions += 1
            self.prompts.append(list(body.get("messages") or []))
            if self.fail_with is not None:
                return JSONResponse({"error": {"message": "scripted failure"}}, status_code=self.fail_with)
            base = {"id": f"chatcmpl-{self.completions}", "created": int(time.time()), "model": self.model}
            if not body.get("stream"):
                return JSONResponse(
                    {
                        **base,
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": self.answer},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17},
                    }
                )

            def events() -> Iterator[str]:
                words = self.answer.split(" ")
                for i, word in enumerate(words):
                    delta = {"content": word + (" " if i < len(words) - 1 else "")}
                    chunk = {
                        **base,
                        "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                    }
                    yield f"data: {json.dumps(chunk)}\n\n"
                done = {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake LLM did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


# --- the real gateway, in process ----------------------------------------------------------


def policies_with_limits(root: Path, limits_yaml: str = GENEROUS_LIMITS) -> Path:
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "limits.yaml").write_text(limits_yaml, encoding="utf-8")
    return policies


def admin_key(settings: Settings, user: str = "root", roles: tuple[str, ...] = ("admin",)) -> str:
    return KeyStore(settings.secrets_dir / "api-keys.json").create(user, [], list(roles))[1]


class StatusCounter:
    """ASGI wrapper counting responses by status code: the server's own view of a test run."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                with self._lock:
                    self.statuses[message["status"]] += 1
                    if message["status"] >= 500:
                        self.server_errors.append(f"{scope['method']} {scope['path']} -> {message['status']}")
            await send(message)

        await self.app(scope, receive, counting_send)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


@dataclass
class RunningGateway:
    url: str
    app: Any
    counter: StatusCounter


@contextmanager
def serve_gateway(settings: Settings, embedder: Any = None, redactor: Any = None) -> Iterator[RunningGateway]:
    """The real gateway (``create_app``) on a free loopback port. It starts without touching the
    vector store or the LLM (``warm=False``: a dependency that is down must not stop start-up);
    the given models are shared with the caller instead of being loaded again."""
    from services.gateway.app import create_app

    app = create_app(settings, warm=False)
    counter = StatusCounter(app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(counter, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("gateway did not start")
        time.sleep(0.05)
    core = app.state.enclave.core
    if embedder is not None:
        core.__dict__["embedder"] = embedder
    if redactor is not None:
        core.__dict__["redactor"] = redactor
    try:
        yield RunningGateway(f"http://127.0.0.1:{port}", app, counter)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
