"""Issue #18, finding 4 (unbounded bodies before authentication) and 9a (``/openapi.json``
without a key), as the attacks themselves against a real gateway over HTTP.

The review found that a 200 MiB upload without a key was spooled by the multipart parser to a
plaintext temp file before the 401, and that an 80 MiB JSON body was read whole before the 401.
Each test below sends such a body from a generator (nothing big is held in memory) and checks
what the server did with it: the answer (401 or 413 with a clear message), how much of the body
the client managed to send before the server answered and closed the connection, that no file
was opened in the temp directory (``tempfile.tempdir`` points at a watched folder, and an audit
hook sees even unnamed ``O_TMPFILE`` files), and that nothing stays staged.

The gateway under test runs with small limits: 64 KB JSON bodies, 2 MB per file, 3 files and
4 MB per upload.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_core.settings import Settings
from tests.conftest import make_settings
from tests.integration.faults import RunningGateway, admin_key, policies_with_limits, serve_gateway

MiB = 1 << 20
BOUNDARY = "enclave-test-boundary-7d3f"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = {
    "ENCLAVE_GATEWAY__MAX_BODY_KB": "64",
    "ENCLAVE_GATEWAY__MAX_UPLOAD_MB": "2",
    "ENCLAVE_GATEWAY__MAX_UPLOAD_FILES": "3",
    "ENCLAVE_GATEWAY__MAX_UPLOAD_TOTAL_MB": "4",
}
# A server that answers early and closes lets the client send what the socket buffers take
# (a few MiB on loopback); one that reads the body sends all of it.
SENT_AT_MOST = 32 * MiB
UPLOAD = "/v1/collections/bodies/documents"


# --- the watched temp directory ------------------------------------------------------------

_WATCH: dict[str, Any] = {"dir": None, "events": []}


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    watched = _WATCH["dir"]
    if watched is None or event not in ("open", "tempfile.mkstemp", "tempfile.mkdtemp"):
        return
    try:
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)) and os.fsdecode(path).startswith(watched):
            _WATCH["events"].append((event, os.fsdecode(path)))
    except Exception:  # an audit hook must never raise into the code it watches
        pass


sys.addaudithook(_audit_hook)


@dataclass
class TempWatch:
    directory: Path

    def touched(self) -> list[Any]:
        """Every file opened in the temp directory (named or not) and every entry left there."""
        return list(_WATCH["events"]) + sorted(str(p) for p in self.directory.rglob("*"))


@pytest.fixture
def temp_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TempWatch]:
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    _WATCH["events"] = []
    _WATCH["dir"] = str(directory)
    try:
        yield TempWatch(directory)
    finally:
        _WATCH["dir"] = None


# --- the gateway ---------------------------------------------------------------------------


@dataclass
class Gateway:
    running: RunningGateway
    settings: Settings
    key: str

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def staging(self) -> Path:
        return self.settings.state_dir / "staging"

    def staged_files(self) -> set[Path]:
        return {p for p in self.staging.rglob("*") if p.is_file()} if self.staging.exists() else set()

    def client(self, key: bool = True) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("bodies")
    settings = make_settings(root / "data", ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)), **LIMITS)
    key = admin_key(settings)
    with serve_gateway(settings, embedder, redactor) as running:
        yield Gateway(running, settings, key)


# --- bodies made on demand -----------------------------------------------------------------


class Body:
    """A request body produced chunk by chunk; ``sent`` counts the bytes the client wrote."""

    def __init__(self, *pieces: bytes | int, chunk: int = 256 * 1024) -> None:
        self.pieces = pieces  # bytes as they are, an int: that many filler bytes
        self.chunk = chunk
        self.sent = 0
        self.length = sum(p if isinstance(p, int) else len(p) for p in pieces)

    def __iter__(self) -> Iterator[bytes]:
        filler = b"A" * self.chunk
        for piece in self.pieces:
            if isinstance(piece, bytes):
                yield piece
                self.sent += len(piece)
                continue
            left = piece
            while left > 0:
                block = filler[: min(left, self.chunk)]
                yield block
                self.sent += len(block)
                left -= len(block)


def part(name: str, value: bytes = b"", filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: application/octet-stream\r\n"
    return head.encode() + b"\r\n" + value + (b"\r\n" if value else b"")


def file_of(size: int, name: str) -> tuple[bytes, int, bytes]:
    """The pieces of a file part holding ``size`` filler bytes."""
    return part("files", filename=name), size, b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def send(
    gw: Gateway, path: str, body: Body, content_type: str, *, key: bool, chunked: bool
) -> tuple[httpx.Response, float]:
    headers = {"Content-Type": content_type}
    if not chunked:
        headers["Content-Length"] = str(body.length)
    started = time.monotonic()
    with gw.client(key) as client:
        response = client.post(path, content=body, headers=headers)
    return response, time.monotonic() - started


def big_json(size: int) -> Body:
    return Body(b'{"collection": "bodies", "question": "', size, b'"}')


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    for word in words:
        assert word in body["detail"], body


FRAMING = [pytest.param(False, id="content-length"), pytest.param(True, id="chunked")]


# --- (a), (b): nothing is read before the caller is known -----------------------------------


@pytest.mark.parametrize("chunked", FRAMING)
def test_unauthenticated_200_mib_upload_is_refused_before_its_body_is_read(
    gw: Gateway, temp_watch: TempWatch, chunked: bool
) -> None:
    before = gw.staged_files()
    body = Body(part("groups", b"*"), *file_of(200 * MiB, "big.txt"), END)
    response, elapsed = send(gw, UPLOAD, body, MULTIPART, key=False, chunked=chunked)
    assert_error(response, 401, "credential")
    assert response.headers["www-authenticate"] == "Bearer"
    assert body.sent < SENT_AT_MOST, f"the server read {body.sent >> 20} MiB of an unauthenticated body"
    assert elapsed < 30
    assert temp_watch.touched() == [], "an unauthenticated upload reached a temp file"
    assert gw.staged_files() == before


@pytest.mark.parametrize("chunked", FRAMING)
def test_unauthenticated_80_mib_json_is_refused_before_it_is_read(
    gw: Gateway, temp_watch: TempWatch, chunked: bool
) -> None:
    body = big_json(80 * MiB)
    response, _ = send(gw, "/v1/search", body, "application/json", key=False, chunked=chunked)
    assert_error(response, 401, "credential")
    assert body.sent < SENT_AT_MOST, f"the server read {body.sent >> 20} MiB of an unauthenticated body"
    assert temp_watch.touched() == []


# --- (c): JSON bodies have a size limit ----------------------------------------------------


@pytest.mark.parametrize("chunked", FRAMING)
def test_authenticated_json_over_the_limit_gets_413_without_being_read(gw: Gateway, chunked: bool) -> None:
    body = big_json(80 * MiB)
    response, _ = send(gw, "/v1/search", body, "application/json", key=True, chunked=chunked)
    assert_error(response, 413, "64 KB")
    assert body.sent < SENT_AT_MOST, f"the server read {body.sent >> 20} MiB over a 64 KB limit"


def test_json_under_the_limit_is_still_read(gw: Gateway) -> None:
    with gw.client() as client:
        at_limit = client.post("/v1/search", json={"collection": "bodies", "question": "x" * 60_000})
        normal = client.post("/v1/search", json={"collection": "no-such-collection", "question": "leave"})
    assert at_limit.status_code == 422, at_limit.text[:300]  # read and validated: question too long
    assert normal.status_code == 404, normal.text[:300]


# --- (d): uploads have per-file, per-request count and total limits -------------------------


def test_upload_over_the_per_file_limit_gets_413_while_streaming(gw: Gateway, temp_watch: TempWatch) -> None:
    before = gw.staged_files()
    body = Body(part("files", b"# ok\n\nfine", "ok.md"), *file_of(50 * MiB, "huge.txt"), END)
    response, _ = send(gw, UPLOAD, body, MULTIPART, key=True, chunked=True)
    assert_error(response, 413, "huge.txt", "2 MB")
    assert body.sent < SENT_AT_MOST, f"the server read {body.sent >> 20} MiB of a file over a 2 MB limit"
    assert temp_watch.touched() == []
    assert gw.staged_files() == before, "a refused upload left staged files behind"


def test_upload_declaring_a_body_over_the_total_limit_is_refused_up_front(gw: Gateway) -> None:
    body = Body(*file_of(60 * MiB, "a.txt"), END)
    response, _ = send(gw, UPLOAD, body, MULTIPART, key=True, chunked=False)
    assert_error(response, 413, "4 MB")
    assert body.sent < SENT_AT_MOST


def test_upload_with_too_many_files_gets_413_and_stages_nothing(gw: Gateway) -> None:
    before = gw.staged_files()
    files = [("files", (f"note-{i}.md", f"# Note {i}\n\nshort".encode())) for i in range(4)]
    with gw.client() as client:
        response = client.post(UPLOAD, files=files, data={"groups": "*"})
    assert_error(response, 413, "3 files")
    assert gw.staged_files() == before


def test_upload_over_the_total_limit_gets_413_and_stages_nothing(gw: Gateway, temp_watch: TempWatch) -> None:
    before = gw.staged_files()
    # Three files under the 2 MB per-file limit, 4.5 MiB together: over the 4 MB per upload. Sent
    # chunked, so that the limit is found while streaming (with a Content-Length, it is found up
    # front). (.bin: a server that accepted them would fail them at once, not spend minutes.)
    files = [piece for i in range(3) for piece in file_of(3 * MiB // 2, f"part-{i}.bin")]
    body = Body(part("groups", b"*"), *files, END)
    response, _ = send(gw, UPLOAD, body, MULTIPART, key=True, chunked=True)
    assert_error(response, 413, "4 MB")
    assert gw.staged_files() == before, "a refused upload left staged files behind"
    assert temp_watch.touched() == []


# --- (e): what is accepted still works, and is staged encrypted only ------------------------


def test_upload_still_works_with_groups_and_paths(gw: Gateway) -> None:
    upload = "/v1/collections/bodies-ok/documents"
    files = [
        ("files", ("leave.md", b"# Leave\n\nEmployees get 16 weeks of paid parental leave.")),
        ("files", ("travel.md", b"# Travel\n\nTrain travel is second class.")),
    ]
    data = {"groups": "hr, eng", "paths": ["handbook/leave.md", "handbook/travel.md"]}
    with gw.client() as client:
        response = client.post(upload, files=files, data=data)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["ingested"] == 2 and report["failed"] == 0, report
        assert [f["source"] for f in report["files"]] == ["handbook/leave.md", "handbook/travel.md"]
        listed = client.get(upload).json()["documents"]
        assert {d["source"]: d["acl"] for d in listed} == {
            "handbook/leave.md": ["eng", "hr"],
            "handbook/travel.md": ["eng", "hr"],
        }
        queued = client.post(f"{upload}?wait=false", files=[("files", ("q.md", b"# Q\n\nQueued."))])
        assert queued.status_code == 202, queued.text
        job_url = queued.json()["status_url"]
        deadline = time.monotonic() + 60
        while (job := client.get(job_url).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "done" and job["ingested"] == 1, job
        # The existing validation errors are unchanged.
        mismatch = client.post(upload, files=files, data={"paths": ["only-one.md"]})
        assert_error(mismatch, 400, "one relative path per uploaded file")
        no_files = client.post(upload, data={"groups": "*"}, files=[("other", ("x.md", b"x"))])
        assert no_files.status_code == 422, no_files.text


def test_accepted_upload_is_staged_as_ciphertext_only(
    gw: Gateway, temp_watch: TempWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = gw.running.app.state.enclave.jobs
    monkeypatch.setattr(jobs, "enqueue", lambda job_id: None)  # hold the job in the queue
    marker = b"PLAINTEXT-MARKER-5b1e0c"
    # 1.5 MiB: over the 1 MiB that the framework's multipart parser keeps in memory
    document = b"# Staged\n\n" + (marker + b" is a secret line of the document.\n") * 26_000
    assert MiB < len(document) < 2 * MiB
    with gw.client() as client:
        response = client.post(f"{UPLOAD}?wait=false", files=[("files", ("staged.md", document))])
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    try:
        assert temp_watch.touched() == [], "an accepted upload went through a temp file"
        staged = [p for p in gw.staged_files() if job_id in str(p)]
        assert staged, "the queued upload is not staged"
        leaks = [p for p in gw.settings.data_dir.rglob("*") if p.is_file() and marker in p.read_bytes()]
        assert leaks == [], f"plaintext of a staged upload on disk: {leaks}"
        assert jobs.staging.get(job_id, 0) == document  # and it decrypts to exactly what was sent
    finally:
        jobs.staging.drop_job(job_id)


# --- (f): the API description needs a key too -----------------------------------------------


def test_openapi_needs_a_key_and_still_documents_the_upload(gw: Gateway) -> None:
    with gw.client(key=False) as anonymous:
        assert_error(anonymous.get("/openapi.json"), 401, "credential")
        assert anonymous.get("/healthz").status_code == 200  # public routes stay public
        assert anonymous.get("/").status_code == 200
        assert anonymous.get("/ui/app.js").status_code == 200
    with gw.client() as client:
        schema = client.get("/openapi.json")
    assert schema.status_code == 200
    body = schema.json()["paths"]["/v1/collections/{name}/documents"]["post"]["requestBody"]
    form = body["content"]["multipart/form-data"]["schema"]
    if "$ref" in form:
        form = schema.json()["components"]["schemas"][form["$ref"].rsplit("/", 1)[1]]
    assert form["properties"]["files"]["type"] == "array"
    assert {"groups", "paths"} <= set(form["properties"])


def test_ui_does_not_fetch_the_api_description() -> None:
    app_js = Path(__file__).resolve().parents[2] / "services" / "gateway" / "ui" / "static" / "app.js"
    assert "openapi" not in app_js.read_text(encoding="utf-8")
