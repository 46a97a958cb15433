"""Run the enclave CLI with every non-loopback connection attempt recorded and refused.

Usage: python tests/airgap_guard.py <report.json> <enclave args...>

An audit hook sees every socket.connect / getaddrinfo in the process (Python code and the
libraries it loads through Python sockets) before it happens; anything that is not
loopback or a Unix socket is written to the report and the attempt fails.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from typing import Any

_attempts: list[str] = []


def _loopback(host: Any) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            _attempts.append(f"connect {address!r}")
            raise ConnectionRefusedError(f"air gap: connection to {address!r} refused")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if not _loopback(host if not isinstance(host, bytes) else host.decode()):
            _attempts.append(f"getaddrinfo {host!r}")
            raise OSError(f"air gap: name lookup of {host!r} refused")


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    sys.addaudithook(_hook)
    from enclave_cli.main import main as enclave_main

    try:
        code = enclave_main(argv)
    finally:
        with open(report, "w", encoding="utf-8") as fh:
            json.dump(_attempts, fh)
    return code


if __name__ == "__main__":
    sys.exit(main())
