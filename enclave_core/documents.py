"""Domain types that travel along the write path: loaded documents, blocks and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Block", "Chunk", "LoadedDocument"]


@dataclass(frozen=True)
class Block:
    """A structural unit of a document as its loader saw it (paragraph, table, list...).

    Loaders keep structure so that chunking can respect it: a chunk never spans
    two PDF pages and carries the heading it sits under.
    """

    text: str
    page: int | None = None  # 1-based page number for paginated formats
    heading: str | None = None  # nearest heading path, e.g. "Benefits > Parental leave"
    kind: str = "paragraph"  # paragraph | table | list | code


@dataclass(frozen=True)
class LoadedDocument:
    source: str  # path relative to the ingested folder, or the file name
    title: str
    blocks: list[Block]
    media_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    index: int  # position within the document, 0-based
    text: str
    page: int | None = None
    heading: str | None = None
