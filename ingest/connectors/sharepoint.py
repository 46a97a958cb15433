"""SharePoint Online document libraries through LlamaIndex's SharePointReader (Microsoft Graph).

The reader's resource interface is used, not its load_data: list_resources lists the library's
files, get_resource_info gives each file's eTag (the change token) and its Graph permissions,
and read_file_content returns the bytes in memory. load_data / load_resource would download
every file into a temporary folder for SimpleDirectoryReader — plaintext with personal data on
disk — and flatten slides and sheets; Enclave's own loaders read the bytes instead.

Readers: the Microsoft 365 groups and SharePoint site groups the file's permissions grant
(inherited ones included), each matched by id or display name through ``group_map``; a file
shared with users only has no group reader and is not stored (fail closed, as for Confluence).

Where it can run: the reader talks to login.microsoftonline.com and graph.microsoft.com, i.e.
SharePoint Online. An air-gapped appliance cannot reach them; the connector is for a
deployment whose policy allows those two hosts. SharePoint Server on premises is not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import PurePosixPath
from typing import Any

from enclave_core.errors import PolicyError
from ingest.loaders import SUPPORTED_EXTENSIONS

from .base import Item, Listing

__all__ = ["GROUP_KINDS", "SharePointConnector", "sharepoint_reader"]

# Identity kinds of Graph's permission identity sets that name a group of people.
GROUP_KINDS = ("group", "siteGroup")


def sharepoint_reader(
    tenant_id: str, client_id: str, client_secret: str, site_name: str, folder_path: str | None, drive_name: str | None
) -> Any:
    """LlamaIndex's reader, configured for permissions. Optional: imported here, and only a
    deployment allowed to reach Microsoft Graph installs it (it pulls llama-index-core)."""
    try:
        from llama_index.readers.microsoft_sharepoint import SharePointReader
    except ImportError as exc:
        raise PolicyError(
            "the sharepoint connector needs llama-index-readers-microsoft-sharepoint==0.10.0 (not installed)"
        ) from exc

    return SharePointReader(
        client_id=client_id,
        client_secret=client_secret,
        tenant_id=tenant_id,
        sharepoint_site_name=site_name,
        sharepoint_folder_path=folder_path,
        drive_name=drive_name,
        attach_permission_metadata=True,
    )


class SharePointConnector:
    def __init__(self, name: str, make_reader: Callable[[], Any], group_map: Mapping[str, Sequence[str]]) -> None:
        """make_reader: a new SharePointReader per sync (it caches site and drive ids);
        group_map: Microsoft 365 / site group id or display name -> Enclave groups."""
        self.name = name
        self.make_reader = make_reader
        self.group_map = group_map

    def readers(self, info: Mapping[str, Any]) -> tuple[str, ...]:
        granted: set[str] = set()
        for kind in GROUP_KINDS:
            for key in (f"allowed_{kind}_ids", f"allowed_{kind}_display_names"):
                granted.update(str(v) for v in info.get(key, []) if v)
        return tuple(sorted({group for g in granted for group in self.group_map.get(g, ())}))

    def list_items(self) -> Listing:
        listing = Listing()
        reader = self.make_reader()
        try:
            paths = reader.list_resources()
        except Exception as exc:  # requests, Graph errors (ValueError), token refusals: many types
            listing.complete = False
            listing.errors.append(f"{self.name}: the library could not be listed ({exc.__class__.__name__})")
            return listing
        for path in paths:
            key = PurePosixPath(str(path)).as_posix()
            if PurePosixPath(key).suffix.lower() not in SUPPORTED_EXTENSIONS:
                continue
            try:
                info = reader.get_resource_info(key)
            except Exception as exc:  # as above; this item only, and nothing is deleted this run
                listing.complete = False
                listing.errors.append(f"{key}: permissions could not be read ({exc.__class__.__name__})")
                continue
            version = str(info.get("etag") or info.get("modified_at") or "")
            listing.items.append(
                Item(
                    key=key,
                    source=key,
                    version=version,
                    readers=self.readers(info),
                    fetch=partial(_fetch, reader, key),
                )
            )
        return listing


def _fetch(reader: Any, key: str) -> bytes:
    """The file's bytes; any failure is an OSError, which fails this item alone in the sync."""
    try:
        data = reader.read_file_content(PurePosixPath(key))
    except Exception as exc:  # the reader raises ValueError for Graph errors, requests' own types
        raise OSError(f"{key}: could not be downloaded ({exc.__class__.__name__})") from exc
    if not isinstance(data, bytes):
        raise OSError(f"{key}: SharePoint returned no file content")
    return data
