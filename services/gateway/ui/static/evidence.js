// Evidence in the chat UI: a source passage with the sentences that support the answer
// highlighted, and the notices that say how far an answer is backed by the documents.
// The sentences are chosen on the appliance by the embedding model (grounding in the API);
// here they are only shown. Text is inserted with textContent / text nodes, never as HTML.

import { t } from "/ui/i18n.js";

// The supporting spans of one citation, in text order, without overlaps.
function supportingSpans(citation) {
  const spans = (citation.evidence || []).filter((e) => e.supports && e.end > e.start);
  spans.sort((a, b) => a.start - b.start);
  const out = [];
  for (const span of spans) {
    if (out.length && span.start < out[out.length - 1].end) continue;
    out.push(span);
  }
  return out;
}

// The passage's text with each supporting sentence in a <mark class="evidence">.
export function renderPassage(node, citation) {
  const text = citation.text || "";
  const parts = [];
  let last = 0;
  for (const span of supportingSpans(citation)) {
    parts.push(document.createTextNode(text.slice(last, span.start)));
    const mark = document.createElement("mark");
    mark.className = "evidence";
    mark.dataset.score = String(span.score);
    mark.textContent = text.slice(span.start, span.end);
    parts.push(mark);
    last = span.end;
  }
  parts.push(document.createTextNode(text.slice(last)));
  node.replaceChildren(...parts);
  return parts.length > 1;
}

// The best supporting sentence of a citation, for the source list (null when none supports).
export function evidenceSnippet(citation) {
  const best = supportingSpans(citation).sort((a, b) => b.score - a.score)[0];
  if (!best) return null;
  const quote = document.createElement("q");
  quote.className = "evidence-snippet";
  quote.title = t("source.evidence");
  const mark = document.createElement("mark");
  mark.className = "evidence";
  mark.textContent = best.text;
  quote.append(mark);
  return quote;
}

// The notice for an answer's grounding verdict: [kind, [title, text]] or null when supported.
export function groundingNotice(grounding) {
  if (!grounding) return null;
  if (grounding.kind === "refusal") return ["info", [t("refusal.title"), t("refusal.text")]];
  if (grounding.kind === "quote") return ["warn", [t("unsupported.title"), t("unsupported.quote")]];
  if (grounding.supported === false) return ["warn", [t("unsupported.title"), t("unsupported.plain")]];
  return null;
}

// Citations of a finished answer with the evidence of its done event merged in (same order).
export function withEvidence(citations, evidence) {
  if (!Array.isArray(evidence)) return citations;
  return citations.map((c, i) => ({ ...c, evidence: evidence[i] || c.evidence || [] }));
}
