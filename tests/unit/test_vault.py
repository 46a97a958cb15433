"""Tests for enclave_core.vault: encryption at rest, consistent placeholders, reveal, forgetting, keys."""

from __future__ import annotations

import base64
import shutil
import stat
import threading
from pathlib import Path

import pytest

from enclave_core.errors import PolicyError
from enclave_core.vault import PLACEHOLDER, Vault, VaultError, load_vault_key, normalise

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "vault", KEY)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- encryption at rest -------------------------------------------------------------------------


def test_values_never_appear_in_the_vault_file_and_the_file_is_0600(vault: Vault) -> None:
    secrets = ["Margaret Thatchwood", "555-0143", "margaret@example.org", "DE89370400440532013000"]
    doc_a, doc_b = "contract-2024-017.pdf", "payroll-march.xlsx"
    vault.assign("hr", [("PERSON", secrets[0], doc_a), ("PHONE_NUMBER", secrets[1], doc_a)])
    vault.assign("hr", [("EMAIL_ADDRESS", secrets[2], doc_b), ("IBAN_CODE", secrets[3], doc_b)])
    path = vault.directory / "hr.vault"
    blob = path.read_bytes()
    # (only strings long enough that random ciphertext cannot contain them by chance)
    for value in [*secrets, "PHONE_NUMBER", doc_a, doc_b, '"entries"', '"counters"']:
        assert value.encode() not in blob
        assert value.encode("utf-16-le") not in blob
    assert mode(path) == 0o600
    assert vault.collections() == ["hr"]
    # Each write uses a fresh nonce: rewriting the same state gives different bytes.
    vault.assign("hr", [("PERSON", "Someone Else", "d3")])
    assert path.read_bytes()[:12] != blob[:12]


def test_wrong_key_cannot_open_the_vault(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1")])
    other = Vault(vault.directory, OTHER_KEY)
    with pytest.raises(VaultError, match="cannot decrypt the vault of 'hr'"):
        other.lookup("hr", "PERSON", "Ann Smith")
    with pytest.raises(VaultError):
        other.assign("hr", [("PERSON", "Bob", "d2")])
    with pytest.raises(VaultError):
        other.reveal("hr", "<PERSON_1>")
    # The failed attempts changed nothing.
    assert vault.lookup("hr", "PERSON", "Ann Smith") == "<PERSON_1>"


def test_a_vault_file_copied_to_another_collection_does_not_decrypt(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1")])
    shutil.copy(vault.directory / "hr.vault", vault.directory / "finance.vault")
    with pytest.raises(VaultError, match="'finance'"):
        vault.reveal("finance", "<PERSON_1>")
    assert vault.reveal("hr", "<PERSON_1>") == ("Ann Smith", ["<PERSON_1>"])


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[:5],
        lambda b: b[:-1],
        lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:],
        lambda b: bytes([b[0] ^ 1]) + b[1:],  # the nonce
    ],
    ids=["empty", "shorter-than-nonce", "truncated", "flipped-ciphertext-bit", "flipped-nonce-bit"],
)
def test_damaged_vault_file_raises_vault_error(vault: Vault, damage) -> None:  # type: ignore[no-untyped-def]
    vault.assign("hr", [("PERSON", "Ann Smith", "d1")])
    path = vault.directory / "hr.vault"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(VaultError, match="wrong key or damaged file"):
        vault.lookup("hr", "PERSON", "Ann Smith")


# -- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "a", "b", "same"),
    [
        ("PERSON", "Ann Smith", "ann smith", True),
        ("PERSON", "Ann Smith", "  ANN   SMITH ", True),
        ("PERSON", "Ann Smith", "Ann\tSmith\n", True),
        ("PERSON", "Straße", "STRASSE", True),  # casefold, not lower
        ("PERSON", "Ann Smith", "Ann Smyth", False),
        ("PERSON", "Ann-Smith", "Ann Smith", False),  # punctuation matters for names
        ("EMAIL_ADDRESS", "Ann@Example.org", "ann@example.org", True),
        ("PHONE_NUMBER", "555-0143", "555 0143", True),
        ("PHONE_NUMBER", "(555) 0143", "5550143", True),
        ("PHONE_NUMBER", "+1 202 555 0143", "1-202-555-0143", True),
        ("PHONE_NUMBER", "555-0143", "555-0144", False),
        ("CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111", True),
        ("US_SSN", "078-05-1120", "078 05 1120", True),
        ("US_SSN", "078-05-1120", "078-05-1121", False),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", "de89370400440532013000", True),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01", False),
    ],
)
def test_normalise_table(entity: str, a: str, b: str, same: bool) -> None:
    assert (normalise(entity, a) == normalise(entity, b)) is same


