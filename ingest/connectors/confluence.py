"""Confluence (Data Center/Server, on premises) connector over its REST API, read in memory.

LlamaIndex's ConfluenceReader was not used: it writes attachments to temporary files and OCRs
them with pytesseract (see docs/connectors.md). Pages of the configured spaces are listed with
their version number (the change token), their storage-format body (loaded by the HTML loader)
and the read restrictions of the page and of every ancestor, because Confluence applies a
parent's view restriction to all pages below it. Readers = the space's readers, narrowed by each
restricted level to the mapped groups that level allows; a level restricted to users only
leaves no group reader (fail closed). Attachments are not read. Only base_url's host is contacted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .base import Item, Listing

__all__ = ["ConfluenceConnector"]

PAGE_SIZE = 50
_EXPAND = "version,ancestors,body.storage,restrictions.read.restrictions.group,restrictions.read.restrictions.user"
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def _restriction(read: Mapping[str, Any]) -> tuple[bool, set[str]]:
    """(restricted at all, group names allowed) from a read-restriction object."""
    restrictions = read.get("restrictions", {})
    groups = {g["name"] for g in restrictions.get("group", {}).get("results", []) if "name" in g}
    users = restrictions.get("user", {}).get("results", [])
    return bool(groups or users), groups


class ConfluenceConnector:
    def __init__(
        self,
        name: str,
        base_url: str,
        spaces: Mapping[str, Sequence[str]],
        group_map: Mapping[str, Sequence[str]],
        token: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """spaces: space key -> Enclave readers of the space; group_map: Confluence group -> Enclave groups."""
        self.name = name
        self.base_url = base_url.rstrip("/") + "/"
        self.host = urlsplit(self.base_url).hostname
        self.spaces = spaces
        self.group_map = group_map
        self._token = token
        self._transport = transport
        self._ancestor_rules: dict[str, tuple[bool, set[str]]] = {}

    def _get(self, client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> Any:
        url = urljoin(self.base_url, path.lstrip("/"))
        if urlsplit(url).hostname != self.host:  # a "next" link elsewhere is never followed
            raise httpx.InvalidURL(f"refusing a URL outside {self.host}")
        response = client.get(url, params=params)
        response.raise_for_status()
        return response.json()

    def _ancestor_rule(self, client: httpx.Client, page_id: str) -> tuple[bool, set[str]]:
        if page_id not in self._ancestor_rules:
            data = self._get(
                client, f"rest/api/content/{page_id}/restriction/byOperation/read", {"expand": "restrictions.group"}
            )
            self._ancestor_rules[page_id] = _restriction(data)
        return self._ancestor_rules[page_id]

    def _readers(self, client: httpx.Client, page: Mapping[str, Any], space_readers: Sequence[str]) -> tuple[str, ...]:
        readers = set(space_readers)
        levels = [_restriction(page.get("restrictions", {}).get("read", {}))]
        levels += [self._ancestor_rule(client, str(a["id"])) for a in page.get("ancestors", [])]
        for restricted, groups in levels:
            if restricted:
                readers &= {enclave for g in groups for enclave in self.group_map.get(g, ())}
        return tuple(sorted(readers))

    def _item(self, client: httpx.Client, space: str, page: Mapping[str, Any], readers: Sequence[str]) -> Item:
        title = str(page.get("title", ""))
        body = page.get("body", {}).get("storage", {}).get("value", "")
        shown = html.escape(title)
        document = f"<html><head><title>{shown}</title></head><body><h1>{shown}</h1>{body}</body></html>"
        data = document.encode("utf-8")
        slug = _SLUG.sub("-", title).strip("-")[:60] or "page"
        return Item(
            key=str(page["id"]),
            source=f"{space}/{page['id']}-{slug}.html",
            version=str(page.get("version", {}).get("number", "")),
            readers=self._readers(client, page, readers),
            fetch=lambda: data,
        )

    def list_items(self) -> Listing:
        listing = Listing()
        self._ancestor_rules.clear()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        with httpx.Client(timeout=30, trust_env=False, headers=headers, transport=self._transport) as client:
            for space, readers in self.spaces.items():
                start, seen = 0, set[str]()
                while True:
                    params = {"spaceKey": space, "type": "page", "start": start, "limit": PAGE_SIZE, "expand": _EXPAND}
                    try:
                        data = self._get(client, "rest/api/content", params)
                        pages = [p for p in data.get("results", []) if str(p["id"]) not in seen]
                        seen.update(str(p["id"]) for p in pages)
                        listing.items.extend(self._item(client, space, page, readers) for page in pages)
                    except (httpx.HTTPError, ValueError, KeyError) as exc:
                        listing.complete = False
                        listing.errors.append(f"{self.name}: space {space}: {exc.__class__.__name__}")
                        break
                    if not data.get("_links", {}).get("next") or not pages:  # no new page: a looping server stops here
                        break
                    start += len(pages)
        return listing
