"""Tests for enclave_core.audit.signing and the signed mode of enclave_core.audit.log.

Signed mode: every record carries an Ed25519 "sig" over (seq, hash); head.json holds the signed
head after every append; checkpoints.log gets a signed entry every ``checkpoint_every`` records.
VerifyResult.first_bad is 1-based; for truncation it names the first missing record.
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from enclave_core.audit.log import GENESIS, AuditLog, canonical, record_hash
from enclave_core.audit.signing import AuditSigner, head_message, load_public_key, verify_signed

N = 7  # records in the standard log: checkpoints at 3 and 6
EVERY = 3


def key_path(tmp_path: Path, name: str = "a") -> Path:
    return tmp_path / "secrets" / f"audit-{name}.key"


def make_log(tmp_path: Path, n: int = N, key: str = "a") -> AuditLog:
    log = AuditLog(tmp_path / "audit", key_path(tmp_path, key), checkpoint_every=EVERY)
    for i in range(1, n + 1):
        log.append("query", user=f"user{i}", collection="hr", question=f"question {i}")
    return log


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def result_of(log: AuditLog) -> tuple[bool, int, int | None]:
    r = log.verify()
    return r.ok, r.records, r.first_bad


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the signer -----------------------------------------------------------------------------------


def test_signer_creates_a_0600_key_and_reloads_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "k.pem"
    signer = AuditSigner(path)
    assert mode(path) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    again = AuditSigner(path)
    assert again.public_pem() == signer.public_pem()
    entry = signer.sign(5, "ab" * 32)
    assert entry["seq"] == 5 and entry["hash"] == "ab" * 32
    assert entry == again.sign(5, "ab" * 32)  # Ed25519 is deterministic
    public = serialization.load_pem_public_key(signer.public_pem())
    assert verify_signed(public, entry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 6},
        {"seq": "5x"},
        {"hash": "cd" * 32},
        {"sig": base64.b64encode(b"\0" * 64).decode()},
        {"sig": "not base64!"},
        {"sig": ""},
    ],
)
def test_verify_signed_rejects_any_change(tmp_path: Path, change: dict[str, object]) -> None:
    signer = AuditSigner(tmp_path / "k.pem")
    public = serialization.load_pem_public_key(signer.public_pem())
    entry = {**signer.sign(5, "ab" * 32), **change}
    assert verify_signed(public, entry) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["seq", "hash", "sig"])
def test_verify_signed_rejects_a_missing_field(tmp_path: Path, missing: str) -> None:
    signer = AuditSigner(tmp_path / "k.pem")
    public = serialization.load_pem_public_key(signer.public_pem())
    entry = signer.sign(5, "ab" * 32)
    del entry[missing]
    assert verify_signed(public, entry) is False  # type: ignore[arg-type]


def test_head_message_separates_fields() -> None:
    assert head_message(1, "23") != head_message(12, "3")


def test_non_ed25519_keys_are_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "ec.pem"
    private.write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        AuditSigner(private)
    public = tmp_path / "ec.pub"
    public.write_bytes(
        other.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        load_public_key(public)


# -- the signed log -------------------------------------------------------------------------------


def test_key_file_is_created_0600_outside_the_audit_dir_and_public_key_inside(tmp_path: Path) -> None:
    log = make_log(tmp_path, 1)
    key = key_path(tmp_path)
    assert key.exists() and mode(key) == 0o600
    assert log.directory not in key.parents
    assert sorted(p.name for p in log.directory.iterdir()) == ["audit-signing.pub", "audit.log", "head.json"]
    for p in log.directory.iterdir():
        assert b"PRIVATE" not in p.read_bytes()
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert log.public_key_path.read_bytes() == private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_every_record_has_a_valid_signature_and_the_head_is_signed(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    public = load_public_key(log.public_key_path)
    records = list(log.records())
    assert [r["seq"] for r in records] == list(range(1, N + 1))
    prev = GENESIS
    for r in records:
        assert r["prev"] == prev and r["hash"] == record_hash(r)
        assert verify_signed(public, {"seq": r["seq"], "hash": r["hash"], "sig": r["sig"]}, "record")
        assert not verify_signed(public, {"seq": r["seq"], "hash": r["hash"], "sig": r["sig"]}, "head")
        prev = r["hash"]
    head = json.loads(log.head_path.read_text())
    assert (head["seq"], head["hash"]) == (N, records[-1]["hash"])
    assert verify_signed(public, head)
    assert (log.verify().ok, log.verify().records) == (True, N)


def test_checkpoints_every_n_records_are_signed(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    hashes = [r["hash"] for r in log.records()]
    public = load_public_key(log.public_key_path)
    checkpoints = [json.loads(line) for line in lines(log.checkpoints_path)]
    assert [c["seq"] for c in checkpoints] == [3, 6]
    for c in checkpoints:
        assert c["hash"] == hashes[c["seq"] - 1]
        assert verify_signed(public, c, "checkpoint")


def test_a_new_instance_keeps_signing_with_the_same_key(tmp_path: Path) -> None:
    log = make_log(tmp_path, 2)
    pub = log.public_key_path.read_bytes()
    AuditLog(log.directory, key_path(tmp_path), checkpoint_every=EVERY).append("query", user="later")
    assert log.public_key_path.read_bytes() == pub
    assert [json.loads(line)["seq"] for line in lines(log.checkpoints_path)] == [3]
    assert result_of(log) == (True, 3, None)


def test_auditor_without_the_private_key_can_verify(tmp_path: Path) -> None:
    make_log(tmp_path)
    assert result_of(AuditLog(tmp_path / "audit")) == (True, N, None)


# -- tampering with the signature files ------------------------------------------------------------


def _edit_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (lambda log: _edit_json(log.head_path, seq=N - 1), N - 1),
        (lambda log: _edit_json(log.head_path, hash="0" * 64), N),
        (lambda log: _edit_json(log.head_path, sig=base64.b64encode(b"\1" * 64).decode()), N),
        (lambda log: log.head_path.unlink(), 1),
    ],
    ids=["head-seq", "head-hash", "head-sig", "head-deleted"],
)
def test_tampering_with_the_head_is_detected(tmp_path: Path, tamper, first_bad: int) -> None:  # type: ignore[no-untyped-def]
    log = make_log(tmp_path)
    tamper(log)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, first_bad)
    assert "head" in result.reason


def _edit_checkpoint(log: AuditLog, index: int, **changes: object) -> None:
    cps = lines(log.checkpoints_path)
    cps[index] = canonical({**json.loads(cps[index]), **changes}) + b"\n"
    log.checkpoints_path.write_bytes(b"".join(cps))


def test_a_checkpoint_with_another_hash_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    _edit_checkpoint(log, 0, hash="f" * 64)
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (False, 3, "a checkpoint's signature is invalid")


def test_a_checkpoint_moved_to_another_record_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    _edit_checkpoint(log, 1, seq=5)
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (False, 5, "a checkpoint's signature is invalid")


def test_a_record_rewritten_with_a_valid_signature_elsewhere_is_caught_by_its_checkpoint(
    tmp_path: Path,
) -> None:
    """Swap in a whole, correctly signed chain from another log with the same key: the checkpoint
    of the original log no longer matches."""
    log = make_log(tmp_path)
    original_checkpoints = log.checkpoints_path.read_bytes()
    log.path.unlink()
    log.head_path.unlink()
    log.checkpoints_path.unlink()
    for i in range(1, N + 1):
        log.append("query", user=f"forged{i}")
    log.checkpoints_path.write_bytes(original_checkpoints)
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (
        False,
        3,
        "record differs from its signed checkpoint",
    )


@pytest.mark.parametrize("replacement", ["other-key", "deleted"])
def test_tampering_with_the_public_key_is_detected(tmp_path: Path, replacement: str) -> None:
    log = make_log(tmp_path)
    if replacement == "other-key":
        other = Ed25519PrivateKey.generate().public_key()
        log.public_key_path.write_bytes(
            other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        assert result_of(log) == (False, 0, 1)
        assert log.verify().reason == "audit-signing.pub does not match the signing key"
    else:
        log.public_key_path.unlink()
        result = log.verify()
        assert (result.ok, result.reason) == (False, "public signing key is missing")
        # An auditor's instance (no private key) sees it too, because head.json is there.
        assert AuditLog(log.directory).verify().ok is False


@pytest.mark.parametrize(
    ("target", "content"),
    [
        ("audit-signing.pub", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        ("head.json", b"{not json"),
        ("head.json", b"[1, 2, 3]"),
        ("checkpoints.log", b"garbage\n"),
        ("checkpoints.log", b'{"hash": "00"}\n'),
    ],
    ids=["pub-garbage", "head-not-json", "head-a-list", "checkpoint-not-json", "checkpoint-no-seq"],
)
def test_unreadable_signature_files_are_reported_not_raised(tmp_path: Path, target: str, content: bytes) -> None:
    log = make_log(tmp_path)
    (log.directory / target).write_bytes(content)
    result = log.verify()
    assert result.ok is False and result.reason


def test_a_record_without_a_signature_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    ls = lines(log.path)
    record = json.loads(ls[3])
    del record["sig"]
    ls[3] = canonical(record) + b"\n"
    log.path.write_bytes(b"".join(ls))
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (
        False,
        4,
        "record signature is missing or invalid",
    )


# -- truncation and deletion ---------------------------------------------------------------------


@pytest.mark.parametrize("keep", [N - 1, N - 2, 6, 5, 3, 1, 0])
def test_truncation_names_the_first_missing_record(tmp_path: Path, keep: int) -> None:
    log = make_log(tmp_path)
    log.path.write_bytes(b"".join(lines(log.path)[:keep]))
    result = log.verify()
    assert (result.ok, result.records, result.first_bad) == (False, keep, keep + 1)
    assert "truncated" in result.reason


def test_deleting_the_whole_log_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    log.path.unlink()
    result = log.verify()
    assert (result.ok, result.records, result.first_bad) == (False, 0, 1)
    assert "truncated" in result.reason


def test_deleting_the_whole_audit_directory_is_detected_when_a_key_is_configured(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    for p in log.directory.iterdir():
        p.unlink()
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (False, 1, "public signing key is missing")


def test_records_appended_without_the_key_are_detected(tmp_path: Path) -> None:
    """Someone appends with an unsigned instance: the record has no sig and the head is stale."""
    log = make_log(tmp_path, 4)
    AuditLog(log.directory).append("query", user="mallory")
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 5)


def test_a_log_signed_with_key_a_does_not_verify_with_key_b(tmp_path: Path) -> None:
    log = make_log(tmp_path, key="a")
    assert log.verify().ok
    b = AuditSigner(key_path(tmp_path, "b"))
    log.public_key_path.write_bytes(b.public_pem())
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (
        False,
        1,
        "audit-signing.pub does not match the signing key",
    )
    # An auditor without the private key, given B's public key, rejects the records themselves.
    auditor = AuditLog(log.directory).verify()
    assert (auditor.ok, auditor.first_bad, auditor.reason) == (False, 1, "record signature is missing or invalid")


def test_appending_with_key_b_to_a_log_signed_with_key_a_breaks_verification(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3, key="a")
    log_b = AuditLog(log.directory, key_path(tmp_path, "b"), checkpoint_every=EVERY)
    log_b.append("query", user="b")  # rewrites the public key with B's
    assert log.public_key_path.read_bytes() == AuditSigner(key_path(tmp_path, "b")).public_pem()
    assert result_of(log_b) == (False, 0, 1)


def test_a_chain_rebuilt_with_another_key_does_not_verify_for_the_key_holder(tmp_path: Path) -> None:
    make_log(tmp_path, key="attacker")  # the whole directory written by someone else's key
    owner = AuditLog(tmp_path / "audit", key_path(tmp_path, "owner"), checkpoint_every=EVERY)
    assert owner.verify().ok is False


def test_truncation_with_a_head_forged_from_a_record_signature_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    keep = 4
    records = [json.loads(line) for line in lines(log.path)]
    log.path.write_bytes(b"".join(lines(log.path)[:keep]))
    last = records[keep - 1]
    log.head_path.write_text(json.dumps({"seq": keep, "hash": last["hash"], "sig": last["sig"]}))
    cps = [line for line in lines(log.checkpoints_path) if json.loads(line)["seq"] <= keep]
    log.checkpoints_path.write_bytes(b"".join(cps))
    assert log.verify().ok is False
