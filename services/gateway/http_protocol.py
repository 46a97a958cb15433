"""The gateway's HTTP/1.1 protocol: uvicorn's httptools parser with a bound on the request head.

httptools (llhttp) is the faster parser (docs/benchmarks.md, gateway search, fourth round), but
uvicorn sets no limit on it: a client could stream a request line or a header of hundreds of
megabytes, all buffered before any route, body guard or authentication runs, and take the
gateway's memory with a few connections (h11, uvicorn's other parser, stops at 16 KiB). Here the
bytes received while a request head is incomplete are counted, and past :data:`MAX_HEAD_BYTES` the
client gets ``431 Request Header Fields Too Large`` and the connection is closed. Bodies are not
counted: uploads are bounded by the body guard (services/gateway/bodyguard.py).
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]

log = logging.getLogger(__name__)

# h11's default in uvicorn (``h11_max_incomplete_event_size``): the limit clients already met.
MAX_HEAD_BYTES = 16 * 1024

_TOO_LARGE = b"Request head too large"


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that refuses a request head over :data:`MAX_HEAD_BYTES`.

    The count is of whole chunks read while a head is incomplete, so the memory a head can hold is
    at most the limit plus one read (the event loop reads at most 256 KiB at a time)."""

    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        self._in_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        was_in_head = self._in_head
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            self._head_bytes = 0
            return
        # Still inside a head: it began in this chunk (count the chunk) or continues from the last.
        self._head_bytes = self._head_bytes + len(data) if was_in_head else len(data)
        if self._head_bytes > self.max_head_bytes:
            self._refuse()

    def _refuse(self) -> None:
        log.warning("request head over %d bytes refused (431)", self.max_head_bytes)
        self._in_head = False
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(_TOO_LARGE)).encode("ascii") + b"\r\n"
            b"connection: close\r\n\r\n" + _TOO_LARGE
        )
        self.transport.close()
