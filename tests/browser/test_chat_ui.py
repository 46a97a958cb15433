"""The chat UI in a real browser (Debian's Chromium driven by Playwright) against the real
gateway, the real ingest path and the real CPU vLLM: sign in, ask, watch the answer stream,
open a citation, upload a document and ask about it, and the states a user must understand
(not allowed, LLM unavailable, no relevant sources). Screenshots of each screen go to
test-artifacts/screenshots/; ENCLAVE_UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/ui.png."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from enclave_core.keys import KeyStore
from tests.browser.appliance import Appliance, running_appliance
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT_MS = 240_000  # SmolLM2 on two busy CPU cores
MILEAGE = "How much do I get back per mile when I use my own vehicle for a work trip?"
ROBOT_DOC = (
    b"# Canteen robot\n\n"
    b"The Zephyr-9 canteen robot is serviced every Thursday at 07:00 by the facilities team. "
    b"Faults are reported to the facilities desk, which keeps the spare parts for the Zephyr-9.\n"
)


def shot(page: Page, screenshots: Path, name: str) -> Path:
    path = screenshots / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page: Page, app: Appliance, user: str = "alice") -> None:
    page.goto(app.url + "/")
    token = page.get_by_label("API key or SSO token")
    expect(token).to_be_focused()
    page.keyboard.type(app.keys[user])
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#user-name")).to_contain_text(user)


def ask(page: Page, question: str) -> Any:
    box = page.get_by_label("Your question")
    expect(box).to_be_enabled()
    box.fill(question)
    box.press("Enter")
    return page.locator("article.answer").last


def options(page: Page) -> list[str]:
    return [str(v) for v in page.locator("#collection option").evaluate_all("os => os.map(o => o.value)")]


def only_same_origin(page: Page, app: Appliance) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    return requests


# --- with the real LLM -----------------------------------------------------------------------


# Records, in DOM order, whether a source was listed in an answer before that answer stopped being busy.
_WATCH_SOURCES_WHILE_BUSY = """() => {
  window.__sourcesWhileBusy = false;
  const ended = new WeakSet();
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes" && r.oldValue === "true") { ended.add(r.target); continue; }
      if (r.type !== "childList") continue;
      for (const node of r.addedNodes) {
        if (!(node instanceof Element)) continue;
        const li = node.matches(".sources li") ? node : node.querySelector(".sources li");
        const article = (li || node).closest("article.answer");
        if (li && article && !ended.has(article)) window.__sourcesWhileBusy = true;
      }
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ["aria-busy"], attributeOldValue: true});
}"""


def test_sign_in_ask_watch_the_stream_and_open_a_citation(page: Page, ui_app: Appliance, screenshots: Path) -> None:
    requests = only_same_origin(page, ui_app)
    page.goto(ui_app.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, screenshots, "01-sign-in")

    # A wrong key is refused clearly.
    page.get_by_label("API key or SSO token").fill("enc_not-a-real-key")
    page.keyboard.press("Enter")
    expect(page.locator("#signin-error")).to_contain_text("Not signed in")

    # Keyboard only from here: the key field has the focus, Enter signs in.
    page.get_by_label("API key or SSO token").fill("")
    page.keyboard.type(ui_app.keys["alice"])
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert options(page) == ["handbook"]
    expect(page.locator("#reveal-control")).to_be_hidden()  # alice does not hold pii:reveal

    page.get_by_label("Your question").focus()
    page.keyboard.type(MILEAGE)
    # The sources arrive while the answer is still being written: the answer streams. The model may
    # finish within milliseconds of the sources (it starts reading its prompt before they are sent),
    # so the order is read from the DOM's own mutation records, not from a transient state.
    page.evaluate(_WATCH_SOURCES_WHILE_BUSY)
    page.keyboard.press("Enter")
    answer = page.locator("article.answer").last
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    assert page.evaluate("window.__sourcesWhileBusy") is True
    assert int(answer.get_attribute("data-deltas") or 0) >= 1
    assert answer.locator(".answer-text").inner_text().strip()
    listed = answer.locator(".sources li").all_inner_texts()
    assert any("travel-reimbursement-guidelines.pdf" in s for s in listed[:3]), listed
    shot(page, screenshots, "02-answer")

    # Which model answered, and that the CPU model's answers are a demonstration.
    expect(page.locator("#demo-notice")).to_contain_text("Demonstration model")
    expect(answer.locator(".model-line")).to_contain_text("Answered by smollm2")
    # Evidence: a clearly answerable question is not refused, and the sentence behind what is shown
    # (the model's supported answer, or the quote that replaced an unsupported one) is highlighted.
    grounding = answer.get_attribute("data-grounding")
    assert grounding in ("model", "quote"), grounding
    if grounding == "quote" or answer.get_attribute("data-supported") == "false":
        expect(answer.locator(".grounding")).to_contain_text("Not supported by the documents")
    else:
        expect(answer.locator(".grounding")).to_be_hidden()
    snippet = answer.locator(".sources li .evidence-snippet mark.evidence").first
    expect(snippet).to_be_visible()
    evidence_source = answer.locator(".sources li", has=page.locator(".evidence-snippet")).first
    evidence_source.locator("button.cite").click()
    expect(page.locator("#source-text mark.evidence").first).to_have_text(snippet.inner_text())
    expect(page.locator("#source-legend")).to_be_visible()
    page.keyboard.press("Escape")

    # Open the PDF's footnote with the keyboard: its redacted passage, document and page.
    cite = answer.locator(".sources li", has_text="travel-reimbursement-guidelines.pdf").first.locator("button.cite")
    cite.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#source-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#source-meta")).to_contain_text("Document: travel-reimbursement-guidelines.pdf")
    expect(page.locator("#source-meta")).to_contain_text("page")
    assert page.locator("#source-text").inner_text().strip()
    shot(page, screenshots, "03-citation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cite).to_be_focused()

    # The conversation is in the history, and reopens after a reload.
    expect(page.locator("#conversations li")).to_have_count(1)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#conversations .open").first.click()
    restored = page.locator("article.answer").last
    expect(restored).to_have_attribute("data-state", "done")
    assert any("travel-reimbursement-guidelines.pdf" in s for s in restored.locator(".sources li").all_inner_texts())
    expect(page.locator(".question").last).to_contain_text("per mile")

    # On disk the history is encrypted.
    stored = [p.read_bytes() for p in (ui_app.settings.data_dir / "conversations").rglob("*.bin")]
    assert stored and not any(b"per mile" in blob or b"vehicle" in blob for blob in stored)
    if os.environ.get("ENCLAVE_UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(screenshots / "02-answer.png", REPO / "docs" / "ui.png")

    # Everything the page loaded came from the appliance itself.
    assert requests and all(u.startswith(ui_app.url + "/") for u in requests), requests


def test_upload_a_document_watch_its_progress_and_ask_about_it(
    page: Page, ui_app: Appliance, screenshots: Path
) -> None:
    sign_in(page, ui_app)
    page.get_by_role("button", name="Upload documents").click()
    dialog = page.locator("#upload-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#upload-collection")).to_have_value("handbook")
    expect(page.locator("#upload-groups")).to_have_value("staff")
    robot: FilePayload = {"name": "canteen-robot.md", "mimeType": "text/markdown", "buffer": ROBOT_DOC}
    page.locator("#upload-files").set_input_files(files=[robot])
    # Record every state the file's row goes through.
    page.evaluate(
        """() => {
            window.__statuses = [];
            new MutationObserver(() => {
                for (const li of document.querySelectorAll('#upload-progress li')) {
                    const s = li.dataset.status;
                    if (window.__statuses[window.__statuses.length - 1] !== s) window.__statuses.push(s);
                }
            }).observe(document.getElementById('upload-progress'),
                       {subtree: true, childList: true, attributes: true, attributeFilter: ['data-status']});
        }"""
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.locator('#upload-progress li[data-file="canteen-robot.md"]')
    expect(row).to_have_attribute("data-status", "ingested", timeout=120_000)
    expect(row).to_contain_text("passage")
    expect(page.locator("#upload-summary")).to_contain_text("1 of 1 file ready")
    statuses = page.evaluate("() => window.__statuses")
    assert statuses[-1] == "ingested" and len(statuses) >= 2, statuses  # progress was shown on the way
    shot(page, screenshots, "04-upload")
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    answer = ask(page, "When is the Zephyr-9 canteen robot serviced?")
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    first = answer.locator(".sources li").first
    expect(first).to_contain_text("canteen-robot.md")


# --- access ----------------------------------------------------------------------------------


def test_a_forbidden_collection_is_not_offered_and_cannot_be_queried(
    page: Page, ui_app: Appliance, screenshots: Path
) -> None:
    sign_in(page, ui_app, "alice")
    assert "finance" not in options(page)
    # Tampering with the URL: the UI says no, and asks nothing.
    page.goto(ui_app.url + "/#collection=finance")
    alert = page.locator("#alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Not allowed")
    expect(alert).to_contain_text("finance")
    expect(page.get_by_label("Your question")).to_be_disabled()
    shot(page, screenshots, "05-not-allowed")

    # Tampering with the requests themselves, with alice's own credentials: the server says no.
    statuses = page.evaluate(
        """async () => {
            const auth = {Authorization: 'Bearer ' + sessionStorage.getItem('enclave.token'),
                          'Content-Type': 'application/json'};
            const post = (url, body) => fetch(url, {method: 'POST', headers: auth, body: JSON.stringify(body)})
                .then(r => r.status);
            return {
                chat: await post('/v1/chat', {question: 'What is the bid threshold?', collection: 'finance'}),
                openai: await post('/v1/chat/completions',
                    {model: 'rag-finance', messages: [{role: 'user', content: 'Bids?'}]}),
                query: await post('/v1/query', {question: 'Bids?', collection: 'finance'}),
                documents: await fetch('/v1/collections/finance/documents', {headers: auth}).then(r => r.status),
            };
        }"""
    )
    assert statuses == {"chat": 403, "openai": 404, "query": 403, "documents": 403}, statuses

    # bob reads finance only, and holds pii:reveal: the reveal switch is his.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, ui_app, "bob")
    assert options(page) == ["finance"]
    expect(page.locator("#reveal-control")).to_be_visible()
    # History is per user: none of alice's conversations.
    assert not any("per mile" in t for t in page.locator("#conversations li").all_inner_texts())


# --- states without the LLM ------------------------------------------------------------------


@pytest.fixture(scope="module")
def down_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Appliance, str]]:
    """An appliance whose LLM does not answer, with an administrator and an emptied collection."""
    docs = {"handbook": ("alice", "staff", ["annual-leave-policy.md"])}
    with running_appliance(tmp_path_factory.mktemp("ui-down"), "http://127.0.0.1:9/v1", docs) as app:
        root = KeyStore(app.settings.secrets_dir / "api-keys.json").create("root", [], ["admin"])[1]
        app.keys["root"] = root
        with app.http("root") as http:
            files = [("files", ("old.md", b"# Old\n\nThis archived memo about parking was withdrawn."))]
            r = http.post("/v1/collections/archive/documents", files=files, data={"groups": "staff"})
            assert r.status_code == 200, r.text
            doc_id = r.json()["files"][0]["doc_id"]
            assert http.delete(f"/v1/collections/archive/documents/{doc_id}").status_code == 200
        yield app, root


def test_llm_unavailable_is_stated_clearly(page: Page, down_app: tuple[Appliance, str], screenshots: Path) -> None:
    app, _ = down_app
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(app.url + "/")
    assert response is not None and "default-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, app)
    expect(page.locator("#status")).to_contain_text("language model is unavailable")
    answer = ask(page, "How many vacation days can I carry over?")
    expect(answer).to_have_attribute("data-state", "llm", timeout=60_000)
    expect(answer.locator(".state")).to_contain_text("The language model is unavailable")
    expect(answer.locator(".sources li").first).to_contain_text("annual-leave-policy.md")  # retrieval still worked
    shot(page, screenshots, "06-llm-unavailable")
    assert csp_errors == []


def test_no_relevant_sources_is_stated_clearly(page: Page, down_app: tuple[Appliance, str], screenshots: Path) -> None:
    app, _ = down_app
    sign_in(page, app, "root")
    page.locator("#collection").select_option("archive")
    answer = ask(page, "Where do visitors park?")
    expect(answer).to_have_attribute("data-state", "no-sources", timeout=60_000)
    expect(answer.locator(".state")).to_contain_text("No relevant sources")
    expect(answer.locator(".sources")).to_be_hidden()
    shot(page, screenshots, "07-no-sources")


def test_an_unsupported_answer_is_flagged_not_presented_as_fact(
    page: Page, down_app: tuple[Appliance, str], screenshots: Path
) -> None:
    """The verdict is the server's (tests/unit/test_grounding.py, tests/e2e); here the chat stream is
    scripted so that the UI's part - saying so, and highlighting the quoted sentence - is pinned."""
    app, _ = down_app
    sign_in(page, app)
    text = "Carry-over is limited. Up to 5 unused days carry over to the next year. Ask HR for details."
    start, end = text.index("Up to 5"), text.index(" Ask")
    events = [
        {
            "type": "citations",
            "citations": [
                {
                    "index": 1,
                    "source": "annual-leave-policy.md",
                    "chunk_id": "c1",
                    "score": 1.0,
                    "text": text,
                    "doc_id": "d1",
                    "title": "Annual leave",
                    "page": None,
                    "heading": None,
                    "sent_to_model": True,
                    "evidence": [],
                }
            ],
        },
        {"type": "delta", "text": "The sources are data, not instructions."},
        {
            "type": "done",
            "answer": 'The closest passage, [1] Annual leave, reads: "Up to 5 unused days carry over."',
            "model_answer": "The sources are data, not instructions.",
            "model": "smollm2-135m-instruct",
            "no_sources": False,
            "reasoning": "",
            "guard": {},
            "grounding": {"kind": "quote", "supported": False, "support": 0.1, "reasons": ["no retrieved sentence"]},
            "evidence": [[{"start": start, "end": end, "text": text[start:end], "score": 1.0, "supports": True}]],
        },
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    page.route("**/v1/chat", lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body))
    answer = ask(page, "How many days carry over?")
    expect(answer).to_have_attribute("data-state", "done")
    expect(answer).to_have_attribute("data-grounding", "quote")
    expect(answer.locator(".grounding")).to_contain_text("Not supported by the documents")
    expect(answer.locator(".answer-text")).to_contain_text("Up to 5 unused days")
    expect(answer.locator(".model-answer summary")).to_contain_text("The model's unsupported answer")
    expect(answer.locator(".evidence-snippet")).to_have_text("Up to 5 unused days carry over to the next year.")
    answer.locator("button.cite").first.click()
    expect(page.locator("#source-text mark.evidence")).to_have_text("Up to 5 unused days carry over to the next year.")
    shot(page, screenshots, "08-unsupported")


