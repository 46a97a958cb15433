"""Attack: an oversized request head against the real gateway under the production server options.

With httptools and no bound, uvicorn buffered a request head of any size before a route, the body
guard or authentication ran (a 200 MB header took the process from 30 MB to 420 MB in review): a
few such connections could get the gateway killed for memory. The gateway now answers 431 past
16 KiB and closes the connection; ordinary heads, pipelined requests and large bodies still pass.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from services.gateway.app import create_app
from services.gateway.http_protocol import MAX_HEAD_BYTES
from tests.conftest import make_settings
from tests.e2e.gateway_server import serving_app


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    settings = make_settings(tmp_path_factory.mktemp("head") / "data", "http://127.0.0.1:9")
    with serving_app(create_app(settings, warm=False), settings) as port:
        yield port


def _exchange(port: int, chunks: list[bytes], timeout: float = 20.0) -> bytes:
    """Send ``chunks`` (stopping quietly once the server closes), then read until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while data := sock.recv(65536):
                out += data
        except (ConnectionResetError, TimeoutError):
            pass
        return out


def _status(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def _request(extra_headers: bytes = b"", body: bytes = b"", close: bool = True) -> bytes:
    return (
        b"POST /v1/search HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        + extra_headers
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n"
        + (b"connection: close\r\n" if close else b"")
        + b"\r\n"
        + body
    )


def test_a_header_of_one_megabyte_is_refused_before_authentication(gateway: int) -> None:
    value = b"A" * (64 * 1024)
    chunks = [b"POST /v1/search HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: "] + [value] * 16
    response = _exchange(gateway, chunks)
    assert _status(response) == 431, response[:300]


def test_a_long_request_line_is_refused(gateway: int) -> None:
    response = _exchange(gateway, [b"GET /v1/collections?" + b"q" * (MAX_HEAD_BYTES * 4) + b" HTTP/1.1\r\n"])
    assert _status(response) == 431, response[:300]


def test_ordinary_heads_and_large_bodies_pass(gateway: int) -> None:
    """8 KiB of headers and a 300 KB body reach the gateway (401: no credentials), not 431."""
    headers = b"".join(b"x-note-%d: %s\r\n" % (i, b"n" * 1000) for i in range(8))
    body = b'{"question": "' + b"q" * 300_000 + b'", "collection": "c"}'
    response = _exchange(gateway, [_request(headers, body)])
    assert _status(response) == 401, response[:300]


def test_pipelined_requests_are_each_counted_alone(gateway: int) -> None:
    """Twenty 4 KiB heads in one write (80 KiB in all) are twenty heads under the limit each."""
    note = b"x-note: " + b"n" * 4000 + b"\r\n"
    one = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n" + note + b"\r\n"
    last = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n" + note + b"\r\n"
    response = _exchange(gateway, [one * 19 + last])
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", response)]
    assert statuses == [200] * 20, statuses
