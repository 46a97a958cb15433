"""Uploads streamed into the encrypted staging area (issue #18, finding 4): the segmented
AES-GCM format of ``ingest.jobs.Staging`` and the limits of ``MultipartUpload``.

The attacks themselves, through a real gateway, are in tests/integration/test_security_bodies.py.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import tracemalloc
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.exceptions import RequestValidationError

from enclave_core.errors import DocumentTooLarge, InputError
from ingest.jobs import SEGMENT_BYTES, Staging
from services.gateway.bodyguard import BodyTooLarge, MultipartUpload, UploadLimits, is_public, is_upload

MiB = 1 << 20
KEY = bytes(range(32))
BOUNDARY = "b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = UploadLimits(file_bytes=4 * MiB, files=3, total_bytes=6 * MiB, fields_bytes=64 << 10)


@pytest.fixture
def staging(tmp_path: Path) -> Staging:
    return Staging(tmp_path / "staging", KEY)


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# --- the staged file format ---------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 5])
def test_streamed_file_round_trips_and_is_ciphertext_on_disk(staging: Staging, size: int) -> None:
    data = (b"Jane Doe, 555-0100. " * (size // 20 + 1))[:size]
    writer = staging.writer("job1", 0)
    for start in range(0, size, 100_000):  # arbitrary pieces, not aligned with the segments
        writer.write(data[start : start + 100_000])
    writer.close()
    assert writer.size == size
    assert staging.get("job1", 0) == data
    [path] = files_under(staging.directory)
    assert path.name == "0.bin"  # the partial file was moved into place
    if size:
        assert b"Jane Doe" not in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0


def test_put_and_get_use_the_same_format(staging: Staging) -> None:
    staging.put("job2", 1, b"hello")
    assert staging.get("job2", 1) == b"hello"


def test_files_staged_by_an_earlier_release_still_decrypt(staging: Staging) -> None:
    nonce = secrets.token_bytes(12)
    path = staging.directory / "old-job" / "0.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(nonce + AESGCM(KEY).encrypt(nonce, b"legacy", b"old-job/0"))
    assert staging.get("old-job", 0) == b"legacy"


def _segmented(staging: Staging, job: str = "job3", index: int = 0) -> tuple[Path, bytes]:
    data = secrets.token_bytes(2 * SEGMENT_BYTES + 10)
    staging.put(job, index, data)
    return staging.directory / job / f"{index}.bin", data


def _segments(blob: bytes) -> tuple[bytes, list[bytes]]:
    header_end = 8 + 1 + blob[8]
    header, pos, segments = blob[:header_end], header_end, []
    while pos < len(blob):
        length = int.from_bytes(blob[pos : pos + 4], "big")
        segments.append(blob[pos : pos + 4 + 12 + length])
        pos += 4 + 12 + length
    return header, segments


@pytest.mark.parametrize("tamper", ["drop last segment", "swap segments", "append a segment", "flip a byte"])
def test_a_cut_reordered_or_altered_file_does_not_decrypt(staging: Staging, tamper: str) -> None:
    path, _ = _segmented(staging)
    header, segments = _segments(path.read_bytes())
    assert len(segments) == 3
    if tamper == "drop last segment":
        segments = segments[:-1]
    elif tamper == "swap segments":
        segments = [segments[1], segments[0], segments[2]]
    elif tamper == "append a segment":
        segments = [*segments, segments[0]]
    else:
        last = bytearray(segments[-1])
        last[-1] ^= 1
        segments[-1] = bytes(last)
    path.write_bytes(header + b"".join(segments))
    with pytest.raises(InvalidTag):
        staging.get("job3", 0)


def test_a_file_moved_to_another_index_or_job_does_not_decrypt(staging: Staging) -> None:
    path, _ = _segmented(staging, "job4", 0)
    path.rename(path.with_name("1.bin"))
    with pytest.raises(InvalidTag):
        staging.get("job4", 1)
    other = staging.directory / "job5" / "1.bin"
    other.parent.mkdir()
    (staging.directory / "job4" / "1.bin").rename(other)
    with pytest.raises(InvalidTag):
        staging.get("job5", 1)


def test_adopted_upload_belongs_to_its_job_only(staging: Staging) -> None:
    uploads = {}
    for job in ("job-a", "job-b"):
        stage_id = staging.new_upload()
        writer = staging.writer(stage_id, 0)
        writer.write(job.encode() * 1000)
        writer.close()
        staging.adopt(stage_id, job)
        uploads[job] = stage_id
        assert not (staging.directory / stage_id).exists()
        assert staging.get(job, 0) == job.encode() * 1000
    # Swapping the jobs' folders (or one file) is detected: each folder is sealed to its job id.
    (staging.directory / "job-a").rename(staging.directory / "tmp")
    (staging.directory / "job-b").rename(staging.directory / "job-a")
    (staging.directory / "tmp").rename(staging.directory / "job-b")
    for job in ("job-a", "job-b"):
        with pytest.raises(InvalidTag):
            staging.get(job, 0)


def test_aborted_writer_leaves_nothing(staging: Staging) -> None:
    writer = staging.writer("job6", 0)
    writer.write(b"x" * (SEGMENT_BYTES + 5))
    writer.abort()
    assert files_under(staging.directory) == []


def test_uploads_orphaned_by_a_killed_process_are_swept_at_the_next_start(staging: Staging) -> None:
    old, fresh = staging.new_upload(), staging.new_upload()
    for stage_id in (old, fresh):
        writer = staging.writer(stage_id, 0)
        writer.write(b"partial")
    staging.put("queued-job", 0, b"kept until ingested")
    long_ago = time.time() - 7200
    for path in (staging.directory / old, *(staging.directory / old).iterdir()):
        os.utime(path, (long_ago, long_ago))
    Staging(staging.directory, KEY)  # a new process opens the staging area
    assert not (staging.directory / old).exists()
    assert (staging.directory / fresh).exists()  # may still be streaming in (another worker)
    assert staging.get("queued-job", 0) == b"kept until ingested"


# --- streaming multipart parsing with limits ------------------------------------------------


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def feed(upload: MultipartUpload, body: bytes, chunk: int = 7) -> None:
    for start in range(0, len(body), chunk):
        upload.feed(body[start : start + chunk])


def test_fields_and_files_are_parsed_from_tiny_chunks(staging: Staging) -> None:
    body = multipart(
        ("paths", b"a/one.md", None),
        ("files", b"# One\r\n\r\n--not a boundary", "one.md"),
        ("groups", b"hr,eng", None),
        ("files", b"", "empty.txt"),
        ("paths", "b/tw\u00f6.md".encode(), None),
        ("other", b"ignored", None),
    )
    upload = MultipartUpload(staging, CONTENT_TYPE, LIMITS)
    feed(upload, body)
    upload.finish()
    assert upload.filenames == ["one.md", "empty.txt"]
    assert upload.paths == ["a/one.md", "b/tw\u00f6.md"]
    assert upload.groups == "hr,eng"
    assert staging.get(upload.stage_id, 0) == b"# One\r\n\r\n--not a boundary"
    assert staging.get(upload.stage_id, 1) == b""
    assert upload.sha256s[0] == hashlib.sha256(b"# One\r\n\r\n--not a boundary").hexdigest()
    upload.discard()
    assert files_under(staging.directory) == []


@pytest.mark.parametrize(
    "parts, error, words",
    [
        ([("files", b"x" * (4 * MiB + 1), "big.txt")], DocumentTooLarge, "big.txt: larger than the 4 MB"),
        ([("files", b"x", f"f{i}.txt") for i in range(4)], BodyTooLarge, "at most 3 files"),
        ([("files", b"x" * (3 * MiB), f"f{i}.txt") for i in range(3)], BodyTooLarge, "6 MB in all"),
        ([("paths", b"p" * (65 << 10), None)], BodyTooLarge, "64 KB"),
        ([("paths", b"p", None)] * 20, BodyTooLarge, "too many form fields"),
    ],
    ids=["per file", "files per upload", "total", "field bytes", "field count"],
)
def test_limits_are_enforced_while_streaming_and_discard_cleans_up(
    staging: Staging, parts: list[tuple[str, bytes, str | None]], error: type[Exception], words: str
) -> None:
    upload = MultipartUpload(staging, CONTENT_TYPE, LIMITS)
    with pytest.raises(error, match=words):
        feed(upload, multipart(*parts), chunk=64 << 10)
    upload.discard()
    assert files_under(staging.directory) == []


def test_a_large_file_is_never_held_whole_in_memory(staging: Staging) -> None:
    limits = UploadLimits(file_bytes=64 * MiB, files=1, total_bytes=64 * MiB, fields_bytes=64 << 10)
    upload = MultipartUpload(staging, CONTENT_TYPE, limits)
    head, tail = multipart(("files", b"@", "big.bin")).split(b"@")
    block = b"z" * (64 << 10)
    tracemalloc.start()
    try:
        upload.feed(head)
        for _ in range(512):  # 32 MiB
            upload.feed(block)
        upload.feed(tail)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    upload.finish()
    assert peak < 6 * MiB, f"peak {peak >> 20} MiB while streaming 32 MiB"
    assert len(staging.get(upload.stage_id, 0)) == 32 * MiB
    upload.discard()


@pytest.mark.parametrize(
    "content_type, body, error",
    [
        ("application/json", b"{}", RequestValidationError),
        (CONTENT_TYPE, multipart(("groups", b"*", None)), RequestValidationError),
        (CONTENT_TYPE, b"", RequestValidationError),
        (CONTENT_TYPE, multipart(("files", b"abc", "a.txt"))[:-10], InputError),
        (CONTENT_TYPE, b"--" + BOUNDARY.encode() + b"\r\nno colon here\r\n\r\nx", InputError),
        (CONTENT_TYPE, f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(), InputError),
    ],
    ids=["not multipart", "no files", "empty", "cut short", "malformed", "part without a name"],
)
def test_bad_bodies_get_the_errors_they_got_before(
    staging: Staging, content_type: str, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        upload = MultipartUpload(staging, content_type, LIMITS)
        try:
            feed(upload, body)
            upload.finish()
        finally:
            upload.discard()
    assert files_under(staging.directory) == []


def test_routes_that_need_no_key_and_the_upload_route() -> None:
    assert is_public("/healthz") and is_public("/") and is_public("/ui/app.js") and is_public("/favicon.ico")
    for path in ("/openapi.json", "/readyz", "/docs", "/v1/search", "/healthz/", "/uix", "/v1/me"):
        assert not is_public(path), path
    assert is_upload("POST", "/v1/collections/hr/documents")
    assert not is_upload("GET", "/v1/collections/hr/documents")
    assert not is_upload("POST", "/v1/collections/hr/documents/x/acl")
