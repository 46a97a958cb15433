"""Web/intranet connector: crawls start URLs on configured hosts only, honouring robots.txt.

Every request (robots.txt, sitemap, page) goes through one gate that refuses any host outside
allowed_hosts, and redirects are followed by hand through the same gate, so a link or redirect
to the internet is never contacted (tests/airgap_guard.py checks this on the CLI). Proxies
from the environment are ignored. Pages come from the sitemap (if any) and from links, breadth
first to max_depth; HTML pages and linked files of supported formats become items.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import xml.etree.ElementTree as ET
from collections import deque
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from ingest.loaders import SUPPORTED_EXTENSIONS

from .base import Item, Listing

__all__ = ["USER_AGENT", "HostNotAllowed", "WebConnector"]

USER_AGENT = "EnclaveCrawler/1.0"
MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 20 * 1024 * 1024
_SITEMAP_LOC = re.compile(r"\{[^}]*\}loc$|^loc$")


class HostNotAllowed(Exception):
    """A URL outside the configured hosts: never contacted."""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def _normalise(url: str) -> str:
    parts = urlsplit(url)
    path = posixpath.normpath(parts.path) if parts.path not in ("", "/") else "/"
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _source(url: str, is_html: bool) -> str:
    """A readable path for citations, whose extension picks the loader."""
    parts = urlsplit(url)
    path = parts.path if parts.path and parts.path != "/" else "/index"
    if path.endswith("/"):
        path += "index"
    if parts.query:
        path += "_" + re.sub(r"[^A-Za-z0-9=._-]", "_", parts.query)
    if is_html and PurePosixPath(path).suffix.lower() not in (".html", ".htm"):
        path += ".html"
    return f"{parts.hostname}{path}"


class WebConnector:
    def __init__(
        self,
        name: str,
        *,
        start_urls: list[str],
        allowed_hosts: frozenset[str],
        readers: tuple[str, ...],
        max_depth: int = 2,
        max_pages: int = 1000,
        use_sitemap: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.start_urls = start_urls
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.readers = readers
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.use_sitemap = use_sitemap
        self._transport = transport
        self._robots: dict[str, RobotFileParser | None] = {}
        self._sitemap_failed = False

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.allowed_hosts

    def _get(self, client: httpx.Client, url: str) -> httpx.Response:
        """GET through the host gate, following redirects only to allowed hosts."""
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allowed(url):
                raise HostNotAllowed(url)
            response = client.get(url)
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            return response
        raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=response.request)

    def _robots_for(self, client: httpx.Client, url: str) -> RobotFileParser | None:
        """None means everything is disallowed (robots.txt unreachable: RFC 9309 says assume so)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            parser: RobotFileParser | None = RobotFileParser()
            assert parser is not None
            try:
                response = self._get(client, origin + "/robots.txt")
                if response.status_code >= 500:
                    parser = None
                elif response.status_code >= 400:
                    parser.parse([])  # no robots.txt: everything allowed
                else:
                    parser.parse(response.text.splitlines())
            except (httpx.HTTPError, HostNotAllowed):
                parser = None
            self._robots[origin] = parser
        return self._robots[origin]

    def _sitemap_urls(self, client: httpx.Client) -> list[str]:
        urls: list[str] = []
        origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in self.start_urls}
        for origin in sorted(origins):
            robots = self._robots_for(client, origin + "/")
            sitemaps = (robots.site_maps() if robots else None) or [origin + "/sitemap.xml"]
            for sitemap in sitemaps:
                try:
                    response = self._get(client, sitemap)
                    if response.status_code >= 500:
                        self._sitemap_failed = True
                    if response.status_code != 200:
                        continue
                    root = ET.fromstring(response.content)
                except httpx.HTTPError:
                    self._sitemap_failed = True  # pages only listed there must not count as deleted
                    continue
                except (HostNotAllowed, ET.ParseError):
                    continue
                urls.extend((el.text or "").strip() for el in root.iter() if _SITEMAP_LOC.search(el.tag))
        return [u for u in urls if u]

    def list_items(self) -> Listing:
        listing = Listing()
        self._robots.clear()
        headers = {"User-Agent": USER_AGENT}
        with httpx.Client(timeout=15, trust_env=False, headers=headers, transport=self._transport) as client:
            queue: deque[tuple[str, int]] = deque((_normalise(u), 0) for u in self.start_urls)
            if self.use_sitemap:
                self._sitemap_failed = False
                queue.extend((_normalise(u), 0) for u in self._sitemap_urls(client))
                if self._sitemap_failed:
                    listing.complete = False
                    listing.errors.append(f"{self.name}: a sitemap could not be read")
            visited: set[str] = set()
            while queue and len(visited) < self.max_pages:
                url, depth = queue.popleft()
                if url in visited or not self.allowed(url):
                    continue
                visited.add(url)
                robots = self._robots_for(client, url)
                if robots is None:  # the host is unreachable or failing: nothing may be concluded
                    listing.complete = False
                    listing.errors.append(f"{self.name}: {url}: robots.txt unreachable, not crawled")
                    continue
                if not robots.can_fetch(USER_AGENT, url):
                    continue
                try:
                    response = self._get(client, url)
                except (httpx.HTTPError, HostNotAllowed) as exc:
                    listing.complete = False
                    listing.errors.append(f"{self.name}: {url}: {exc.__class__.__name__}")
                    continue
                if response.status_code in (404, 410):
                    continue  # gone: a deletion, if it was stored
                if response.status_code != 200 or len(response.content) > MAX_PAGE_BYTES:
                    listing.complete = False
                    listing.errors.append(f"{self.name}: {url}: HTTP {response.status_code}")
                    continue
                self._add(listing, str(response.url), url, response, queue, depth)
        return listing

    def _add(
        self,
        listing: Listing,
        final_url: str,
        url: str,
        response: httpx.Response,
        queue: deque[tuple[str, int]],
        depth: int,
    ) -> None:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        is_html = content_type in ("text/html", "application/xhtml+xml")
        data = response.content
        source = _source(url, is_html)
        if is_html and depth < self.max_depth:
            links = _Links()
            links.feed(response.text)
            for href in links.hrefs:
                target = _normalise(urljoin(final_url, href))
                if self.allowed(target):
                    queue.append((target, depth + 1))
        if is_html or PurePosixPath(source).suffix.lower() in SUPPORTED_EXTENSIONS:
            version = hashlib.sha256(data).hexdigest()
            listing.items.append(Item(url, source, version, self.readers, functools.partial(bytes, data)))
