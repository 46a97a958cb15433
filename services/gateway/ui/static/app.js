// Enclave chat UI: plain JavaScript, no framework, nothing loaded from outside the appliance.
// Every text from the server is inserted with textContent (never as HTML).

import { LANGUAGES, applyStatic, language, setLanguage, t } from "/ui/i18n.js";
import { evidenceSnippet, groundingNotice, renderPassage, withEvidence } from "/ui/evidence.js";
import { initUpload } from "/ui/upload.js";

const TOKEN_KEY = "enclave.token";

const $ = (id) => document.getElementById(id);
const state = {
  token: null,
  me: null,
  collections: [],      // [{name, documents, chunks}]
  collection: null,     // the one being asked
  conversationId: null,
  busy: false,
};

// Titles and texts of the notices, in the current language (i18n.js).
const MESSAGES = {
  forbidden: (c) => t("forbidden", c),
  get llm() { return t("llm"); },
  noSources: (c) => t("noSources", c),
  get busy() { return t("busy"); },
  get noCollections() { return t("noCollections"); },
};

// --- small helpers -------------------------------------------------------------------------

// A document's name for people: its title, unless redaction left only a placeholder there.
function docName(c) {
  const title = (c.title || "").trim();
  return title && !/^<[A-Z][A-Z0-9_]*>$/.test(title) ? title : c.source;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function showState(node, kind, [title, text]) {
  node.replaceChildren(el("strong", { text: title }), document.createTextNode(text));
  node.className = `state ${kind === "error" ? "state-error" : kind === "warn" ? "state-warn" : ""}`;
  node.dataset.kind = kind;
  node.hidden = false;
}

function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

function setHash() {
  const params = new URLSearchParams();
  if (state.collection) params.set("collection", state.collection);
  if (state.conversationId) params.set("conversation", state.conversationId);
  const next = `#${params}`;
  if (location.hash !== next) history.replaceState(null, "", next);
}

class HttpError extends Error {
  constructor(status, body) {
    super((body && (body.detail || (body.error && body.error.message))) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    signOut(t("signin.expired"));
    throw new HttpError(401, null);
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new HttpError(response.status, body);
  }
  return response;
}

// Server-sent events over a POST response body (EventSource cannot POST or send headers).
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

// --- sign-in -------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  let me;
  try {
    const response = await fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 401) {
      const body = await response.json().catch(() => ({}));
      throw new Error(t("signin.rejected", body.detail));
    }
    if (!response.ok) throw new Error(t("signin.status", response.status));
    me = await response.json();
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(error instanceof TypeError ? t("signin.unreachable") : error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me;
  $("user-name").textContent = `${me.user}${me.groups.length ? ` · ${me.groups.join(", ")}` : ""}`;
  $("reveal-control").hidden = !me.can_reveal;
  $("admin-link").hidden = !me.is_admin; // the admin console (/ui/admin.html): admins only
  $("reveal").checked = false;
  $("reveal-reason").hidden = true;
  showSessionTexts();
  $("signin").hidden = true;
  $("session").hidden = false;
  $("app").hidden = false;
  $("token").value = "";
  await loadCollections();
  await applyHash();
  document.body.dataset.ready = "true"; // signed in, collections loaded
  refreshConversations();
  checkReadiness();
}

// The texts of the signed-in view that depend on the session (re-drawn when the language changes).
function showSessionTexts() {
  const me = state.me;
  if (!me) return;
  $("history-note").textContent = me.history_days > 0 ? t("history.kept", me.history_days) : t("history.off");
  const demo = $("demo-notice");
  demo.hidden = !me.demo_model;
  if (me.demo_model) showState(demo, "warn", [t("demo.title"), t("demo.text", me.model)]);
}

function showSignIn(message) {
  $("app").hidden = true;
  $("session").hidden = true;
  $("signin").hidden = false;
  const error = $("signin-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("token").focus();
}

function signOut(message) {
  state.token = null;
  state.me = null;
  state.conversationId = null;
  sessionStorage.removeItem(TOKEN_KEY);
  delete document.body.dataset.ready;
  $("messages").replaceChildren();
  showSignIn(message);
}

async function checkReadiness() {
  try {
    const response = await fetch("/readyz", { headers: { Authorization: `Bearer ${state.token}` } });
    const body = await response.json().catch(() => null);
    if (body && body.checks && body.checks.llm && body.checks.llm !== "ok") {
      showState($("status"), "warn", MESSAGES.llm);
    }
  } catch { /* the next question will say */ }
}

// --- collections ---------------------------------------------------------------------------

async function loadCollections() {
  const response = await api("/v1/collections");
  state.collections = (await response.json()).collections;
  const select = $("collection");
  const current = state.collection;
  select.replaceChildren(...state.collections.map((c) =>
    el("option", { value: c.name, text: t("collection.option", c.name, c.documents) })));
  $("collection-names").replaceChildren(...state.collections.map((c) => el("option", { value: c.name })));
  if (current && state.collections.some((c) => c.name === current)) select.value = current;
}

function readable(name) {
  return state.collections.some((c) => c.name === name);
}

function selectCollection(name, { keepConversation = false } = {}) {
  $("alert").hidden = true;
  if (!name) {
    state.collection = null;
    setComposer(false);
    showState($("alert"), "info", MESSAGES.noCollections);
    return;
  }
  if (!readable(name)) {
    // Not offered, and the server refuses it too (403): say so, ask nothing.
    state.collection = null;
    state.conversationId = null;
    $("collection").value = "";
    $("messages").replaceChildren();
    $("empty-hint").hidden = true;
    setComposer(false);
    showState($("alert"), "error", MESSAGES.forbidden(name));
    $("alert").dataset.collection = name;
    return;
  }
  state.collection = name;
  $("collection").value = name;
  if (!keepConversation) newConversation();
  setComposer(true);
  setHash();
}

async function applyHash() {
  const params = hashParams();
  const wanted = params.get("collection");
  const conversation = params.get("conversation");
  if (conversation) {
    await openConversation(conversation);
    if (state.conversationId) return;
  }
  selectCollection(wanted || (state.collections[0] && state.collections[0].name) || null);
}

function setComposer(enabled) {
  $("question").disabled = !enabled || state.busy;
  $("ask").disabled = !enabled || state.busy;
}

// --- conversations -------------------------------------------------------------------------

function newConversation() {
  state.conversationId = null;
  $("messages").replaceChildren();
  $("empty-hint").hidden = false;
  markCurrentConversation();
  setHash();
}

async function refreshConversations() {
  const list = $("conversations");
  let conversations = [];
  try {
    conversations = (await (await api("/v1/conversations")).json()).conversations;
  } catch { return; }
  list.replaceChildren(...conversations.map((c) => {
    const when = new Date(c.updated_at).toLocaleString();
    return el("li", {},
      el("button", {
        type: "button", class: "open", "data-id": c.id, onclick: () => openConversation(c.id),
      }, c.title || t("untitled"), el("span", { class: "meta", text: `${c.collection} · ${when}` })),
      el("button", {
        type: "button", class: "delete", "aria-label": t("delete.label", c.title),
        title: t("delete"), text: "✕", onclick: () => deleteConversation(c.id),
      }));
  }));
  markCurrentConversation();
}

function markCurrentConversation() {
  for (const button of document.querySelectorAll("#conversations .open")) {
    button.setAttribute("aria-current", String(button.dataset.id === state.conversationId));
  }
}

async function openConversation(id) {
  let conversation;
  try {
    conversation = await (await api(`/v1/conversations/${encodeURIComponent(id)}`)).json();
  } catch (error) {
    if (error.status === 404) showState($("alert"), "error", t("notFound"));
    return;
  }
  if (!readable(conversation.collection)) {
    selectCollection(conversation.collection);
    return;
  }
  selectCollection(conversation.collection, { keepConversation: true });
  state.conversationId = conversation.id;
  const messages = $("messages");
  messages.replaceChildren();
  $("empty-hint").hidden = conversation.turns.length > 0;
  for (const turn of conversation.turns) {
    const view = new TurnView(turn.question);
    view.setCitations(turn.citations || []);
    if (turn.reasoning) view.appendReasoning(turn.reasoning);
    view.finish({
      answer: turn.answer, no_sources: turn.no_sources, model: turn.model,
      grounding: turn.grounding, model_answer: turn.model_answer,
    });
  }
  markCurrentConversation();
  setHash();
}

async function deleteConversation(id) {
  try { await api(`/v1/conversations/${encodeURIComponent(id)}`, { method: "DELETE" }); } catch { return; }
  if (state.conversationId === id) newConversation();
  refreshConversations();
}

// --- one question and its answer -----------------------------------------------------------

class TurnView {
  constructor(question) {
    this.citations = [];
    this.text = "";
    this.reasoningText = "";
    this.deltas = 0;
    this.answerText = el("div", { class: "answer-text" });
    this.reasoningBody = el("p");
    this.reasoning = el("details", { class: "reasoning", hidden: true },
      el("summary", { text: t("reasoning") }), this.reasoningBody);
    this.notice = el("div", { class: "state", hidden: true });
    this.grounding = el("div", { class: "grounding", hidden: true });
    this.modelAnswer = el("details", { class: "model-answer", hidden: true });
    this.modelLine = el("p", { class: "model-line muted small", hidden: true });
    this.sourceList = el("ol");
    this.sources = el("section", { class: "sources", hidden: true, "aria-label": t("sources") },
      el("h3", { text: t("sources") }), this.sourceList);
    this.article = el("article", {
      class: "answer", "aria-busy": "true", "aria-live": "polite", "data-state": "waiting", "data-deltas": "0",
    }, el("span", { class: "who", text: "Enclave" }), this.reasoning, this.answerText, this.grounding,
    this.modelAnswer, this.modelLine, this.notice, this.sources);
    this.item = el("li", { class: "turn" },
      el("div", { class: "question" }, el("span", { class: "who", text: t("you") }), question),
      this.article);
    $("messages").append(this.item);
    $("empty-hint").hidden = true;
    this.item.scrollIntoView({ block: "end" });
  }

  setCitations(citations) {
    this.citations = citations;
    this.sourceList.replaceChildren(...citations.map((c) => {
      const where = [c.source, placeIn(c), c.heading].filter(Boolean).join(" · ");
      return el("li", { "data-index": c.index, "data-sent": c.sent_to_model ? "true" : null },
        el("button", {
          type: "button", class: "cite", "data-index": c.index,
          "aria-label": t("source.label", c.index, docName(c)),
          onclick: (event) => openSource(c, event.currentTarget),
        }, `[${c.index}] ${docName(c)}`),
        " ",
        el("span", { class: "where", text: where }),
        c.sent_to_model ? el("span", { class: "sent", text: ` · ${t("source.sent")}` }) : null,
        c.withdrawn ? el("span", { class: "withdrawn", text: t("source.withdrawnShort") }) : null,
        c.withdrawn ? null : evidenceSnippet(c));
    }));
    this.sources.hidden = citations.length === 0;
  }

  appendAnswer(text) {
    this.text += text;
    this.deltas += 1;
    this.article.dataset.deltas = String(this.deltas);
    this.article.dataset.state = "streaming";
    this.render();
  }

  appendReasoning(text) {
    this.reasoningText += (this.reasoningText ? " " : "") + text.trim();
    this.reasoningBody.textContent = this.reasoningText;
    this.reasoning.hidden = false;
  }

  // The answer with each [n] that names a source turned into a footnote button.
  render() {
    const parts = [];
    const pattern = /\[(\d{1,2})\]/g;
    const text = this.text.replace(/^\s+/, "");
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const citation = this.citations.find((c) => c.index === Number(match[1]));
      if (!citation) continue;
      parts.push(document.createTextNode(text.slice(last, match.index)));
      parts.push(el("button", {
        type: "button", class: "fn", "data-index": citation.index,
          "aria-label": t("source.label", citation.index, docName(citation)),
        onclick: (event) => openSource(citation, event.currentTarget),
      }, `[${citation.index}]`));
      last = match.index + match[0].length;
    }
    parts.push(document.createTextNode(text.slice(last)));
    this.answerText.replaceChildren(...parts);
  }

  finish(done) {
    this.text = done.answer || this.text;
    if (done.evidence) this.setCitations(withEvidence(this.citations, done.evidence));
    this.render();
    this.article.dataset.state = "done";
    this.article.setAttribute("aria-busy", "false");
    this.showGrounding(done);
    if (done.no_sources) {
      this.article.dataset.state = "no-sources";
      showState(this.notice, "info", MESSAGES.noSources(state.collection || ""));
    }
  }

  // How far the answer is backed by the documents, and which model wrote it.
  showGrounding(done) {
    const g = done.grounding || null;
    this.article.dataset.grounding = g ? g.kind : "";
    this.article.dataset.supported = g && g.supported !== null && g.supported !== undefined ? String(g.supported) : "";
    const notice = groundingNotice(g);
    this.grounding.hidden = !notice;
    if (notice) {
      showState(this.grounding, notice[0], notice[1]);
      this.grounding.classList.add("grounding");
    }
    this.modelAnswer.hidden = !done.model_answer;
    if (done.model_answer) {
      this.modelAnswer.replaceChildren(el("summary", { text: t("unsupported.modelAnswer") }),
        el("p", { text: done.model_answer }));
    }
    if (done.no_sources) return;
    this.modelLine.hidden = false;
    this.modelLine.textContent = done.model ? t("model.answered", done.model) : t("model.none");
  }

  fail(kind, detail) {
    this.article.setAttribute("aria-busy", "false");
    this.article.dataset.state = kind;
    if (kind === "llm") showState(this.notice, "warn", MESSAGES.llm);
    else if (kind === "busy") showState(this.notice, "warn", MESSAGES.busy);
    else if (kind === "forbidden") showState(this.notice, "error", MESSAGES.forbidden(state.collection || ""));
    else showState(this.notice, "error", [t("error"), detail || t("error.retry")]);
    this.render();
  }
}

async function ask(question) {
  if (!state.collection || state.busy) return false;
  const reveal = Boolean(state.me && state.me.can_reveal && $("reveal").checked);
  const revealReason = $("reveal-reason").value.trim();
  if (reveal && !revealReason) {
    showState($("alert"), "warn", t("reasonNeeded"));
    $("reveal-reason").focus();
    return false;
  }
  state.busy = true;
  setComposer(false);
  $("status").hidden = true;
  const view = new TurnView(question);
  try {
    let response;
    try {
      response = await api("/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({
          question,
          collection: state.collection,
          conversation_id: state.conversationId,
          reveal,
          reveal_reason: reveal ? revealReason : null,
        }),
      });
    } catch (error) {
      if (error.status === 401) return;
      if (error.status === 403) {
        view.fail("forbidden");
        showState($("alert"), "error", MESSAGES.forbidden(state.collection));
      } else if (error.status === 503) view.fail("llm");
      else if (error.status === 429) view.fail("busy");
      else if (error instanceof TypeError) view.fail("error", t("error.unreachable"));
      else view.fail("error", error.message);
      return;
    }
    let finished = false;
    for await (const event of readEvents(response)) {
      if (event.type === "conversation") {
        state.conversationId = event.id;
        setHash();
      } else if (event.type === "citations") {
        view.setCitations(event.citations);
        view.article.dataset.state = "streaming";
      } else if (event.type === "delta") {
        view.appendAnswer(event.text);
      } else if (event.type === "reasoning") {
        view.appendReasoning(event.text);
      } else if (event.type === "done") {
        view.finish(event);
        finished = true;
      } else if (event.type === "error") {
        view.fail(event.error === "DependencyUnavailable" ? "llm" : "error", event.detail);
        finished = true;
      }
    }
    if (!finished) view.fail("error", t("error.cutOff"));
  } catch (error) {
    view.fail("error", error instanceof TypeError ? t("error.lost") : error.message);
  } finally {
    state.busy = false;
    setComposer(Boolean(state.collection));
    refreshConversations();
    $("question").focus();
  }
  return true;
}

