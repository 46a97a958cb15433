// Enclave chat UI: plain JavaScript, no framework, nothing loaded from outside the appliance.
// Every text from the server is inserted with textContent (never as HTML).

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

const MESSAGES = {
  forbidden: (c) => [
    "Not allowed",
    `You may not read the collection “${c}”, or it does not exist. Pick one of your collections.`,
  ],
  llm: [
    "The language model is unavailable",
    "No answer could be written right now. The sources that were found are listed; try again in a moment.",
  ],
  noSources: (c) => [
    "No relevant sources",
    `None of the documents you may read in “${c}” matches this question, so there is nothing to answer from.`,
  ],
  busy: [
    "The appliance is busy",
    "Many questions are being answered right now. Try again in a few seconds.",
  ],
  noCollections: [
    "No collections yet",
    "You may not read any collection yet. Upload documents, or ask an administrator for access.",
  ],
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
    signOut("Your key or token is no longer accepted. Sign in again.");
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
      throw new Error(`Not signed in: ${body.detail || "the key or token was not accepted"}.`);
    }
    if (!response.ok) throw new Error(`The appliance answered ${response.status}. Try again.`);
    me = await response.json();
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(error instanceof TypeError ? "The appliance could not be reached." : error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me;
  $("user-name").textContent = `${me.user}${me.groups.length ? ` · ${me.groups.join(", ")}` : ""}`;
  $("reveal-control").hidden = !me.can_reveal;
  $("reveal").checked = false;
  $("reveal-reason").hidden = true;
  $("history-note").textContent = me.history_days > 0
    ? `Kept for ${me.history_days} days after the last message.`
    : "History is switched off on this appliance.";
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
    el("option", { value: c.name, text: `${c.name} (${c.documents} document${c.documents === 1 ? "" : "s"})` })));
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
      }, c.title || "(untitled)", el("span", { class: "meta", text: `${c.collection} · ${when}` })),
      el("button", {
        type: "button", class: "delete", "aria-label": `Delete conversation “${c.title}”`,
        title: "Delete", text: "✕", onclick: () => deleteConversation(c.id),
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
    if (error.status === 404) showState($("alert"), "error", ["Conversation not found", "It may have expired."]);
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
    view.finish({ answer: turn.answer, no_sources: turn.no_sources });
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
      el("summary", { text: "Reasoning" }), this.reasoningBody);
    this.notice = el("div", { class: "state", hidden: true });
    this.sourceList = el("ol");
    this.sources = el("section", { class: "sources", hidden: true, "aria-label": "Sources" },
      el("h3", { text: "Sources" }), this.sourceList);
    this.article = el("article", {
      class: "answer", "aria-busy": "true", "aria-live": "polite", "data-state": "waiting", "data-deltas": "0",
    }, el("span", { class: "who", text: "Enclave" }), this.reasoning, this.answerText, this.notice, this.sources);
    this.item = el("li", { class: "turn" },
      el("div", { class: "question" }, el("span", { class: "who", text: "You" }), question),
      this.article);
    $("messages").append(this.item);
    $("empty-hint").hidden = true;
    this.item.scrollIntoView({ block: "end" });
  }

  setCitations(citations) {
    this.citations = citations;
    this.sourceList.replaceChildren(...citations.map((c) => {
      const where = [c.source, c.page ? `page ${c.page}` : null, c.heading].filter(Boolean).join(" · ");
      return el("li", { "data-index": c.index },
        el("button", {
          type: "button", class: "cite", "data-index": c.index,
          "aria-label": `Source ${c.index}: ${docName(c)}`,
          onclick: (event) => openSource(c, event.currentTarget),
        }, `[${c.index}] ${docName(c)}`),
        " ",
        el("span", { class: "where", text: where }),
        c.withdrawn ? el("span", { class: "withdrawn", text: " — no longer available to you" }) : null);
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
        "aria-label": `Source ${citation.index}: ${docName(citation)}`,
        onclick: (event) => openSource(citation, event.currentTarget),
      }, `[${citation.index}]`));
      last = match.index + match[0].length;
    }
    parts.push(document.createTextNode(text.slice(last)));
    this.answerText.replaceChildren(...parts);
  }

  finish(done) {
    this.text = done.answer || this.text;
    this.render();
    this.article.dataset.state = "done";
    this.article.setAttribute("aria-busy", "false");
    if (done.no_sources) {
      this.article.dataset.state = "no-sources";
      showState(this.notice, "info", MESSAGES.noSources(state.collection || ""));
    }
  }

  fail(kind, detail) {
    this.article.setAttribute("aria-busy", "false");
    this.article.dataset.state = kind;
    if (kind === "llm") showState(this.notice, "warn", MESSAGES.llm);
    else if (kind === "busy") showState(this.notice, "warn", MESSAGES.busy);
    else if (kind === "forbidden") showState(this.notice, "error", MESSAGES.forbidden(state.collection || ""));
    else showState(this.notice, "error", ["Something went wrong", detail || "Try again."]);
    this.render();
  }
}

