"""The backup helper (infra/ansible/roles/backup/files/enclave_backup_helper.py) against a stand-in
for Qdrant's snapshot API on loopback: list, snapshot (streamed out, then deleted on the server),
restore (streamed in, chunked multipart), the API key on every request, and the SQLite copy.

It is run the way enclave-backup runs it inside the gateway container: ``python -c "<source>" ...``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from tests.deploy.compose import REPO

HELPER = REPO / "infra" / "ansible" / "roles" / "backup" / "files" / "enclave_backup_helper.py"
KEY = "k" * 64


class FakeQdrant:
    def __init__(self) -> None:
        self.collections: dict[str, bytes] = {"enclave_hr": b"HR-SNAPSHOT" * 1000, "enclave_docs": b"DOCS"}
        self.snapshots: dict[str, bytes] = {}
        self.uploads: dict[str, tuple[bytes, str]] = {}
        self.bad_keys = 0


def _read_chunked(handler: BaseHTTPRequestHandler) -> bytes:
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
        if size == 0:
            handler.rfile.readline()
            return body
        body += handler.rfile.read(size)
        handler.rfile.readline()


def make_handler(state: FakeQdrant) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, result: Any, status: int = 200) -> None:
            data = json.dumps({"result": result, "status": "ok"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("api-key") == KEY:
                return True
            state.bad_keys += 1
            self._reply(None, 401)
            return False

        def _parts(self) -> list[str]:
            return [unquote(p) for p in urlparse(self.path).path.strip("/").split("/")]

        def do_GET(self) -> None:
            if not self._authorised():
                return
            parts = self._parts()
            if parts == ["collections"]:
                self._reply({"collections": [{"name": n} for n in state.collections]})
            elif len(parts) == 4 and parts[2] == "snapshots":
                data = state.snapshots[parts[3]]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self._reply(None, 404)

        def do_POST(self) -> None:
            if not self._authorised():
                return
            parts = self._parts()
            if len(parts) == 3 and parts[2] == "snapshots":
                name = f"{parts[1]}-2026.snapshot"
                state.snapshots[name] = state.collections[parts[1]]
                self._reply({"name": name})
            elif len(parts) == 4 and parts[2:] == ["snapshots", "upload"]:
                assert self.headers.get("Transfer-Encoding") == "chunked", "streamed, not buffered"
                body = _read_chunked(self)
                boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
                head, _, rest = body.partition(b"\r\n\r\n")
                payload = rest.rsplit(b"\r\n--" + boundary + b"--", 1)[0]
                state.uploads[parts[1]] = (payload, urlparse(self.path).query)
                assert b'name="snapshot"' in head
                self._reply(True)
            else:
                self._reply(None, 404)

        def do_DELETE(self) -> None:
            if not self._authorised():
                return
            parts = self._parts()
            state.snapshots.pop(parts[3])
            self._reply(True)

    return Handler


@pytest.fixture
def qdrant() -> Iterator[tuple[FakeQdrant, str]]:
    state = FakeQdrant()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def helper(url: str, tmp_path: Path, *args: str, stdin: bytes = b"") -> bytes:
    key_file = tmp_path / "qdrant_api_key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "QDRANT_URL": url, "QDRANT_API_KEY_FILE": str(key_file)}
    source = HELPER.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", source, *args], input=stdin, env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_list_snapshot_restore(qdrant: tuple[FakeQdrant, str], tmp_path: Path) -> None:
    state, url = qdrant
    assert helper(url, tmp_path, "list").decode().split() == ["enclave_docs", "enclave_hr"]
    data = helper(url, tmp_path, "snapshot", "enclave_hr")
    assert data == state.collections["enclave_hr"]
    assert state.snapshots == {}, "the snapshot is deleted on the server once downloaded"
    helper(url, tmp_path, "restore", "enclave_hr", stdin=data)
    payload, query = state.uploads["enclave_hr"]
    assert payload == data
    assert "priority=snapshot" in query and "wait=true" in query
    assert state.bad_keys == 0


def test_wrong_key_fails(qdrant: tuple[FakeQdrant, str], tmp_path: Path) -> None:
    _, url = qdrant
    env = {"PATH": os.environ["PATH"], "QDRANT_URL": url, "QDRANT_API_KEY": "wrong"}
    proc = subprocess.run(
        [sys.executable, "-c", HELPER.read_text(encoding="utf-8"), "list"], env=env, capture_output=True, timeout=60
    )
    assert proc.returncode != 0 and b"401" in proc.stderr


def test_sqlite_backup_is_a_consistent_copy(tmp_path: Path) -> None:
    db = tmp_path / "ingest.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table documents (id text primary key, sha text)")
        conn.executemany("insert into documents values (?, ?)", [(str(i), "x" * 64) for i in range(500)])
    out = helper("http://127.0.0.1:9", tmp_path, "sqlite-backup", str(db))
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(out)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select count(*) from documents").fetchone() == (500,)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