// --- the source passage --------------------------------------------------------------------

let sourceOpener = null;

// Where in its document a source is: slide, sheet, chapter, message or page (citation.locator;
// older answers and chunks carry only a page number).
function placeIn(c) {
  const loc = c.locator || (c.page ? { kind: "page", number: c.page } : null);
  if (!loc) return null;
  if (loc.kind === "sheet") return loc.name ? t("source.sheet", loc.name) : t("source.sheet", loc.number);
  if (loc.kind === "message") return loc.subject ? t("source.message", loc.subject, loc.date) : c.location;
  if (["page", "slide", "chapter"].includes(loc.kind) && loc.number) return t(`source.${loc.kind}`, loc.number);
  return c.location || null;
}

function openSource(citation, opener) {
  sourceOpener = opener;
  $("source-title").textContent = `[${citation.index}] ${docName(citation)}`;
  const meta = [
    t("source.document", citation.source),
    placeIn(citation),
    citation.heading ? t("source.section", citation.heading) : null,
  ].filter(Boolean).join(" · ");
  $("source-meta").textContent = meta;
  if (citation.withdrawn) {
    $("source-text").textContent = t("source.withdrawn");
    $("source-legend").hidden = true;
  } else {
    $("source-legend").hidden = !renderPassage($("source-text"), citation);
  }
  $("source-dialog").showModal();
  $("source-close").focus();
}