async function ask(question) {
  if (!state.collection || state.busy) return false;
  const reveal = Boolean(state.me && state.me.can_reveal && $("reveal").checked);
  const revealReason = $("reveal-reason").value.trim();
  if (reveal && !revealReason) {
    showState($("alert"), "warn", ["A reason is needed", "Say why personal data should be revealed; it is audited."]);
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
      else if (error instanceof TypeError) view.fail("error", "The appliance could not be reached.");
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
    if (!finished) view.fail("error", "The answer was cut off.");
  } catch (error) {
    view.fail("error", error instanceof TypeError ? "The connection was lost." : error.message);
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

function openSource(citation, opener) {
  sourceOpener = opener;
  $("source-title").textContent = `[${citation.index}] ${docName(citation)}`;
  const meta = [
    `Document: ${citation.source}`,
    citation.page ? `page ${citation.page}` : null,
    citation.heading ? `section “${citation.heading}”` : null,
  ].filter(Boolean).join(" · ");
  $("source-meta").textContent = meta;
  $("source-text").textContent = citation.withdrawn
    ? "This passage is no longer available to you."
    : citation.text;
  $("source-dialog").showModal();
  $("source-close").focus();
}

function closeDialog(dialog) {
  dialog.close();
}

// --- upload with progress ------------------------------------------------------------------
// One request carries the files (upload progress in bytes); the appliance answers 202 with an
// ingestion job at once, and the job is polled for per-file progress until it is done.

const FILE_TEXT = {
  queued: () => "Waiting to be ingested…",
  running: () => "Ingesting: removing personal data, splitting, indexing…",
  ingested: (f) => `Ingested: ${f.chunks} passage${f.chunks === 1 ? "" : "s"} indexed.`,
  unchanged: () => "Already up to date.",
  skipped: (f) => `Skipped: ${f.error || "not a supported document"}`,
  failed: (f) => `Failed: ${f.error || "could not be ingested"}`,
};

function setRow(row, status, text) {
  row.item.dataset.status = status;
  row.status.textContent = text;
  if (status !== "uploading" && status !== "queued" && status !== "running") {
    row.progress.max = 1;
    row.progress.value = 1;
  }
}

function sendFiles(files, collection, groups, rows) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/collections/${encodeURIComponent(collection)}/documents?wait=false`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const share = event.loaded / event.total;
      for (const row of rows) {
        row.progress.value = share;
        setRow(row, "uploading", `Uploading… ${Math.round(100 * share)} %`);
      }
    });
    xhr.upload.addEventListener("load", () => {
      for (const row of rows) {
        row.progress.removeAttribute("value"); // indeterminate while the appliance works
        setRow(row, "queued", FILE_TEXT.queued());
      }
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    form.append("groups", groups);
    xhr.send(form);
  });
}

function showFiles(job, rows) {
  (job.files || []).forEach((f, i) => {
    const row = rows[i];
    if (!row) return;
    const status = job.status === "running" && f.status === "queued" && i === (job.progress ? job.progress.files_done : -1)
      ? "running" : f.status;
    setRow(row, status, (FILE_TEXT[status] || FILE_TEXT.failed)(f));
  });
  if (job.progress) {
    $("upload-summary").textContent = `Ingesting: ${job.progress.files_done} of ${job.progress.files_total} file${job.progress.files_total === 1 ? "" : "s"} done.`;
  }
}

async function followJob(url, rows) {
  for (;;) {
    let job;
    try {
      job = await (await api(url)).json();
    } catch (error) {
      for (const row of rows) setRow(row, "failed", `Failed: ${error.message}`);
      return null;
    }
    showFiles(job, rows);
    if (job.status === "done" || job.status === "interrupted") return job;
    await new Promise((r) => setTimeout(r, 600));
  }
}

async function upload(event) {
  event.preventDefault();
  const files = Array.from($("upload-files").files);
  const collection = $("upload-collection").value.trim();
  const groups = $("upload-groups").value.trim();
  if (!files.length || !collection) return;
  const list = $("upload-progress");
  list.replaceChildren();
  $("upload-start").disabled = true;
  delete $("upload-summary").dataset.done;
  $("upload-summary").textContent = `Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`;
  const rows = files.map((file) => {
    const row = {
      progress: el("progress", { max: 1, value: 0, "aria-label": `Progress of ${file.name}` }),
      status: el("span", { class: "status", text: "Waiting…" }),
    };
    row.item = el("li", { "data-status": "waiting", "data-file": file.name },
      el("span", { class: "file", text: file.name }), row.progress, row.status);
    list.append(row.item);
    return row;
  });
  const { status, body } = await sendFiles(files, collection, groups, rows);
  let job = null;
  if (status === 202 && body && body.status_url) job = await followJob(body.status_url, rows);
  else if (status === 200 && body) { job = body; showFiles(job, rows); }
  else {
    const why = status === 0 ? "the appliance could not be reached"
      : status === 401 ? "not signed in"
      : status === 403 ? `you may not add documents to “${collection}”`
      : (body && body.detail) || `HTTP ${status}`;
    for (const row of rows) setRow(row, "failed", `Failed: ${why}.`);
  }
  const ok = job ? job.files.filter((f) => f.status === "ingested" || f.status === "unchanged").length : 0;
  $("upload-summary").textContent = `${ok} of ${files.length} file${files.length === 1 ? "" : "s"} ready to ask about.`;
  $("upload-summary").dataset.done = "true";
  $("upload-start").disabled = false;
  $("upload-files").value = "";
  await loadCollections();
  if (ok && readable(collection) && state.collection !== collection && !state.conversationId) {
    selectCollection(collection);
  } else if (state.collection) {
    $("collection").value = state.collection;
  }
}

function openUpload() {
  $("upload-collection").value = state.collection || "";
  if (!$("upload-groups").value && state.me) $("upload-groups").value = state.me.groups.join(", ");
  $("upload-summary").textContent = "";
  delete $("upload-summary").dataset.done;
  $("upload-dialog").showModal();
  $("upload-files").focus();
}

// --- wiring --------------------------------------------------------------------------------

function init() {
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
  $("open-upload").addEventListener("click", openUpload);
  $("upload-close").addEventListener("click", () => closeDialog($("upload-dialog")));
  $("upload-form").addEventListener("submit", upload);
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
