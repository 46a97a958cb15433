"""The web connector against a real local HTTP server (http.server on loopback): sitemap and
links to a depth, robots.txt honoured, only the configured host ever contacted, then a page
changed and a page removed on the next sync — through the real pipeline and retriever."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from enclave_core.identity import Principal
from enclave_core.service import RagService
from ingest import Ingestor
from ingest.connectors import Syncer, SyncState
from ingest.connectors.web import WebConnector

COLLECTION = "intranet"


class _Recording(SimpleHTTPRequestHandler):
    requests: list[tuple[str, str]]

    def do_GET(self) -> None:
        self.requests.append((self.headers.get("Host", ""), self.path))
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path, list[tuple[str, str]]]]:
    root = tmp_path / "site"
    root.mkdir()
    requests: list[tuple[str, str]] = []
    handler = type("Handler", (_Recording,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    port = server.server_address[1]
    base = f"http://127.0.0.1:{port}"
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/orphan.html</loc></url></urlset>"
    )
    (root / "index.html").write_text(
        "<html><head><title>Intranet</title></head><body><h1>Intranet home</h1>"
        '<p>Start here.</p><a href="/travel.html">Travel</a> <a href="/private/salaries.html">Pay</a>'
        f' <a href="http://localhost:{port}/alias.html">alias</a> <a href="https://example.com/">outside</a>'
        "</body></html>"
    )
    (root / "travel.html").write_text(
        '<html><body><h1>Travel</h1><p>Book trains through the travel desk.</p><a href="/deep/one.html">more</a>'
        "</body></html>"
    )
    (root / "deep").mkdir()
    (root / "deep" / "one.html").write_text(
        '<html><body><p>Depth one page.</p><a href="/deep/two.html">deeper</a></body></html>'
    )
    (root / "deep" / "two.html").write_text("<html><body><p>Too deep to reach.</p></body></html>")
    (root / "orphan.html").write_text("<html><body><h1>Canteen</h1><p>The canteen opens at noon.</p></body></html>")
    (root / "private").mkdir()
    (root / "private" / "salaries.html").write_text("<html><body><p>Salaries table.</p></body></html>")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, root, requests
    server.shutdown()
    server.server_close()


def _sources(core: Any, question: str) -> set[str]:
    """Paths without the host: an IP address in a source path is personal data to the redaction
    policy, so "127.0.0.1/travel.html" is stored as "<IP_ADDRESS_1>/travel.html"."""
    reader = Principal(name="u", groups=frozenset({"staff"}), auth="api-key", subject="u")
    hits = RagService(core).search(reader, COLLECTION, question, top_k=10)
    return {h.source.split("/", 1)[1] for h in hits}


def test_web_crawl_sync(core: Any, site: tuple[str, Path, list[tuple[str, str]]], tmp_path: Path) -> None:
    base, root, requests = site
    host = base.removeprefix("http://")
    connector = WebConnector(
        "wiki",
        start_urls=[base + "/"],
        allowed_hosts=frozenset({"127.0.0.1"}),
        readers=("staff",),
        max_depth=2,
    )
    ingestor = Ingestor(core)
    state = SyncState(tmp_path / "sync.sqlite")
    syncer = Syncer(ingestor, state)

    first = syncer.sync(COLLECTION, connector)
    assert first.added == 4 and not first.failed  # index, travel, deep/one (depth 2), orphan (sitemap)
    paths = {path for _, path in requests}
    assert "/private/salaries.html" not in paths  # robots.txt
    assert "/deep/two.html" not in paths  # beyond max_depth
    assert {h for h, _ in requests} == {host}  # "localhost" and example.com were never contacted
    assert "travel.html" in _sources(core, "How do I book a train?")
    assert "orphan.html" in _sources(core, "When does the canteen open?")

    (root / "travel.html").write_text("<html><body><h1>Travel</h1><p>Flights need director approval.</p></body></html>")
    (root / "orphan.html").unlink()
    (root / "sitemap.xml").write_text('<?xml version="1.0"?><urlset/>')
    second = syncer.sync(COLLECTION, connector)
    assert (second.updated, second.deleted) == (1, 2)  # travel changed; orphan and deep/one (unlinked) gone
    texts = " ".join(str(p.payload["text"]) for p in core.store.iter_points(COLLECTION))
    assert "director approval" in texts and "canteen" not in texts and "Depth one" not in texts
    state.close()
    ingestor.manifest.close()
