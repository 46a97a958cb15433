"""What every connector hands to the sync engine: a listing of items with readers and versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Connector", "Item", "Listing"]


@dataclass(frozen=True)
class Item:
    """One document at its origin.

    key: stable identity within the connector (relative path, URL, folder/UID); a document
    keeps its id, and so its place in the store, while its key is unchanged.
    source: the path shown in citations; its extension picks the loader.
    version: a cheap change token (mtime and size, ETag...) so unchanged items are not re-read.
    readers: Enclave groups allowed to read it, derived from the origin's permissions.
    fetch: reads the bytes (into memory only) when the version says the item changed.
    """

    key: str
    source: str
    version: str
    readers: tuple[str, ...]
    fetch: Callable[[], bytes]


@dataclass
class Listing:
    """Items found, plus per-item listing errors. complete=False (a folder could not be read, a
    page failed) forbids deletions in this run: a missing item might only be unreadable."""

    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    complete: bool = True


class Connector(Protocol):
    name: str  # unique within the collection, from the policy file

    def list_items(self) -> Listing: ...
