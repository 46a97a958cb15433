"""Tests for enclave_core.audit.log: the hash chain, every kind of tampering, concurrent appends.

Record numbers in VerifyResult.first_bad are 1-based line numbers. The rule the tests pin down:
verify() names the first line that does not fit the chain built from the lines before it.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from enclave_core.audit.log import GENESIS, AuditLog, canonical, record_hash

N = 5  # records in the standard log


def make_log(tmp_path: Path, n: int = N, signed: bool = False) -> AuditLog:
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key" if signed else None)
    for i in range(1, n + 1):
        log.append("query", user=f"user{i}", collection="hr", question=f"question number {i}")
    return log


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def rewrite(log: AuditLog, new_lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(new_lines))


def forge(record: dict[str, object], **changes: object) -> bytes:
    """A record with some fields changed and its own hash correctly recomputed."""
    forged = {**record, **changes}
    forged["hash"] = record_hash(forged)
    return canonical(forged) + b"\n"


# -- the untampered chain ----------------------------------------------------------------------


def test_missing_or_empty_log_verifies(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    assert log.verify().ok and log.verify().records == 0
    assert list(log.records()) == []
    log.directory.mkdir(exist_ok=True)  # (verify() may create the directory and an empty file)
    log.path.touch()
    result = log.verify()
    assert (result.ok, result.records, result.first_bad) == (True, 0, None)


def test_append_builds_a_verifiable_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    first = log.append("ingest", user="alice", doc_id="d1")
    second = log.append("query", user="bob", question="where is <PERSON>?")
    assert first["seq"] == 1 and second["seq"] == 2
    assert first["prev"] == GENESIS
    assert second["prev"] == first["hash"]
    assert first["hash"] == record_hash(first) and len(first["hash"]) == 64
    assert first["action"] == "ingest" and first["user"] == "alice" and first["doc_id"] == "d1"
    assert list(log.records()) == [first, second]
    result = log.verify()
    assert (result.ok, result.records, result.first_bad, result.reason) == (True, 2, None, "")


def test_a_new_instance_continues_the_chain(tmp_path: Path) -> None:
    make_log(tmp_path, 3)
    record = AuditLog(tmp_path / "audit").append("revoke", key_id="k1")
    assert record["seq"] == 4
    assert AuditLog(tmp_path / "audit").verify().records == 4


def test_records_larger_than_the_tail_block_are_read_back(tmp_path: Path) -> None:
    """_last_record reads 64 KiB blocks backwards; a bigger last record must still be found."""
    log = AuditLog(tmp_path / "audit")
    log.append("query", note="x")
    big = log.append("ingest", blob="y" * 200_000)
    after = log.append("query", note="z")
    assert after["seq"] == 3 and after["prev"] == big["hash"]
    assert log.verify().ok and log.verify().records == 3


def test_non_ascii_fields_round_trip(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    rec = log.append("query", question="Où est la clé ? 鍵")
    assert next(log.records())["question"] == "Où est la clé ? 鍵"
    assert rec["hash"] == record_hash(next(log.records()))
    assert log.verify().ok


# -- tampering: each must fail verify() and name the right record ----------------------------------


def _edit_value(line: bytes) -> bytes:
    assert b'"user":"user3"' in line
    return line.replace(b'"user":"user3"', b'"user":"user4"')  # one byte changed


def _edit_hash(line: bytes) -> bytes:
    rec = json.loads(line)
    h = rec["hash"]
    return line.replace(h.encode(), (("1" if h[0] == "0" else "0") + h[1:]).encode())


def _edit_prev(line: bytes) -> bytes:
    rec = json.loads(line)
    p = rec["prev"]
    return line.replace(p.encode(), (("1" if p[0] == "0" else "0") + p[1:]).encode())


def _edit_ts(line: bytes) -> bytes:
    rec = json.loads(line)
    ts = rec["ts"]
    return line.replace(ts.encode(), ("1999" + ts[4:]).encode())


def _edit_seq(line: bytes) -> bytes:
    return line.replace(b'"seq":3', b'"seq":8')


def _break_json(line: bytes) -> bytes:
    return b"X" + line[1:]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_edit_value, "content does not match its hash"),
        (_edit_ts, "content does not match its hash"),
        (_edit_hash, "content does not match its hash"),
        (_edit_prev, "link to the previous record is broken"),
        (_edit_seq, "sequence 8 != 3"),
        (_break_json, "not valid JSON"),
    ],
)
def test_editing_one_byte_of_a_record_is_detected_at_that_record(
    tmp_path: Path, edit: Callable[[bytes], bytes], reason: str
) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    edited = edit(ls[2])
    assert len(edited) == len(ls[2]) and edited != ls[2]
    ls[2] = edited
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 3, 2)
    assert result.reason == reason


def test_editing_content_and_recomputing_its_own_hash_breaks_the_next_link(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    ls[2] = forge(json.loads(ls[2]), user="mallory")
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 4)
    assert result.reason == "link to the previous record is broken"


def test_inserting_a_copied_record_is_detected_at_the_insertion(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    ls.insert(2, forge(json.loads(ls[1]), user="mallory"))  # a forged "record 2" placed at line 3
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 3, 2)
    assert result.reason.startswith("sequence 2 != 3")


def test_inserting_a_fully_linked_forgery_is_detected_at_the_record_after_it(tmp_path: Path) -> None:
    """seq, prev and hash of the forgery are all right, so line 3 fits; the original record 3,
    now on line 4, is the first line that no longer fits the chain."""
    log = make_log(tmp_path)
    ls = lines(log)
    prev = json.loads(ls[1])
    ls.insert(2, forge(json.loads(ls[2]), seq=3, prev=prev["hash"], user="mallory"))
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 4, 3)
    assert result.reason == "sequence 3 != 4"


def test_inserting_a_forgery_and_rechaining_the_rest_is_detected(tmp_path: Path) -> None:
    """Anyone with write access can recompute every hash after a forgery, but not the signatures."""
    log = make_log(tmp_path, signed=True)
    records = [json.loads(line) for line in lines(log)]
    forged_chain: list[bytes] = []
    prev = GENESIS
    fake = {**records[2], "user": "mallory"}
    for seq, rec in enumerate([*records[:2], fake, *records[2:]], start=1):
        line = forge(rec, seq=seq, prev=prev)
        prev = json.loads(line)["hash"]
        forged_chain.append(line)
    rewrite(log, forged_chain)
    result = log.verify()
    assert not result.ok
    assert result.first_bad == 3


def test_deleting_a_middle_record_is_detected_where_it_was(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    del ls[2]
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 3, 2)
    assert result.reason == "sequence 4 != 3"


def test_deleting_the_first_record_is_detected_at_line_1(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    rewrite(log, lines(log)[1:])
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 1, 0)


@pytest.mark.parametrize(("a", "b"), [(1, 2), (2, 3), (4, 5), (1, 5)])
def test_reordering_two_records_is_detected_at_the_first_moved(tmp_path: Path, a: int, b: int) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    ls[a - 1], ls[b - 1] = ls[b - 1], ls[a - 1]
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, a, a - 1)
    assert result.reason == f"sequence {b} != {a}"


@pytest.mark.parametrize("keep", [1, 10, 0.5, -3])
def test_cutting_the_last_record_mid_line_is_detected_at_it(tmp_path: Path, keep: float) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    cut = int(len(ls[-1]) * keep) if isinstance(keep, float) else keep
    ls[-1] = ls[-1][:cut]
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, N, N - 1)
    assert result.reason == "not valid JSON"


def test_cutting_the_file_inside_a_middle_record_is_detected_at_it(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    data = log.path.read_bytes()
    ls = lines(log)
    offset = sum(len(line) for line in ls[:2]) + len(ls[2]) // 2  # halfway through record 3
    log.path.write_bytes(data[:offset])
    result = log.verify()
    assert (result.ok, result.first_bad, result.records) == (False, 3, 2)


def test_blank_line_inserted_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    ls = lines(log)
    ls.insert(3, b"\n")
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 4)


def test_truncating_the_last_whole_record_is_detected(tmp_path: Path) -> None:
    """Dropping whole records from the end leaves a valid, shorter chain; the signed head names
    the first missing record, N."""
    log = make_log(tmp_path, signed=True)
    rewrite(log, lines(log)[:-1])
    result = log.verify()
    assert not result.ok
    assert result.first_bad == N


def test_append_after_a_record_without_trailing_newline_keeps_the_chain(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-1])  # crash between the record and its "\n"
    assert log.verify().ok  # the N records are all still intact
    log.append("query", user="after-crash")
    result = log.verify()
    assert result.ok and result.records == N + 1


# -- concurrency ------------------------------------------------------------------------------------


def _check_chain(log: AuditLog, expected: int) -> list[dict[str, object]]:
    result = log.verify()
    assert result.ok, result
    assert result.records == expected
    recs = list(log.records())
    assert [r["seq"] for r in recs] == list(range(1, expected + 1))
    return recs


def test_concurrent_appends_from_threads_keep_a_valid_chain(tmp_path: Path) -> None:
    shared = AuditLog(tmp_path / "audit")
    threads_n, per_thread = 8, 20
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        # Half the threads share one instance, half have their own (like separate components).
        log = shared if t % 2 else AuditLog(tmp_path / "audit")
        try:
            barrier.wait()
            for i in range(per_thread):
                log.append("query", worker=f"t{t}", i=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors
    recs = _check_chain(shared, threads_n * per_thread)
    assert sorted((r["worker"], r["i"]) for r in recs) == sorted(
        (f"t{t}", i) for t in range(threads_n) for i in range(per_thread)
    )


def _process_worker(directory: str, name: str, count: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait(30)
    log = AuditLog(Path(directory))
    for i in range(count):
        log.append("query", worker=name, i=i)


def test_concurrent_appends_from_two_processes_keep_a_valid_chain(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    per_process = 40
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_process_worker, args=(str(directory), f"p{n}", per_process, start)) for n in range(2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    recs = _check_chain(AuditLog(directory), 2 * per_process)
    for n in range(2):
        assert [r["i"] for r in recs if r["worker"] == f"p{n}"] == list(range(per_process))


def test_unsigned_chain_cannot_see_truncation_at_the_end(tmp_path: Path) -> None:
    """Why the product always signs: without a key a shortened chain is still a valid chain."""
    log = make_log(tmp_path)
    rewrite(log, lines(log)[:-1])
    assert log.verify().ok


def test_signed_log_verifies_and_detects_a_deleted_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, signed=True)
    assert log.verify().ok
    log.head_path.unlink()
    assert not log.verify().ok


def test_signed_log_with_edited_byte_names_the_record(tmp_path: Path) -> None:
    log = make_log(tmp_path, signed=True)
    ls = lines(log)
    ls[1] = ls[1].replace(b"user2", b"user9")
    rewrite(log, ls)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2)
