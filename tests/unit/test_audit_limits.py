"""Issue #18, finding 5 at unit level: bounded records, aggregated authentication failures, the
audit-volume reserve rule, and the incremental verification behind ``GET /v1/audit``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import enclave_core.audit.log as audit_log
from enclave_core.audit.log import AuditLog, cap_strings, record_hash
from services.gateway import authfail, reserve
from services.gateway.authfail import AuthFailureAuditor
from services.gateway.reserve import AuditSpaceLow, check_audit_reserve, is_write
from tests.conftest import make_settings

EVERY = 3


def signed_log(tmp_path: Path, n: int = 10) -> AuditLog:
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key", checkpoint_every=EVERY)
    for i in range(n):
        log.append("query", user=f"user{i}", question=f"question {i}")
    return log


# -- capped fields -----------------------------------------------------------------------------------


def test_no_caller_can_write_an_unbounded_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit", max_field_chars=300)
    huge = "x" * 100_000
    record = log.append("auth.denied", path=huge, nested={"list": [huge, {"deep": huge}], huge: 1})
    assert len(log.path.read_bytes()) < 3_000
    assert record["path"] == "x" * 300 + "...[cut 99700 chars]"
    assert record["nested"]["list"][1]["deep"].endswith("...[cut 99700 chars]")
    assert log.verify().ok


def test_a_whole_question_stays_whole_by_default(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    question = "q" * 4000  # the API's longest question
    assert log.append("query", question=question)["question"] == question
    assert cap_strings(("a" * 5000, 7, None), 10) == ["a" * 10 + "...[cut 4990 chars]", 7, None]


# -- failed authentications -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def auditor(tmp_path: Path, per_client: int = 5, window_s: float = 60.0) -> tuple[AuthFailureAuditor, AuditLog, Clock]:
    log = AuditLog(tmp_path / "audit")
    clock = Clock()
    return AuthFailureAuditor(lambda: log, per_client, window_s, clock=clock), log, clock


def test_failures_beyond_the_first_few_per_client_are_counted_in_one_summary(tmp_path: Path) -> None:
    failures, log, clock = auditor(tmp_path)
    for i in range(100):
        failures.denied("10.0.0.1", "GET", "/v1/x/" + "a" * 4000, "no credential" if i % 2 else "invalid key")
    records = list(log.records())
    assert len(records) == 5 and all(len(r["path"]) < 300 for r in records)
    clock.now += 61
    failures.flush()
    summary = list(log.records())[-1]
    assert summary["action"] == "auth.denied" and summary["summary"] is True and summary["count"] == 95
    assert summary["clients"] == [{"client": "10.0.0.1", "count": 95}]
    assert summary["reasons"] == {"no credential": 48, "invalid key": 47}
    failures.denied("10.0.0.1", "GET", "/v1/x", "again")  # a new window: recorded one by one again
    assert list(log.records())[-1].get("summary") is None
    assert log.verify().ok


def test_the_summary_is_written_when_the_window_closes_and_on_close(tmp_path: Path) -> None:
    failures, log, clock = auditor(tmp_path, per_client=1)
    failures.denied("10.0.0.1", "GET", "/p", "r")
    failures.denied("10.0.0.1", "GET", "/p", "r")
    clock.now += 61
    failures.denied("10.0.0.2", "GET", "/p", "r")  # the next failure closes the old window first
    assert [r.get("count") for r in log.records()] == [None, 1, None]
    failures.denied("10.0.0.2", "GET", "/p", "r")
    failures.close()  # the gateway stops
    assert [r.get("count") for r in log.records()] == [None, 1, None, 1]


def test_the_timer_writes_the_summary_without_another_request(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    failures = AuthFailureAuditor(lambda: log, 1, 0.2)
    for _ in range(4):
        failures.denied("10.0.0.1", "GET", "/p", "r")
    import time

    deadline = time.monotonic() + 5
    while len(list(log.records())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.get("count") for r in log.records()] == [None, 3]


def test_many_addresses_keep_memory_and_records_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authfail, "MAX_CLIENTS", 50)
    failures, log, clock = auditor(tmp_path, per_client=5)
    for _ in range(25):
        for i in range(200):
            failures.denied(f"10.0.{i // 256}.{i % 256}", "GET", "/p", "r")
        assert len(failures._clients) <= 51  # 50 addresses, then one bucket for all the others
    assert len(list(log.records())) == authfail.GLOBAL_LOGGED
    clock.now += 61
    failures.flush()
    records = list(log.records())
    assert len(records) == authfail.GLOBAL_LOGGED + 1
    summary = records[-1]
    assert summary["count"] == 5000 - authfail.GLOBAL_LOGGED
    assert summary["clients"][0] == {"client": authfail.OTHER, "count": 150 * 25}
    assert len(summary["clients"]) == authfail.TOP_CLIENTS and summary["other_clients"] > 0
    assert sum(c["count"] for c in summary["clients"]) + summary["other_count"] == summary["count"]


def test_an_audit_failure_does_not_turn_a_401_into_a_500(tmp_path: Path) -> None:
    from enclave_core.audit.log import AuditWriteFailed

    class Full:
        def append(self, action: str, **fields: Any) -> None:
            raise AuditWriteFailed("disk full")

    failures = AuthFailureAuditor(lambda: Full(), 5, 60)  # type: ignore[arg-type, return-value]
    failures.denied("10.0.0.1", "GET", "/p", "r")  # no exception


# -- the reserve rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "write"),
    [
        ("GET", "/v1/audit", False),
        ("HEAD", "/v1/collections", False),
        ("POST", "/v1/search", False),
        ("POST", "/v1/query", False),
        ("POST", "/v1/chat", False),
        ("POST", "/v1/chat/completions", False),
        ("POST", "/v1/collections/hr/documents", True),
        ("PUT", "/v1/collections/hr/documents/d1/acl", True),
        ("DELETE", "/v1/collections/hr/documents/d1", True),
        ("DELETE", "/v1/conversations/c1", True),
        ("POST", "/v1/some/future/route", True),
    ],
)
def test_what_counts_as_a_write(method: str, path: str, write: bool) -> None:
    assert is_write(method, path) is write


def test_reserve_and_floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path / "data", ENCLAVE_AUDIT__MIN_FREE_MB="100", ENCLAVE_AUDIT__FLOOR_MB="10")
    free = [500 << 20]
    monkeypatch.setattr(reserve, "free_bytes", lambda path: free[0])
    check_audit_reserve(settings, "POST", "/v1/collections/hr/documents")
    free[0] = 50 << 20
    with pytest.raises(AuditSpaceLow, match="reserve of 100 MB"):
        check_audit_reserve(settings, "DELETE", "/v1/collections/hr/documents/d")
    check_audit_reserve(settings, "POST", "/v1/search")
    free[0] = 5 << 20
    with pytest.raises(AuditSpaceLow, match="floor of 10 MB"):
        check_audit_reserve(settings, "POST", "/v1/search")
    check_audit_reserve(settings, "GET", "/v1/audit")


# -- incremental verification ---------------------------------------------------------------------------


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counting(record: dict[str, Any]) -> str:
        calls[0] += 1
        return record_hash(record)

    monkeypatch.setattr(audit_log, "record_hash", counting)
    return calls


def test_incremental_verification_walks_only_new_records(tmp_path: Path, hash_calls: list[int]) -> None:
    log = signed_log(tmp_path, 200)
    first = log.verify_incremental()
    assert (first.ok, first.records, first.scope, first.checked) == (True, 200, "full", 200)
    for i in range(4):
        log.append("query", user="late", question=f"late {i}")
    hash_calls[0] = 0
    again = log.verify_incremental()
    assert (again.ok, again.records, again.scope, again.checked) == (True, 204, "incremental", 4)
    assert hash_calls[0] < 10
    hash_calls[0] = 0
    same = log.verify_incremental()
    assert (same.ok, same.checked) == (True, 0) and hash_calls[0] < 3
    assert log.verify_incremental(full=True).checked == 204


def _edit_byte(log: AuditLog) -> None:
    data = bytearray(log.path.read_bytes())
    data[data.index(b"question 3") + 9] = ord("7")
    log.path.write_bytes(bytes(data))


def _truncate_last(log: AuditLog) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:-1]))


def _forged_append(log: AuditLog) -> None:
    last = json.loads(log.path.read_bytes().splitlines()[-1])
    forged = {"seq": last["seq"] + 1, "ts": last["ts"], "action": "query", "prev": last["hash"]}
    forged["hash"] = record_hash(forged)
    with open(log.path, "ab") as fh:
        fh.write(audit_log.canonical(forged) + b"\n")


def _drop_head(log: AuditLog) -> None:
    log.head_path.unlink()


def _drop_checkpoints(log: AuditLog) -> None:
    log.checkpoints_path.write_bytes(b"")


def _roll_back(log: AuditLog) -> None:
    """Replace the audit directory by a copy from earlier (the anchor beside the key is newer)."""
    saved = log.directory.with_name("saved")
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(log.directory, saved)
    log.append("query", user="after the copy")
    shutil.rmtree(log.directory)
    shutil.copytree(saved, log.directory)


def _swap_public_key(log: AuditLog) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key()
    log.public_key_path.write_bytes(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    "tamper",
    [_edit_byte, _truncate_last, _forged_append, _drop_head, _drop_checkpoints, _roll_back, _swap_public_key],
)
def test_incremental_verification_reports_what_verify_reports(
    tmp_path: Path, tamper: Callable[[AuditLog], None]
) -> None:
    log = signed_log(tmp_path)
    assert log.verify_incremental().ok
    tamper(log)
    expected = log.verify()
    assert not expected.ok
    got = log.verify_incremental()
    assert (got.ok, got.records, got.first_bad, got.reason) == (
        False,
        expected.records,
        expected.first_bad,
        expected.reason,
    )
    assert log.verify_incremental().first_bad == expected.first_bad  # and keeps reporting it


def test_an_old_edit_made_along_with_new_records_needs_the_full_walk(tmp_path: Path) -> None:
    """The documented limit of the incremental check, and how the full one closes it."""
    log = signed_log(tmp_path)
    assert log.verify_incremental().ok
    _edit_byte(log)
    log.append("query", user="late")
    assert log.verify_incremental().ok  # only the new record was walked
    full = log.verify_incremental(full=True)
    assert (full.ok, full.first_bad) == (False, 4)
    assert log.verify().first_bad == 4


def test_a_concurrent_writer_is_seen(tmp_path: Path) -> None:
    log = signed_log(tmp_path)
    other = AuditLog(log.directory, tmp_path / "secrets" / "audit.key", checkpoint_every=EVERY)
    assert log.verify_incremental().ok
    for i in range(7):
        other.append("query", user="other", question=str(i))
        result = log.verify_incremental()
        assert result.ok and result.records == 11 + i and result.checked == 1
