"""Tests for enclave_core.policy.access: who may read, write or administer which collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from enclave_core.errors import AccessDenied, PolicyError
from enclave_core.identity import ADMIN_ROLE, LOCAL_ADMIN, Principal
from enclave_core.policy.access import AccessPolicy, CollectionRule
from enclave_core.policy.loader import policies_dir

POLICY = """
version: 3
default:
  read: ["*"]
collections:
  hr:
    read: [hr-readers]
    write: [hr-writers]
    admin: [hr-admins]
  public:
    read: ["*"]
    write: ["*"]
  locked: {}
  board:
    admin: [board]
"""


def write(tmp_path: Path, body: str, name: str = "access.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def policy(tmp_path: Path) -> AccessPolicy:
    return AccessPolicy.from_file(write(tmp_path, POLICY))


def who(*groups: str, roles: tuple[str, ...] = ()) -> Principal:
    return Principal("user", frozenset(groups), frozenset(roles))


@pytest.mark.parametrize(
    ("principal", "action", "collection", "allowed"),
    [
        # hr: each level implies the ones below it, never above.
        (who("hr-readers"), "read", "hr", True),
        (who("hr-readers"), "write", "hr", False),
        (who("hr-readers"), "admin", "hr", False),
        (who("hr-writers"), "read", "hr", True),
        (who("hr-writers"), "write", "hr", True),
        (who("hr-writers"), "admin", "hr", False),
        (who("hr-admins"), "read", "hr", True),
        (who("hr-admins"), "write", "hr", True),
        (who("hr-admins"), "admin", "hr", True),
        (who("staff"), "read", "hr", False),
        (who(), "read", "hr", False),
        (who("staff", "hr-readers"), "read", "hr", True),  # any one group is enough
        (who("HR-READERS"), "read", "hr", False),  # group names are case-sensitive
        # "*" is any authenticated principal, even one with no groups.
        (who(), "read", "public", True),
        (who(), "write", "public", True),
        (who(), "admin", "public", False),
        # An empty rule lets nobody in (but the admin role).
        (who("hr-admins"), "read", "locked", False),
        (who(), "admin", "locked", False),
        # admin only: implies write and read.
        (who("board"), "read", "board", True),
        (who("board"), "write", "board", True),
        (who("board"), "admin", "board", True),
        # Unlisted collections use the default rule.
        (who(), "read", "unlisted", True),
        (who("hr-writers"), "write", "unlisted", False),
        (who("hr-admins"), "admin", "unlisted", False),
        # The global admin role bypasses every rule.
        (who(roles=(ADMIN_ROLE,)), "admin", "locked", True),
        (who(roles=(ADMIN_ROLE,)), "write", "hr", True),
        (who(roles=(ADMIN_ROLE,)), "write", "unlisted", True),
        (LOCAL_ADMIN, "admin", "board", True),
        # Other roles do not; nor does a group called "admin".
        (who(roles=("auditor", "pii:reveal")), "read", "hr", False),
        (who("admin"), "write", "unlisted", False),
        # A principal whose group is literally "*" gets nothing extra.
        (who("*"), "read", "hr", False),
        (who("*"), "write", "unlisted", False),
    ],
)
def test_access_table(policy: AccessPolicy, principal: Principal, action: str, collection: str, allowed: bool) -> None:
    assert policy.allows(principal, action, collection) is allowed  # type: ignore[arg-type]
    if allowed:
        policy.require(principal, action, collection)  # type: ignore[arg-type]
    else:
        with pytest.raises(AccessDenied) as exc:
            policy.require(principal, action, collection)  # type: ignore[arg-type]
        assert str(exc.value) == f"'{principal.name}' may not {action} collection '{collection}'"


def test_rules_are_read_from_the_file(policy: AccessPolicy) -> None:
    assert policy.rule("hr") == CollectionRule(
        frozenset({"hr-readers"}), frozenset({"hr-writers"}), frozenset({"hr-admins"})
    )
    assert policy.rule("locked") == CollectionRule()
    assert policy.rule("nope") is policy.default == CollectionRule(read=frozenset({"*"}))
    assert sorted(policy.collections) == ["board", "hr", "locked", "public"]


@pytest.mark.parametrize(
    ("action", "groups"),
    [("read", {"r", "w", "a"}), ("write", {"w", "a"}), ("admin", {"a"})],
)
def test_groups_for_implies_lower_levels(action: str, groups: set[str]) -> None:
    rule = CollectionRule(frozenset({"r"}), frozenset({"w"}), frozenset({"a"}))
    assert rule.groups_for(action) == frozenset(groups)  # type: ignore[arg-type]


def test_default_rule_may_be_omitted_entirely(tmp_path: Path) -> None:
    policy = AccessPolicy.from_file(write(tmp_path, "version: 1\ndefault: {}\n"))
    assert policy.collections == {}
    assert not policy.allows(who("anyone"), "read", "x")


def test_version_changes_when_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, POLICY)
    v1 = AccessPolicy.from_file(path).version
    assert v1.startswith("3:") and len(v1) == len("3:") + 12
    assert AccessPolicy.from_file(path).version == v1  # stable for the same bytes
    path.write_text(POLICY + "  extra:\n    read: [x]\n", encoding="utf-8")
    v2 = AccessPolicy.from_file(path).version
    assert v2.startswith("3:") and v2 != v1
    path.write_text(POLICY + "# only a comment\n", encoding="utf-8")
    assert AccessPolicy.from_file(path).version not in (v1, v2)  # any byte counts
    path.write_text(POLICY.replace("version: 3", "version: 4"), encoding="utf-8")
    assert AccessPolicy.from_file(path).version.startswith("4:")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("version: 1\ndefault: {}\nowners: [x]\n", "'owners' was unexpected"),
        ("version: 1\ndefault: {delete: [x]}\n", "'delete' was unexpected"),
        ("version: 1\ndefault: {}\ncollections: {hr: {read: [a], share: [b]}}\n", "'share' was unexpected"),
        ("version: 1\ndefault: {}\ncollections: {HR: {}}\n", "'HR' does not match"),
        ("version: 1\ndefault: {}\ncollections: {'../etc': {}}\n", "'../etc' does not match"),
        ("version: 1\ndefault: {}\ncollections: {_hr: {}}\n", "'_hr' does not match"),
        ("version: 1\ndefault: {read: ['hr,finance']}\n", "at default/read/0"),
        ("version: 1\ndefault: {read: ['']}\n", "at default/read/0"),
        ("version: 1\ndefault: {read: [a, a]}\n", "at default/read"),
        ("version: 1\ndefault: {read: hr}\n", "at default/read"),
        ("version: 1\ndefault: {}\ncollections: {hr: {write: ['a,b']}}\n", "at collections/hr/write/0"),
        ("default: {}\n", "'version' is a required property"),
        ("version: 1\n", "'default' is a required property"),
        ("version: 0\ndefault: {}\n", "at version"),
        ("version: 1\ndefault: {}\ncollections: {hr: null}\n", "at collections/hr"),
        ("[]\n", "(top level)"),
        ("version: 1\ndefault: {read: [\n", "not valid YAML"),
    ],
)
def test_schema_errors_are_policy_errors(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(PolicyError) as exc:
        AccessPolicy.from_file(path)
    assert str(path) in str(exc.value)
    assert message in str(exc.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        AccessPolicy.from_file(tmp_path / "access.yaml")


def test_the_repository_access_policy_loads() -> None:
    policy = AccessPolicy.from_file(policies_dir() / "access.yaml")
    assert policy.version.startswith("1:")
    assert policy.allows(who(), "read", "samples")
    assert policy.allows(who("staff"), "write", "samples")
    assert not policy.allows(who(), "write", "samples")
    assert not policy.allows(who("staff"), "admin", "samples")
    assert policy.allows(who(), "read", "anything-else")
    assert not policy.allows(who("staff"), "write", "anything-else")