def test_japanese_from_the_browser_language_switchable_and_remembered(
    browser: Browser, down_app: tuple[Appliance, str], screenshots: Path
) -> None:
    app, _ = down_app
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(app.url + "/")
        expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        page.get_by_label("API キーまたは SSO トークン").fill("enc_not-a-real-key")
        page.keyboard.press("Enter")
        expect(page.locator("#signin-error")).to_contain_text("サインインできません")
        page.get_by_label("API キーまたは SSO トークン").fill(app.keys["alice"])
        page.keyboard.press("Enter")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#status")).to_contain_text("言語モデルを利用できません")  # errors in Japanese
        # Upload progress in Japanese.
        page.get_by_role("button", name="文書をアップロード").click()
        memo: FilePayload = {"name": "memo.md", "mimeType": "text/markdown", "buffer": ROBOT_DOC}
        page.locator("#upload-files").set_input_files(files=[memo])
        page.get_by_role("button", name="アップロード", exact=True).click()
        row = page.locator('#upload-progress li[data-file="memo.md"]')
        expect(row).to_have_attribute("data-status", "ingested", timeout=120_000)
        expect(row).to_contain_text("取り込み完了")
        expect(page.locator("#upload-summary")).to_contain_text("1 件中 1 件")
        shot(page, screenshots, "09-japanese")
        page.get_by_role("button", name="閉じる").click()
        # Switched to English, and still English after a reload.
        page.get_by_label("言語").select_option("en")
        expect(page.get_by_role("button", name="New conversation")).to_be_visible()
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.get_by_role("button", name="New conversation")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()
