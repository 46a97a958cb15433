"""The connectors policy (policies/connectors.yaml): collections, their connectors, schedules."""

from __future__ import annotations

import imaplib
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from enclave_core.errors import PolicyError
from enclave_core.policy.loader import load_policy_file

from .base import Connector
from .confluence import ConfluenceConnector
from .fileshare import FileShareConnector
from .imap import ImapConnector
from .sharepoint import SharePointConnector, sharepoint_reader
from .web import WebConnector

__all__ = ["CollectionSync", "build_connector", "load_connectors_policy"]


@dataclass(frozen=True)
class CollectionSync:
    collection: str
    schedule_minutes: int | None
    connectors: tuple[dict[str, Any], ...]  # validated connector entries


def load_connectors_policy(path: Path) -> dict[str, CollectionSync]:
    data = load_policy_file(path, "connectors")
    return {
        name: CollectionSync(name, entry.get("schedule_minutes"), tuple(entry["connectors"]))
        for name, entry in data["collections"].items()
    }


def _group_map(entry: dict[str, Any], policy_path: Path) -> dict[str, list[str]]:
    if "group_map" in entry:
        return {str(k): list(v) for k, v in entry["group_map"].items()}
    mapping_path = policy_path.parent / entry["group_map_file"]
    try:
        mapping = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{mapping_path}: cannot read the group mapping ({exc.__class__.__name__})") from exc
    if not isinstance(mapping, dict) or not all(
        isinstance(v, list) and all(isinstance(g, str) for g in v) for v in mapping.values()
    ):
        raise PolicyError(f"{mapping_path}: expected a mapping of Unix group -> list of Enclave groups")
    return {str(k): list(v) for k, v in mapping.items()}


def _imap_login(entry: dict[str, Any]) -> imaplib.IMAP4:
    """IMAPS (or plain IMAP when tls is false) and LOGIN with the password from the environment."""
    password = os.environ.get(entry["password_env"])
    if password is None:
        raise PolicyError(f"connector {entry['name']}: environment variable {entry['password_env']} is not set")
    tls = entry.get("tls", True)
    port = int(entry.get("port", 993 if tls else 143))
    conn = imaplib.IMAP4_SSL(entry["host"], port) if tls else imaplib.IMAP4(entry["host"], port)
    conn.login(entry["username"], password)
    return conn


def build_connector(entry: dict[str, Any], policy_path: Path) -> Connector:
    """The connector an entry describes; group mapping files are re-read on every call, so a
    changed mapping takes effect at the next sync."""
    if entry["type"] == "fileshare":
        return FileShareConnector(entry["name"], Path(entry["path"]), _group_map(entry, policy_path))
    if entry["type"] == "confluence":
        token = os.environ.get(entry["token_env"])
        if token is None:
            raise PolicyError(f"connector {entry['name']}: environment variable {entry['token_env']} is not set")
        group_map = {str(k): list(v) for k, v in entry.get("group_map", {}).items()}
        return ConfluenceConnector(entry["name"], entry["base_url"], dict(entry["spaces"]), group_map, token)
    if entry["type"] == "sharepoint":
        secret = os.environ.get(entry["client_secret_env"])
        if secret is None:
            raise PolicyError(
                f"connector {entry['name']}: environment variable {entry['client_secret_env']} is not set"
            )
        make_reader = partial(
            sharepoint_reader,
            entry["tenant_id"],
            entry["client_id"],
            secret,
            entry["site_name"],
            entry.get("folder_path"),
            entry.get("drive_name"),
        )
        return SharePointConnector(entry["name"], make_reader, _group_map(entry, policy_path))
    if entry["type"] == "imap":
        return ImapConnector(entry["name"], dict(entry["folders"]), partial(_imap_login, entry))
    return WebConnector(
        entry["name"],
        start_urls=list(entry["start_urls"]),
        allowed_hosts=frozenset(entry["allowed_hosts"]),
        readers=tuple(entry["readers"]),
        max_depth=int(entry.get("max_depth", 2)),
        max_pages=int(entry.get("max_pages", 1000)),
        use_sitemap=bool(entry.get("use_sitemap", True)),
    )
