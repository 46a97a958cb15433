"""Backup helper run inside the gateway container by enclave-backup / enclave-restore.

Standard library only (it is passed to the container's Python as ``python -c``), and it streams:
snapshots go from Qdrant to stdout and from stdin to Qdrant, never through the container's small
/tmp. It reads the Qdrant URL and key the way the gateway does (QDRANT_URL, QDRANT_API_KEY_FILE).

    list                      Qdrant collection names, one per line
    snapshot NAME             create a snapshot of NAME, write it to stdout, delete it on the server
    restore NAME              upload a snapshot from stdin and recover NAME from it (replaces NAME)
    sqlite-backup PATH        consistent copy of an SQLite database (online backup API) to stdout
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote
from urllib.request import Request, urlopen

TIMEOUT_S = 3600  # a snapshot of a large collection takes minutes
CHUNK = 1 << 20


def _base() -> str:
    return os.environ.get("QDRANT_URL", "http://qdrant:6333").rstrip("/")


def _key() -> str:
    path = os.environ.get("QDRANT_API_KEY_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return os.environ.get("QDRANT_API_KEY", "")


def _request(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    all_headers = {"api-key": _key(), **(headers or {})}
    return urlopen(Request(_base() + path, data=body, method=method, headers=all_headers), timeout=TIMEOUT_S)


def _json(method: str, path: str) -> Any:
    with _request(method, path) as response:
        return json.load(response)["result"]


def list_collections() -> list[str]:
    return sorted(c["name"] for c in _json("GET", "/collections")["collections"])


def snapshot(name: str, out: BinaryIO) -> int:
    coll = quote(name, safe="")
    snap = _json("POST", f"/collections/{coll}/snapshots?wait=true")["name"]
    written = 0
    try:
        with _request("GET", f"/collections/{coll}/snapshots/{quote(snap, safe='')}") as response:
            while block := response.read(CHUNK):
                out.write(block)
                written += len(block)
        out.flush()
    finally:
        # Snapshots left on the server fill its snapshots volume.
        _json("DELETE", f"/collections/{coll}/snapshots/{quote(snap, safe='')}?wait=true")
    return written


def _multipart(source: BinaryIO, boundary: str, filename: str) -> Iterator[bytes]:
    yield (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="snapshot"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    while block := source.read(CHUNK):
        yield block
    yield f"\r\n--{boundary}--\r\n".encode()


def restore(name: str, source: BinaryIO) -> None:
    boundary = uuid.uuid4().hex
    coll = quote(name, safe="")
    # An iterable body without Content-Length goes out chunked: the snapshot is never held in memory.
    with _request(
        "POST",
        f"/collections/{coll}/snapshots/upload?wait=true&priority=snapshot",
        body=_multipart(source, boundary, f"{name}.snapshot"),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    ) as response:
        json.load(response)


def sqlite_backup(path: str, out: BinaryIO) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "copy.sqlite")
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        with open(copy, "rb") as fh:
            shutil.copyfileobj(fh, out, CHUNK)
        out.flush()


def main(argv: list[str]) -> int:
    if argv[:1] == ["list"] and len(argv) == 1:
        print("\n".join(list_collections()))
        return 0
    if len(argv) == 2 and argv[0] == "snapshot":
        size = snapshot(argv[1], sys.stdout.buffer)
        print(f"snapshot of {argv[1]}: {size} bytes", file=sys.stderr)
        return 0
    if len(argv) == 2 and argv[0] == "restore":
        restore(argv[1], sys.stdin.buffer)
        print(f"restored {argv[1]}", file=sys.stderr)
        return 0
    if len(argv) == 2 and argv[0] == "sqlite-backup":
        sqlite_backup(argv[1], sys.stdout.buffer)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