@pytest.mark.parametrize(
    ("entity", "value", "expected"),
    [
        ("PERSON", "  Ann   SMITH ", "ann smith"),
        ("PHONE_NUMBER", "(555) 014-3", "5550143"),
        ("IBAN_CODE", "de89 3704.0044", "DE8937040044"),
        ("LOCATION", "New  York", "new york"),
    ],
)
def test_normalise_values(entity: str, value: str, expected: str) -> None:
    assert normalise(entity, value) == expected


# -- assign / lookup --------------------------------------------------------------------------


def test_assign_is_consistent_across_calls_documents_and_spellings(vault: Vault) -> None:
    first = vault.assign(
        "hr",
        [
            ("PERSON", "Ann Smith", "d1"),
            ("PERSON", "Bob Jones", "d1"),
            ("PHONE_NUMBER", "555-0143", "d1"),
            ("PERSON", "ann  smith", "d1"),  # same person, other spelling, same call
        ],
    )
    assert first == ["<PERSON_1>", "<PERSON_2>", "<PHONE_NUMBER_1>", "<PERSON_1>"]
    second = vault.assign(
        "hr",
        [("PHONE_NUMBER", "555 0143", "d2"), ("PERSON", "Carol White", "d2"), ("PERSON", "BOB JONES", "d2")],
    )
    assert second == ["<PHONE_NUMBER_1>", "<PERSON_3>", "<PERSON_2>"]
    # A new instance (another process) sees the same assignments.
    again = Vault(vault.directory, KEY)
    assert again.assign("hr", [("PERSON", "Carol White", "d3")]) == ["<PERSON_3>"]
    assert again.lookup("hr", "PERSON", "Ann Smith") == "<PERSON_1>"


def test_same_value_under_two_entity_types_gets_two_placeholders(vault: Vault) -> None:
    out = vault.assign("hr", [("PERSON", "Jordan", "d1"), ("LOCATION", "Jordan", "d1")])
    assert out == ["<PERSON_1>", "<LOCATION_1>"]


def test_collections_number_independently(vault: Vault) -> None:
    assert vault.assign("hr", [("PERSON", "Ann Smith", "d1"), ("PERSON", "Bob Jones", "d1")]) == [
        "<PERSON_1>",
        "<PERSON_2>",
    ]
    assert vault.assign("legal", [("PERSON", "Bob Jones", "d9")]) == ["<PERSON_1>"]
    assert vault.lookup("legal", "PERSON", "Ann Smith") is None
    assert vault.reveal("legal", "<PERSON_2>") == ("<PERSON_2>", [])
    assert vault.collections() == ["hr", "legal"]


def test_counters_never_reuse_numbers_after_forgetting(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1"), ("PERSON", "Bob Jones", "d2")])
    assert [e.placeholder for e in vault.forget_document("hr", "d2")] == ["<PERSON_2>"]
    assert vault.assign("hr", [("PERSON", "Carol White", "d3")]) == ["<PERSON_3>"]
    vault.forget_value("hr", "Ann Smith")
    # Ann comes back: a new number, never her old one (an old chunk may still say <PERSON_1>).
    assert vault.assign("hr", [("PERSON", "Ann Smith", "d4")]) == ["<PERSON_4>"]
    assert vault.reveal("hr", "<PERSON_1> <PERSON_2>") == ("<PERSON_1> <PERSON_2>", [])


def test_assign_empty_list_writes_nothing(vault: Vault) -> None:
    assert vault.assign("hr", []) == []
    assert not (vault.directory / "hr.vault").exists()


def test_lookup_never_creates(vault: Vault) -> None:
    assert vault.lookup("hr", "PERSON", "Ann Smith") is None
    assert not (vault.directory / "hr.vault").exists()
    vault.assign("hr", [("PERSON", "Bob Jones", "d1")])
    before = (vault.directory / "hr.vault").read_bytes()
    assert vault.lookup("hr", "PERSON", "Ann Smith") is None
    assert vault.lookup("hr", "LOCATION", "Bob Jones") is None  # entity type is part of the key
    assert vault.lookup("hr", "PERSON", " bob  JONES") == "<PERSON_1>"
    assert (vault.directory / "hr.vault").read_bytes() == before
    assert vault.assign("hr", [("PERSON", "Ann Smith", "d1")]) == ["<PERSON_2>"]


# -- reveal ---------------------------------------------------------------------------------------


def test_reveal_replaces_only_known_placeholders_and_reports_them(vault: Vault) -> None:
    vault.assign(
        "hr",
        [("PERSON", "Ann Smith", "d1"), ("EMAIL_ADDRESS", "ann@example.org", "d1"), ("PERSON", "Bo", "d1")],
    )
    text = (
        "<PERSON_1> wrote to <EMAIL_ADDRESS_1>; <PERSON_3> and <PERSON> and <PERSON_10> "
        "and <LOCATION_1> did not; <PERSON_1> again, <PERSON_2>."
    )
    out, revealed = vault.reveal("hr", text)
    assert out == (
        "Ann Smith wrote to ann@example.org; <PERSON_3> and <PERSON> and <PERSON_10> "
        "and <LOCATION_1> did not; Ann Smith again, Bo."
    )
    assert revealed == ["<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PERSON_1>", "<PERSON_2>"]


def test_reveal_returns_the_first_spelling_seen(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1"), ("PERSON", "ANN SMITH", "d2")])
    assert vault.reveal("hr", "<PERSON_1>")[0] == "Ann Smith"


def test_reveal_of_an_empty_vault_changes_nothing(vault: Vault) -> None:
    assert vault.reveal("hr", "<PERSON_1> said hi") == ("<PERSON_1> said hi", [])


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("<PERSON_1>", [("PERSON", "1")]),
        ("<EMAIL_ADDRESS_12>", [("EMAIL_ADDRESS", "12")]),
        ("<US_SSN_3>", [("US_SSN", "3")]),
        ("<PERSON>", []),
        ("<person_1>", []),
        ("<PERSON_1a>", []),
    ],
)
def test_placeholder_pattern(text: str, groups: list[tuple[str, str]]) -> None:
    assert [m.groups() for m in PLACEHOLDER.finditer(text)] == groups


