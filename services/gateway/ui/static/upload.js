// Upload with progress, for the chat UI (app.js passes in what it shares: the session state,
// the API helper and the collection list). Texts come from i18n.js; server text goes in as text.

import { t } from "/ui/i18n.js";

let ui = null; // { state, api, el, $, loadCollections, readable, selectCollection }

export function initUpload(shared) {
  ui = shared;
  const { $ } = ui;
  $("open-upload").addEventListener("click", openUpload);
  $("upload-close").addEventListener("click", () => $("upload-dialog").close());
  $("upload-form").addEventListener("submit", upload);
}

const $ = (id) => ui.$(id);
const el = (...args) => ui.el(...args);

// --- upload with progress ------------------------------------------------------------------
// One request carries the files (upload progress in bytes); the appliance answers 202 with an
// ingestion job at once, and the job is polled for per-file progress until it is done.

const FILE_TEXT = {
  queued: () => t("upload.queued"),
  running: () => t("upload.running"),
  ingested: (f) => t("upload.ingested", f.chunks),
  unchanged: () => t("upload.unchanged"),
  skipped: (f) => t("upload.skipped", f.error),
  failed: (f) => t("upload.failed", f.error),
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
    xhr.setRequestHeader("Authorization", `Bearer ${ui.state.token}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const share = event.loaded / event.total;
      for (const row of rows) {
        row.progress.value = share;
        setRow(row, "uploading", t("upload.uploading", Math.round(100 * share)));
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
    $("upload-summary").textContent = t("upload.ingesting", job.progress.files_done, job.progress.files_total);
  }
}

async function followJob(url, rows) {
  for (;;) {
    let job;
    try {
      job = await (await ui.api(url)).json();
    } catch (error) {
      for (const row of rows) setRow(row, "failed", t("upload.failed", error.message));
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
  $("upload-summary").textContent = t("upload.startMany", files.length);
  const rows = files.map((file) => {
    const row = {
      progress: el("progress", { max: 1, value: 0, "aria-label": t("upload.progressLabel", file.name) }),
      status: el("span", { class: "status", text: t("upload.waiting") }),
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
    const why = status === 0 ? t("error.unreachable")
      : status === 401 ? t("upload.notSignedIn")
      : status === 403 ? t("upload.forbidden", collection)
      : (body && body.detail) || `HTTP ${status}`;
    for (const row of rows) setRow(row, "failed", t("upload.failed", why));
  }
  const ok = job ? job.files.filter((f) => f.status === "ingested" || f.status === "unchanged").length : 0;
  $("upload-summary").textContent = t("upload.ready", ok, files.length);
  $("upload-summary").dataset.done = "true";
  $("upload-start").disabled = false;
  $("upload-files").value = "";
  await ui.loadCollections();
  if (ok && ui.readable(collection) && ui.state.collection !== collection && !ui.state.conversationId) {
    ui.selectCollection(collection);
  } else if (ui.state.collection) {
    $("collection").value = ui.state.collection;
  }
}

function openUpload() {
  $("upload-collection").value = ui.state.collection || "";
  if (!$("upload-groups").value && ui.state.me) $("upload-groups").value = ui.state.me.groups.join(", ");
  $("upload-summary").textContent = "";
  delete $("upload-summary").dataset.done;
  $("upload-dialog").showModal();
  $("upload-files").focus();
}

