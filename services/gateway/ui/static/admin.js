// The admin console: every action calls the same REST routes as any client (documents, ACLs,
// uploads) or the admin-only /v1/admin/* routes; the server checks the role and audits each change.
// The key is shared with the chat UI through this tab's sessionStorage.

const TOKEN_KEY = "enclave.token"; // the chat UI's key (services/gateway/ui/static/app.js)
const JOB_POLL_MS = 1000;
const state = { token: null, jobTimer: null };

const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function button(label, onClick, className = "secondary") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function notice(text, isError = false) {
  const n = $("notice");
  n.textContent = text;
  n.className = isError ? "notice error" : "notice";
  n.hidden = false;
}

const split = (value) => value.split(",").map((s) => s.trim()).filter(Boolean);

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// --- health ---------------------------------------------------------------------------------

async function loadHealth() {
  const body = await api("/v1/admin/health");
  const rows = Object.entries(body.components).map(([name, c]) => {
    const tr = document.createElement("tr");
    tr.dataset.component = name;
    tr.append(cell(name.replace(/_/g, " ")), cell(c.ok ? "ok" : "down", c.ok ? "ok" : "bad"), cell(c.detail));
    return tr;
  });
  $("health").tBodies[0].replaceChildren(...rows);
}

// --- collections and documents ----------------------------------------------------------------

async function loadCollections() {
  const body = await api("/v1/collections");
  const select = $("collection");
  const current = select.value;
  select.replaceChildren(...body.collections.map((c) => new Option(`${c.name} (${c.documents} documents)`, c.name)));
  if (current && body.collections.some((c) => c.name === current)) select.value = current;
  if (select.value) await loadDocuments();
  else $("documents").tBodies[0].replaceChildren();
}

async function loadDocuments() {
  const name = $("collection").value;
  const body = await api(`/v1/collections/${encodeURIComponent(name)}/documents`);
  const rows = body.documents.map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.doc = d.doc_id;
    const acl = document.createElement("input");
    acl.value = d.acl.join(", ");
    acl.setAttribute("aria-label", `Access groups of ${d.source}`);
    const actions = document.createElement("td");
    actions.append(
      button("Save groups", () => run(() => saveAcl(name, d.doc_id, acl.value), `Access groups of ${d.source} saved`)),
      button("Delete", () => {
        if (window.confirm(`Delete ${d.source} and its chunks?`)) {
          run(() => deleteDocument(name, d.doc_id), `${d.source} deleted`);
        }
      }, "danger"),
    );
    const aclCell = document.createElement("td");
    aclCell.append(acl);
    tr.append(cell(d.source), cell(d.chunks), aclCell, actions);
    return tr;
  });
  $("documents").tBodies[0].replaceChildren(...rows);
}

async function saveAcl(collection, docId, groups) {
  await api(`/v1/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(docId)}/acl`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ groups: split(groups) }),
  });
  await Promise.all([loadDocuments(), loadAudit()]);
}

async function deleteDocument(collection, docId) {
  await api(`/v1/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(docId)}`, {
    method: "DELETE",
  });
  await Promise.all([loadCollections(), loadAudit()]);
}

// --- jobs -----------------------------------------------------------------------------------

async function loadJobs() {
  const body = await api("/v1/admin/jobs?limit=20");
  const rows = body.jobs.map((j) => {
    const tr = document.createElement("tr");
    tr.dataset.job = j.job_id;
    tr.dataset.status = j.status;
    const files = document.createElement("td");
    const list = document.createElement("ul");
    for (const f of j.files) {
      const li = document.createElement("li");
      li.className = f.status === "failed" ? "bad" : "";
      li.textContent = `${f.source}: ${f.status}${f.error ? ` — ${f.error}` : ""}`;
      list.append(li);
    }
    files.append(list);
    const p = j.progress;
    tr.append(cell(j.job_id.slice(0, 8)), cell(j.collection), cell(j.status),
      cell(`${p.files_done}/${p.files_total} files, ${p.chunks} chunks, ${p.failed} failed`), files);
    return tr;
  });
  $("jobs").tBodies[0].replaceChildren(...rows);
  // Live progress: poll while a job is still queued or running.
  const busy = body.jobs.some((j) => j.status === "queued" || j.status === "running");
  clearTimeout(state.jobTimer);
  if (busy) state.jobTimer = setTimeout(() => loadJobs().catch(showError), JOB_POLL_MS);
  else if (state.jobsWereBusy) await Promise.all([loadCollections(), loadAudit()]);
  state.jobsWereBusy = busy;
}

async function upload(event) {
  event.preventDefault();
  const collection = $("upload-collection").value.trim();
  const form = new FormData();
  for (const file of $("upload-files").files) form.append("files", file, file.name);
  form.append("groups", $("upload-groups").value);
  await api(`/v1/collections/${encodeURIComponent(collection)}/documents?wait=false`, { method: "POST", body: form });
  $("upload-files").value = "";
  state.jobsWereBusy = true;
  await loadJobs();
}

