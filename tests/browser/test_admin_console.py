"""The admin console (/ui/admin.html) in a real browser (Debian's Chromium driven by Playwright)
against the real gateway, ingest path and CPU vLLM: an administrator sees the health of every
component, changes a document's access groups (no re-embedding: same chunks), watches an upload's
job with a per-file error, creates and revokes an API key, filters the audit trail and verifies
the chain; a non-admin sees none of it and gets 403 from every admin route.

Screenshots: test-artifacts/screenshots/ always; docs/admin-console.png (referenced by
docs/operations.md) too when ENCLAVE_UPDATE_DOCS_SCREENSHOT=1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import FilePayload, Page, expect

from enclave_core.keys import KeyStore
from tests.browser.appliance import Appliance, running_appliance
from tests.conftest import REPO, VLLMServer

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_MS = 180_000  # embedding and Presidio on two busy CPU cores


@pytest.fixture(scope="module")
def admin_app(vllm: VLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Appliance, str]]:
    """An appliance of its own (the console changes documents and keys), with an administrator."""
    with running_appliance(tmp_path_factory.mktemp("admin-ui"), vllm.url) as app:
        root = KeyStore(app.settings.secrets_dir / "api-keys.json").create("root", [], ["admin"])[1]
        yield app, root


def shot(page: Page, screenshots: Path, name: str, docs: str | None = None) -> None:
    path = screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("ENCLAVE_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, REPO / "docs" / docs)


def open_console(page: Page, app: Appliance, key: str) -> None:
    page.goto(app.url + "/ui/admin.html")
    page.get_by_label("API key or SSO token").fill(key)
    page.keyboard.press("Enter")


def test_an_admin_sees_and_uses_every_part_of_the_console(
    page: Page, admin_app: tuple[Appliance, str], screenshots: Path
) -> None:
    app, root = admin_app
    page.on("dialog", lambda dialog: dialog.accept())
    open_console(page, app, root)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # Health of every component, with the real vLLM answering.
    for component in ("gateway", "vector_store", "llm", "audit_chain", "audit_volume", "ingest_jobs"):
        expect(page.locator(f'#health tr[data-component="{component}"]')).to_be_visible()
    expect(page.locator('#health tr[data-component="llm"] td.ok')).to_have_text("ok")

    # Collections and documents: change access groups in place.
    page.locator("#collection").select_option("handbook")
    row = page.locator("#documents tbody tr").filter(has_text="annual-leave-policy.md")
    expect(row).to_be_visible()
    with app.http("alice") as http:
        before = {d["source"]: d for d in http.get("/v1/collections/handbook/documents").json()["documents"]}
    row.get_by_label("Access groups of annual-leave-policy.md").fill("staff, hr")
    row.get_by_role("button", name="Save groups").click()
    expect(page.locator("#notice")).to_contain_text("Access groups of annual-leave-policy.md saved")
    with app.http("alice") as http:
        after = {d["source"]: d for d in http.get("/v1/collections/handbook/documents").json()["documents"]}
    changed = after["annual-leave-policy.md"]
    assert changed["acl"] == ["hr", "staff"]
    assert changed["chunks"] == before["annual-leave-policy.md"]["chunks"]  # same chunks: nothing re-embedded

    # An upload becomes a job whose progress and per-file errors show up live.
    page.locator("#upload-collection").fill("handbook")
    page.locator("#upload-groups").fill("staff")
    page.locator("#upload-files").set_input_files(
        [
            FilePayload(name="canteen.md", mimeType="text/markdown", buffer=b"# Canteen\n\nOpen 11:30 to 14:00."),
            FilePayload(name="broken.pdf", mimeType="application/pdf", buffer=b"this is not a pdf"),
        ]
    )
    page.get_by_role("button", name="Upload").click()
    job = page.locator("#jobs tbody tr").first
    expect(job).to_have_attribute("data-status", "done", timeout=JOB_TIMEOUT_MS)
    expect(job).to_contain_text("2/2 files")
    expect(job.locator("li.bad")).to_contain_text("broken.pdf: failed")
    expect(job.locator("li").filter(has_text="canteen.md")).to_contain_text("ingested")

    # API keys: create (the secret is shown once), then revoke.
    page.locator("#key-user").fill("carol")
    page.locator("#key-groups").fill("staff")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#key-secret")).to_contain_text("shown once")
    secret = page.locator("#key-secret").inner_text().rsplit(" ", 1)[-1]
    with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {secret}"}) as carol:
        assert carol.get("/v1/me").json()["user"] == "carol"
        key_row = page.locator("#keys tbody tr").filter(has_text="carol")
        key_row.get_by_role("button", name="Revoke").click()
        expect(key_row).to_contain_text("revoked")
        assert carol.get("/v1/me").status_code == 401

    # The audit trail, filtered, then the whole chain verified.
    page.locator("#audit-action").fill("acl.change")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit tbody tr")).to_contain_text("root")
    page.locator("#audit-action").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator('#audit tbody tr[data-action="key.revoke"]')).to_have_count(1)
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#verify-result")).to_contain_text("Chain verified")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, screenshots, "20-admin-console", docs="admin-console.png")

    # The chat UI links to the console for an administrator.
    page.goto(app.url + "/")
    expect(page.locator("#admin-link")).to_be_visible()


def test_a_non_admin_sees_none_of_it_and_gets_403_from_its_routes(
    page: Page, admin_app: tuple[Appliance, str], screenshots: Path
) -> None:
    app, _ = admin_app
    called: list[str] = []
    page.on("request", lambda r: called.append(r.url))
    open_console(page, app, app.keys["alice"])
    expect(page.locator("body")).to_have_attribute("data-ready", "forbidden")
    expect(page.get_by_role("heading", name="Not an administrator")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()
    assert not [u for u in called if "/v1/admin/" in u]  # nothing of the console was even asked for
    shot(page, screenshots, "21-admin-console-forbidden", docs="admin-console-forbidden.png")

    page.goto(app.url + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#admin-link")).to_be_hidden()

    with app.http("alice") as http:
        for method, path in [
            ("GET", "/v1/admin/health"),
            ("GET", "/v1/admin/jobs"),
            ("GET", "/v1/admin/keys"),
            ("POST", "/v1/admin/keys"),
            ("DELETE", "/v1/admin/keys/0123456789ab"),
            ("GET", "/v1/admin/audit"),
            ("POST", "/v1/admin/audit/verify"),
        ]:
            body = {"user": "mallory", "roles": ["admin"]} if method == "POST" else None
            assert http.request(method, path, json=body).status_code == 403, (method, path)
        # The ordinary document routes refuse her too: she is not the collection's admin.
        doc = http.get("/v1/collections/handbook/documents").json()["documents"][0]["doc_id"]
        acl = http.put(f"/v1/collections/handbook/documents/{doc}/acl", json={"groups": ["*"]})
        assert acl.status_code == 403
