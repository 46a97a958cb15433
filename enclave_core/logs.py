"""Logging as JSON lines, each with the request id of the work in progress.

Configured once at start-up (``enclave serve``, every CLI command) with the level from
``logging.level``. Every record gets ``request_id`` when it is created (a log-record factory,
so handlers added later, pytest's included, see it too), taken from ``enclave_core.requestctx``.

Log lines carry ids, counts, classes and timings, never a question, document text or personal
value, at any level. Two things here keep that true where callers cannot: exceptions are logged
as their class names and stack frames without their messages (a message can quote input), and
uvicorn's access log, which prints raw paths and query strings, is replaced by the gateway's own
access line that names the route template (services/gateway/telemetry.py).
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from enclave_core.requestctx import current_request_id

__all__ = [
    "ACCESS_LOGGER",
    "QUIET_LIBRARIES",
    "EnclaveJsonFormatter",
    "configure_logging",
    "install_request_id_factory",
]

ACCESS_LOGGER = "enclave.access"
_FIELDS = ("asctime", "levelname", "name", "message")
_RENAMED = {"asctime": "ts", "levelname": "level", "name": "logger"}
_HANDLER_MARK = "_enclave_json_handler"
# Libraries that log request bodies or analysed text at DEBUG/INFO (openai logs the whole prompt,
# httpx/httpcore the URLs and headers, Presidio the text it analyses): never below WARNING,
# whatever logging.level says.
QUIET_LIBRARIES = (
    "openai",
    "httpx",
    "httpcore",
    "urllib3",
    "presidio-analyzer",
    "presidio-anonymizer",
    "python_multipart",
    "multipart",
    "qdrant_client",
    "sentence_transformers",
    "transformers",
    "spacy",
    "filelock",
    "asyncio",
)
# uvicorn's loggers get no handlers of their own: their records go to the root's JSON handler.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def install_request_id_factory() -> None:
    """Give every log record a ``request_id`` attribute (None outside a request). Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_enclave_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    factory._enclave_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class EnclaveJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with UTC timestamps and message-free exceptions."""

    def __init__(self) -> None:
        super().__init__(
            " ".join(f"%({name})s" for name in _FIELDS),
            rename_fields=_RENAMED,
            static_fields={},
            timestamp=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["request_id"] = getattr(record, "request_id", None)

    def formatException(self, ei: Any) -> str:
        """The exception's class names and frames; its message is left out (it may quote input)."""
        exc_type, exc, _ = ei
        lines = []
        while exc is not None:
            frames = traceback.extract_tb(exc.__traceback__)
            where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in reversed(frames))
            lines.append(f"{type(exc).__module__}.{type(exc).__qualname__} at {where}")
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        return " | caused by ".join(lines) if lines else str(exc_type)


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """JSON lines on ``stream`` (stderr) at ``level``; replaces an earlier call's handler."""
    install_request_id_factory()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EnclaveJsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The raw request line (path and query string) must never be logged: our access line replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    return handler