// --- keys -----------------------------------------------------------------------------------

async function loadKeys() {
  const body = await api("/v1/admin/keys");
  const rows = body.keys.map((k) => {
    const tr = document.createElement("tr");
    tr.dataset.key = k.key_id;
    const actions = document.createElement("td");
    if (!k.revoked_at) {
      actions.append(button("Revoke", () => run(() => revokeKey(k.key_id), `Key ${k.key_id} revoked`), "danger"));
    }
    tr.append(cell(k.key_id), cell(k.user), cell(k.groups.join(", ")), cell(k.roles.join(", ")),
      cell(k.revoked_at ? `revoked ${k.revoked_at}` : "active"), actions);
    return tr;
  });
  $("keys").tBodies[0].replaceChildren(...rows);
}

async function createKey(event) {
  event.preventDefault();
  const body = await api("/v1/admin/keys", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: $("key-user").value.trim(), groups: split($("key-groups").value),
      roles: split($("key-roles").value) }),
  });
  const secret = $("key-secret");
  secret.textContent = `Key for ${body.user} (shown once, store it now): ${body.secret}`;
  secret.hidden = false;
  $("key-form").reset();
  await Promise.all([loadKeys(), loadAudit()]);
}

async function revokeKey(keyId) {
  await api(`/v1/admin/keys/${encodeURIComponent(keyId)}`, { method: "DELETE" });
  await Promise.all([loadKeys(), loadAudit()]);
}

// --- audit ----------------------------------------------------------------------------------

async function loadAudit(event) {
  if (event) event.preventDefault();
  const params = new URLSearchParams({ limit: "100" });
  const filters = { action: "audit-action", who: "audit-who", outcome: "audit-outcome", request_id: "audit-request" };
  for (const [name, id] of Object.entries(filters)) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  const body = await api(`/v1/admin/audit?${params}`);
  const shown = new Set(["seq", "ts", "action", "principal", "outcome", "collection", "request_id", "prev", "hash",
    "sig", "groups", "policy_version", "decision"]);
  const rows = body.records.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.action = r.action;
    const details = Object.entries(r).filter(([k]) => !shown.has(k))
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("  ");
    tr.append(cell(r.seq), cell(r.ts.slice(0, 19).replace("T", " ")), cell(r.action), cell(r.principal),
      cell(r.outcome), cell(r.collection), cell(r.request_id, "mono"), cell(details, "details"));
    return tr;
  });
  $("audit").tBodies[0].replaceChildren(...rows);
}

async function verifyAudit() {
  const body = await api("/v1/admin/audit/verify", { method: "POST" });
  const out = $("verify-result");
  out.className = body.ok ? "ok" : "bad";
  out.textContent = body.ok
    ? `Chain verified: ${body.records} records, every hash, link and signature intact.`
    : `Chain BROKEN at record ${body.first_bad}: ${body.reason}`;
  out.hidden = false;
}

// --- session --------------------------------------------------------------------------------

function showError(error) {
  if (error.status === 401) return signOut("Your key is no longer accepted.");
  notice(error.message, true);
}

async function run(action, success) {
  try {
    await action();
    if (success) notice(success);
  } catch (error) {
    showError(error);
  }
}

function signOut(message) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("console").hidden = true;
  $("forbidden").hidden = true;
  $("session").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("signin-error").hidden = !message;
  $("token").focus();
}

async function signIn(token) {
  state.token = token;
  let me;
  try {
    me = await api("/v1/me");
  } catch (error) {
    return signOut(error.status === 401 ? "Not signed in: the key was refused." : error.message);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("signin").hidden = true;
  $("session").hidden = false;
  $("user-name").textContent = me.user;
  if (!me.is_admin) {
    $("forbidden").hidden = false; // nothing of the console is loaded for a non-admin
    document.body.dataset.ready = "forbidden";
    return;
  }
  $("console").hidden = false;
  await run(() => Promise.all([loadHealth(), loadCollections(), loadJobs(), loadKeys(), loadAudit()]));
  document.body.dataset.ready = "true";
}

function wire() {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token").value.trim());
    $("token").value = "";
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("health-refresh").addEventListener("click", () => run(loadHealth));
  $("collection").addEventListener("change", () => run(loadDocuments));
  $("upload-form").addEventListener("submit", (e) => run(() => upload(e), "Upload queued as a job"));
  $("key-form").addEventListener("submit", (e) => run(() => createKey(e)));
  $("audit-form").addEventListener("submit", (e) => run(() => loadAudit(e)));
  $("audit-verify").addEventListener("click", () => run(verifyAudit));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else signOut();
}

wire();