function closeDialog(dialog) {
  dialog.close();
}

// --- wiring --------------------------------------------------------------------------------

// The language switch: the browser's language first, then the user's choice (remembered).
function initLanguage() {
  const select = $("language");
  select.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) =>
    el("option", { value: code, text: name, lang: code })));
  select.value = language();
  applyStatic();
  select.addEventListener("change", (event) => {
    setLanguage(event.target.value);
    showSessionTexts();
    if (state.me) {
      loadCollections().catch(() => {});
      refreshConversations();
    }
  });
}

function init() {
  initLanguage();
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (token) signIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("collection").addEventListener("change", (event) => selectCollection(event.target.value));
  $("new-conversation").addEventListener("click", () => {
    newConversation();
    $("question").focus();
  });
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || state.busy) return;
    $("question").value = "";
    ask(question).then((asked) => {
      if (asked === false) $("question").value = question;
    });
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("source-close").addEventListener("click", () => closeDialog($("source-dialog")));
  $("source-dialog").addEventListener("close", () => {
    if (sourceOpener && sourceOpener.isConnected) sourceOpener.focus();
  });
  $("reveal").addEventListener("change", (event) => {
    $("reveal-reason").hidden = !event.target.checked;
    if (event.target.checked) $("reveal-reason").focus();
  });
  initUpload({ state, api, el, $, loadCollections, readable, selectCollection });
  window.addEventListener("hashchange", () => {
    if (!state.token) return;
    const wanted = hashParams().get("collection");
    const conversation = hashParams().get("conversation");
    if (conversation && conversation !== state.conversationId) openConversation(conversation);
    else if (wanted && wanted !== state.collection) selectCollection(wanted);
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else showSignIn("");
}

init();