# -- forgetting ---------------------------------------------------------------------------------


def test_forget_document_drops_entries_only_it_used_and_keeps_shared_ones(vault: Vault) -> None:
    vault.assign(
        "hr",
        [
            ("PERSON", "Ann Smith", "d1"),  # only d1
            ("PERSON", "Bob Jones", "d1"),  # d1 and d2
            ("PHONE_NUMBER", "555-0143", "d1"),  # only d1
        ],
    )
    vault.assign("hr", [("PERSON", "bob jones", "d2"), ("PERSON", "Carol White", "d2")])
    removed = vault.forget_document("hr", "d1")
    assert sorted((e.placeholder, e.value) for e in removed) == [
        ("<PERSON_1>", "Ann Smith"),
        ("<PHONE_NUMBER_1>", "555-0143"),
    ]
    fresh = Vault(vault.directory, KEY)  # what is on disk
    assert fresh.lookup("hr", "PERSON", "Ann Smith") is None
    assert fresh.lookup("hr", "PHONE_NUMBER", "5550143") is None
    assert fresh.lookup("hr", "PERSON", "Bob Jones") == "<PERSON_2>"
    assert fresh.reveal("hr", "<PERSON_1> <PERSON_2> <PERSON_3>") == (
        "<PERSON_1> Bob Jones Carol White",
        ["<PERSON_2>", "<PERSON_3>"],
    )
    # d1 is gone from Bob's entry: forgetting d2 now removes Bob too.
    assert sorted(e.placeholder for e in vault.forget_document("hr", "d2")) == ["<PERSON_2>", "<PERSON_3>"]
    assert vault.reveal("hr", "<PERSON_2>") == ("<PERSON_2>", [])


