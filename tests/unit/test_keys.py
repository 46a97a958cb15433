"""Tests for enclave_core.keys: secrets shown once, only hashes stored, authentication, revocation."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from enclave_core.errors import InputError, NotFoundError
from enclave_core.identity import Principal
from enclave_core.keys import KEY_PREFIX, KeyStore, atomic_write


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "secrets" / "api_keys.json")


def test_create_returns_the_secret_once_and_stores_only_its_sha256(store: KeyStore) -> None:
    key, secret = store.create("alice", ["hr", "eng", "hr"], ["pii:reveal"])
    assert secret.startswith(KEY_PREFIX)
    assert len(secret) >= len(KEY_PREFIX) + 43  # 32 random bytes, url-safe base64
    assert key.key_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert key.user == "alice"
    assert key.groups == ["eng", "hr"]  # sorted, de-duplicated
    assert key.roles == ["pii:reveal"]
    assert key.revoked_at is None
    assert len(key.key_id) == 12

    text = store.path.read_text(encoding="utf-8")
    assert secret not in text
    assert secret[len(KEY_PREFIX) :] not in text
    assert key.key_sha256 in text
    # Nothing handed out later carries the secret either.
    assert all(secret not in repr(k) for k in store.list())
    assert secret not in repr(key)


def test_each_key_gets_a_different_secret_and_id(store: KeyStore) -> None:
    created = [store.create("alice", ["hr"], []) for _ in range(5)]
    assert len({s for _, s in created}) == 5
    assert len({k.key_id for k, _ in created}) == 5


def test_file_is_json_readable_by_its_owner_only(store: KeyStore) -> None:
    store.create("alice", ["hr"], [])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert [k["user"] for k in data["keys"]] == ["alice"]
    assert set(data["keys"][0]) >= {"key_id", "user", "groups", "roles", "key_sha256", "created_at"}
    # The file is rewritten atomically: no temp file is left behind.
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]


def test_mode_stays_0600_after_rewrites(store: KeyStore) -> None:
    key, _ = store.create("alice", ["hr"], [])
    store.create("bob", ["eng"], [])
    store.revoke(key.key_id)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_atomic_write_replaces_content_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.json"]


def test_authenticate(store: KeyStore) -> None:
    alice, alice_secret = store.create("alice", ["hr"], ["admin"])
    bob, bob_secret = store.create("bob", ["eng"], [])
    assert store.authenticate(alice_secret) == alice
    assert store.authenticate(bob_secret) == bob
    principal = store.authenticate(bob_secret).principal()  # type: ignore[union-attr]
    assert principal == Principal("bob", frozenset({"eng"}), frozenset(), auth="api-key")
    assert not principal.is_admin
    assert store.authenticate(alice_secret).principal().is_admin  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "presented",
    ["", KEY_PREFIX, "enc_wrong", "not-a-key", "ENC_SOMETHING", "x" * 500],
)
def test_authenticate_rejects_wrong_keys(store: KeyStore, presented: str) -> None:
    store.create("alice", ["hr"], [])
    assert store.authenticate(presented) is None


def test_authenticate_rejects_near_misses_and_hashes(store: KeyStore) -> None:
    key, secret = store.create("alice", ["hr"], [])
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for presented in (flipped, secret + "x", secret[:-1], secret.upper(), " " + secret, key.key_sha256):
        assert store.authenticate(presented) is None, presented


def test_authenticate_with_no_key_file(store: KeyStore) -> None:
    assert store.authenticate("enc_anything") is None
    assert store.list() == []


def test_revoked_key_no_longer_authenticates(store: KeyStore) -> None:
    alice, alice_secret = store.create("alice", ["hr"], [])
    bob, bob_secret = store.create("bob", ["eng"], [])
    revoked = store.revoke(alice.key_id)
    assert revoked.key_id == alice.key_id
    assert revoked.revoked_at is not None
    assert store.authenticate(alice_secret) is None
    assert store.authenticate(bob_secret) == bob
    # Revocation is persisted: a fresh store (another process) sees it too.
    fresh = KeyStore(store.path)
    assert fresh.authenticate(alice_secret) is None
    assert {k.key_id: k.revoked_at is not None for k in fresh.list()} == {
        alice.key_id: True,
        bob.key_id: False,
    }


def test_revocation_by_another_instance_is_seen(store: KeyStore) -> None:
    key, secret = store.create("alice", ["hr"], [])
    assert store.authenticate(secret) is not None  # warms the cache
    KeyStore(store.path).revoke(key.key_id)
    assert store.authenticate(secret) is None


def test_revoke_unknown_key(store: KeyStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        store.revoke("nope")
    store.create("alice", ["hr"], [])
    with pytest.raises(NotFoundError):
        store.revoke("000000000000")


def test_list_returns_every_key_in_creation_order(store: KeyStore) -> None:
    made = [store.create(user, [f"g{i}"], [])[0] for i, user in enumerate(["carol", "alice", "bob"])]
    listed = store.list()
    assert [k.key_id for k in listed] == [k.key_id for k in made]
    assert [k.user for k in listed] == ["carol", "alice", "bob"]
    assert [k.groups for k in listed] == [["g0"], ["g1"], ["g2"]]


@pytest.mark.parametrize(
    "groups",
    [[""], ["hr", ""], ["a,b"], ["hr\neng"], ["bad\x00"], ["\x00no-group"]],
)
def test_invalid_group_names_are_rejected(store: KeyStore, groups: list[str]) -> None:
    with pytest.raises(InputError, match="invalid group name"):
        store.create("alice", groups, [])
    assert not store.path.exists()


@pytest.mark.parametrize("user", ["", "a\nb", "nul\x00"])
def test_invalid_user_names_are_rejected(store: KeyStore, user: str) -> None:
    with pytest.raises(InputError):
        store.create(user, ["hr"], [])
    assert not store.path.exists()


@pytest.mark.parametrize("groups", [[], ["hr"], ["hr-team", "eng_2", "Legal Dept", "ünïcode"]])
def test_valid_group_names_are_accepted(store: KeyStore, groups: list[str]) -> None:
    _, secret = store.create("alice", groups, [])
    assert store.authenticate(secret).groups == sorted(groups)  # type: ignore[union-attr]