def test_forget_unknown_document_changes_nothing(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1")])
    before = (vault.directory / "hr.vault").read_bytes()
    assert vault.forget_document("hr", "nope") == []
    assert vault.forget_document("other", "d1") == []
    assert (vault.directory / "hr.vault").read_bytes() == before


def test_forgetting_a_document_whose_values_are_all_shared_is_persisted(vault: Vault) -> None:
    vault.assign("hr", [("PERSON", "Ann Smith", "d1"), ("PERSON", "Ann Smith", "d2")])
    assert vault.forget_document("hr", "d1") == []  # Ann is still used by d2
    # Erasing d2 must now erase Ann: no remaining document mentions her.
    assert [e.value for e in vault.forget_document("hr", "d2")] == ["Ann Smith"]
    assert vault.lookup("hr", "PERSON", "Ann Smith") is None


def test_forget_value_removes_it_under_every_entity_type_and_spelling(vault: Vault) -> None:
    vault.assign(
        "hr",
        [
            ("PERSON", "Jordan", "d1"),
            ("LOCATION", "jordan", "d2"),
            ("PERSON", "Ann Smith", "d1"),
            ("PHONE_NUMBER", "555-0143", "d1"),
        ],
    )
    removed = vault.forget_value("hr", "JORDAN")
    assert sorted(e.placeholder for e in removed) == ["<LOCATION_1>", "<PERSON_1>"]
    assert [e.placeholder for e in vault.forget_value("hr", "555 0143")] == ["<PHONE_NUMBER_1>"]
    assert vault.forget_value("hr", "nobody") == []
    fresh = Vault(vault.directory, KEY)
    assert fresh.lookup("hr", "PERSON", "Jordan") is None
    assert fresh.lookup("hr", "LOCATION", "Jordan") is None
    assert fresh.lookup("hr", "PERSON", "Ann Smith") == "<PERSON_2>"
    assert fresh.reveal("hr", "<PERSON_1> <LOCATION_1> <PERSON_2> <PHONE_NUMBER_1>") == (
        "<PERSON_1> <LOCATION_1> Ann Smith <PHONE_NUMBER_1>",
        ["<PERSON_2>"],
    )


# -- the key ------------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_key_from_env_wins_over_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "vault.key"
    key_file.write_bytes(b64(OTHER_KEY).encode())
    assert load_vault_key(b64(KEY), key_file, create=False) == KEY


@pytest.mark.parametrize("length", [1, 16, 31, 33, 64])
def test_key_from_env_of_wrong_length_is_refused(tmp_path: Path, length: int) -> None:
    with pytest.raises(PolicyError, match="ENCLAVE_VAULT_KEY must be 32 bytes"):
        load_vault_key(b64(b"x" * length), tmp_path / "vault.key", create=True)
    assert not (tmp_path / "vault.key").exists()


@pytest.mark.parametrize("value", [None, ""])
def test_empty_env_falls_back_to_the_file(tmp_path: Path, value: str | None) -> None:
    key_file = tmp_path / "vault.key"
    key_file.write_bytes(b64(KEY).encode() + b"\n")
    assert load_vault_key(value, key_file, create=False) == KEY


@pytest.mark.parametrize("length", [16, 33])
def test_key_file_of_wrong_length_is_refused(tmp_path: Path, length: int) -> None:
    key_file = tmp_path / "vault.key"
    key_file.write_bytes(b64(b"k" * length).encode())
    with pytest.raises(PolicyError, match=r"vault\.key: a vault key must be 32 bytes"):
        load_vault_key(None, key_file, create=True)


def test_key_file_is_created_0600_when_allowed_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "vault.key"
    key = load_vault_key(None, key_file, create=True)
    assert len(key) == 32
    assert mode(key_file) == 0o600
    assert base64.b64decode(key_file.read_bytes().strip()) == key
    assert load_vault_key(None, key_file, create=False) == key
    assert load_vault_key(None, key_file, create=True) == key  # not regenerated
    other = load_vault_key(None, tmp_path / "secrets" / "other.key", create=True)
    assert other != key


def test_missing_key_is_refused_when_creation_is_not_allowed(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "vault.key"
    with pytest.raises(PolicyError, match="ENCLAVE_VAULT_KEY"):
        load_vault_key(None, key_file, create=False)
    assert not key_file.exists()


@pytest.mark.parametrize("source", ["env", "file"])
def test_key_that_is_not_base64_is_a_policy_error(tmp_path: Path, source: str) -> None:
    key_file = tmp_path / "vault.key"
    if source == "file":
        key_file.write_bytes(b"not base64!")
    with pytest.raises(PolicyError):
        load_vault_key("not base64!" if source == "env" else None, key_file, create=False)


# -- concurrency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-instance", "two-instances"])
def test_two_threads_assigning_the_same_new_value_get_the_same_placeholder(tmp_path: Path, shared: bool) -> None:
    directory = tmp_path / "vault"
    first = Vault(directory, KEY)
    vaults = [first, first] if shared else [first, Vault(directory, KEY)]
    rounds = 25
    results: list[list[list[str]]] = [[], []]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=10)
                results[i].append(vaults[i].assign("hr", [("PERSON", f"Person {r}", f"doc-{i}")]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert results[0] == results[1] == [[f"<PERSON_{r + 1}>"] for r in range(rounds)]
    # Both documents were recorded on every entry: forgetting one keeps all of them.
    assert Vault(directory, KEY).forget_document("hr", "doc-0") == []
    assert Vault(directory, KEY).lookup("hr", "PERSON", f"Person {rounds - 1}") == f"<PERSON_{rounds}>"
