// The chat UI's words in English and Japanese. The language comes from the browser, can be
// switched, and is remembered in localStorage (a preference, never personal data).

const LANGUAGE_KEY = "enclave.language";
export const LANGUAGES = { en: "English", ja: "日本語" };

const plural = (n, one, many) => (n === 1 ? one : many);

const EN = {
  "skip": "Skip to the question",
  "collection": "Collection",
  "reveal": "Reveal personal data",
  "reveal.note": "Answers show original values instead of placeholders. Every reveal is recorded in the audit trail with your reason.",
  "reveal.reasonLabel": "Reason for revealing",
  "reveal.reasonPlaceholder": "Reason (audited)",
  "upload.open": "Upload documents",
  "signOut": "Sign out",
  "language": "Language",
  "signin.title": "Sign in",
  "signin.intro": "Ask questions about your organisation's documents. Answers use only documents you may read, and personal data is replaced by placeholders such as <PERSON>.",
  "signin.token": "API key or SSO token",
  "signin.submit": "Sign in",
  "signin.note": "Your key stays in this browser tab only and is forgotten when the tab closes.",
  "signin.rejected": (why) => `Not signed in: ${why || "the key or token was not accepted"}.`,
  "signin.status": (status) => `The appliance answered ${status}. Try again.`,
  "signin.unreachable": "The appliance could not be reached.",
  "signin.expired": "Your key or token is no longer accepted. Sign in again.",
  "newConversation": "New conversation",
  "history": "History",
  "history.kept": (days) => `Kept for ${days} days after the last message.`,
  "history.off": "History is switched off on this appliance.",
  "chat": "Chat",
  "empty": "Ask a question about the documents in this collection. Sources are numbered; select a number to read the passage it comes from.",
  "question": "Your question",
  "question.placeholder": "Ask about the documents in this collection…",
  "ask": "Ask",
  "hint": "Enter sends, Shift+Enter starts a new line.",
  "close": "Close",
  "source.removed": "Personal data in the passage was removed when the document was ingested.",
  "source.document": (name) => `Document: ${name}`,
  "source.page": (n) => `page ${n}`,
  "source.slide": (n) => `slide ${n}`,
  "source.sheet": (name) => `sheet “${name}”`,
  "source.chapter": (n) => `chapter ${n}`,
  "source.message": (subject, date) => `message “${subject}”` + (date ? ` (${date})` : ""),
  "source.section": (h) => `section “${h}”`,
  "source.withdrawn": "This passage is no longer available to you.",
  "source.withdrawnShort": " — no longer available to you",
  "source.label": (n, name) => `Source ${n}: ${name}`,
  "source.sent": "given to the model",
  "source.evidence": "Best supporting sentence",
  "source.evidenceLegend": "Highlighted: the sentences that best support the answer (chosen by the embedding model).",
  "sources": "Sources",
  "you": "You",
  "reasoning": "Reasoning",
  "untitled": "(untitled)",
  "delete": "Delete",
  "delete.label": (title) => `Delete conversation “${title}”`,
  "collection.option": (name, n) => `${name} (${n} document${plural(n, "", "s")})`,
  "model.answered": (model) => `Answered by ${model}`,
  "model.none": "No model was asked: the retrieved passages do not answer the question.",
  "demo.title": "Demonstration model",
  "demo.text": (model) => `${model} is a small model for trying the appliance on a CPU; its answers are a demonstration, not facts to rely on. Check the highlighted sources.`,
  "unsupported.title": "Not supported by the documents",
  "unsupported.quote": "The model's answer matched no retrieved sentence, so the closest passage is quoted instead.",
  "unsupported.plain": "No retrieved sentence supports this answer: do not rely on it.",
  "unsupported.modelAnswer": "The model's unsupported answer",
  "refusal.title": "The documents do not answer this",
  "refusal.text": "No retrieved passage is close enough to the question, so no answer was generated. The closest sources are listed.",
  "forbidden": (c) => ["Not allowed", `You may not read the collection “${c}”, or it does not exist. Pick one of your collections.`],
  "llm": ["The language model is unavailable", "No answer could be written right now. The sources that were found are listed; try again in a moment."],
  "noSources": (c) => ["No relevant sources", `None of the documents you may read in “${c}” matches this question, so there is nothing to answer from.`],
  "busy": ["The appliance is busy", "Many questions are being answered right now. Try again in a few seconds."],
  "noCollections": ["No collections yet", "You may not read any collection yet. Upload documents, or ask an administrator for access."],
  "notFound": ["Conversation not found", "It may have expired."],
  "reasonNeeded": ["A reason is needed", "Say why personal data should be revealed; it is audited."],
  "error": "Something went wrong",
  "error.retry": "Try again.",
  "error.unreachable": "The appliance could not be reached.",
  "error.cutOff": "The answer was cut off.",
  "error.lost": "The connection was lost.",
  "upload.title": "Upload documents",
  "upload.files": "Files (PDF, Word, Markdown, text, HTML)",
  "upload.collectionHelp": "Lowercase letters, digits, “-” or “_”.",
  "upload.groups": "Who may read them (groups, comma-separated; * = everyone)",
  "upload.start": "Upload",
  "upload.progressLabel": (name) => `Progress of ${name}`,
  "upload.waiting": "Waiting…",
  "upload.uploading": (pct) => `Uploading… ${pct} %`,
  "upload.queued": "Waiting to be ingested…",
  "upload.running": "Ingesting: removing personal data, splitting, indexing…",
  "upload.ingested": (n) => `Ingested: ${n} passage${plural(n, "", "s")} indexed.`,
  "upload.unchanged": "Already up to date.",
  "upload.skipped": (why) => `Skipped: ${why || "not a supported document"}`,
  "upload.failed": (why) => `Failed: ${why || "could not be ingested"}`,
  "upload.startMany": (n) => `Uploading ${n} file${plural(n, "", "s")}…`,
  "upload.ingesting": (done, total) => `Ingesting: ${done} of ${total} file${plural(total, "", "s")} done.`,
  "upload.ready": (ok, total) => `${ok} of ${total} file${plural(total, "", "s")} ready to ask about.`,
  "upload.notSignedIn": "not signed in",
  "upload.forbidden": (c) => `you may not add documents to “${c}”`,
};

const JA = {
  "skip": "質問へ移動",
  "collection": "コレクション",
  "reveal": "個人情報を表示",
  "reveal.note": "回答にプレースホルダーではなく元の値を表示します。表示するたびに理由とともに監査ログに記録されます。",
  "reveal.reasonLabel": "表示する理由",
  "reveal.reasonPlaceholder": "理由（監査されます）",
  "upload.open": "文書をアップロード",
  "signOut": "サインアウト",
  "language": "言語",
  "signin.title": "サインイン",
  "signin.intro": "組織の文書について質問できます。回答にはあなたが閲覧できる文書だけが使われ、個人情報は <PERSON> などのプレースホルダーに置き換えられます。",
  "signin.token": "API キーまたは SSO トークン",
  "signin.submit": "サインイン",
  "signin.note": "キーはこのブラウザーのタブにだけ保存され、タブを閉じると消去されます。",
  "signin.rejected": (why) => `サインインできません: ${why || "キーまたはトークンが受け付けられませんでした"}。`,
  "signin.status": (status) => `アプライアンスが ${status} を返しました。もう一度お試しください。`,
  "signin.unreachable": "アプライアンスに接続できませんでした。",
  "signin.expired": "キーまたはトークンが受け付けられなくなりました。もう一度サインインしてください。",
  "newConversation": "新しい会話",
  "history": "履歴",
  "history.kept": (days) => `最後のメッセージから ${days} 日間保存されます。`,
  "history.off": "このアプライアンスでは履歴が無効です。",
  "chat": "チャット",
  "empty": "このコレクションの文書について質問してください。出典には番号が付き、番号を選ぶと該当箇所を読めます。",
  "question": "質問",
  "question.placeholder": "このコレクションの文書について質問…",
  "ask": "質問する",
  "hint": "Enter で送信、Shift+Enter で改行します。",
  "close": "閉じる",
  "source.removed": "この箇所の個人情報は、文書の取り込み時に削除されています。",
  "source.document": (name) => `文書: ${name}`,
  "source.page": (n) => `${n} ページ`,
  "source.slide": (n) => `スライド ${n}`,
  "source.sheet": (name) => `シート「${name}」`,
  "source.chapter": (n) => `第 ${n} 章`,
  "source.message": (subject, date) => `メール「${subject}」` + (date ? `（${date}）` : ""),
  "source.section": (h) => `セクション「${h}」`,
  "source.withdrawn": "この箇所は閲覧できなくなりました。",
  "source.withdrawnShort": " — 閲覧できなくなりました",
  "source.label": (n, name) => `出典 ${n}: ${name}`,
  "source.sent": "モデルに渡した出典",
  "source.evidence": "最も根拠となる文",
  "source.evidenceLegend": "強調表示: 回答を最もよく裏付ける文（埋め込みモデルが選択）。",
  "sources": "出典",
  "you": "あなた",
  "reasoning": "推論",
  "untitled": "（無題）",
  "delete": "削除",
  "delete.label": (title) => `会話「${title}」を削除`,
  "collection.option": (name, n) => `${name}（${n} 件の文書）`,
  "model.answered": (model) => `回答したモデル: ${model}`,
  "model.none": "モデルには問い合わせていません: 検索された箇所は質問に答えていません。",
  "demo.title": "デモ用モデル",
  "demo.text": (model) => `${model} は CPU でアプライアンスを試すための小さなモデルです。回答はデモであり、事実として信頼できるものではありません。強調表示された出典を確認してください。`,
  "unsupported.title": "文書で裏付けられていません",
  "unsupported.quote": "モデルの回答はどの検索結果の文とも一致しなかったため、代わりに最も近い箇所を引用しています。",
  "unsupported.plain": "この回答を裏付ける文は見つかりませんでした。信頼しないでください。",
  "unsupported.modelAnswer": "裏付けのないモデルの回答",
  "refusal.title": "文書にはこの質問への回答がありません",
  "refusal.text": "質問に十分近い箇所が見つからなかったため、回答は生成していません。最も近い出典を表示しています。",
  "forbidden": (c) => ["許可されていません", `コレクション「${c}」を閲覧する権限がないか、存在しません。閲覧できるコレクションを選んでください。`],
  "llm": ["言語モデルを利用できません", "現在、回答を作成できません。見つかった出典は表示しています。しばらくしてからもう一度お試しください。"],
  "noSources": (c) => ["関連する出典がありません", `「${c}」であなたが閲覧できる文書に、この質問に一致するものがないため、回答できません。`],
  "busy": ["アプライアンスが混み合っています", "現在、多くの質問に回答中です。数秒後にもう一度お試しください。"],
  "noCollections": ["コレクションがありません", "閲覧できるコレクションがまだありません。文書をアップロードするか、管理者にアクセスを依頼してください。"],
  "notFound": ["会話が見つかりません", "期限切れの可能性があります。"],
  "reasonNeeded": ["理由が必要です", "個人情報を表示する理由を入力してください。監査されます。"],
  "error": "問題が発生しました",
  "error.retry": "もう一度お試しください。",
  "error.unreachable": "アプライアンスに接続できませんでした。",
  "error.cutOff": "回答が途中で途切れました。",
  "error.lost": "接続が切れました。",
  "upload.title": "文書をアップロード",
  "upload.files": "ファイル（PDF、Word、Markdown、テキスト、HTML）",
  "upload.collectionHelp": "英小文字、数字、「-」、「_」が使えます。",
  "upload.groups": "閲覧できるグループ（カンマ区切り、* = 全員）",
  "upload.start": "アップロード",
  "upload.progressLabel": (name) => `${name} の進捗`,
  "upload.waiting": "待機中…",
  "upload.uploading": (pct) => `アップロード中… ${pct} %`,
  "upload.queued": "取り込み待ち…",
  "upload.running": "取り込み中: 個人情報の削除、分割、索引付け…",
  "upload.ingested": (n) => `取り込み完了: ${n} 件の箇所を索引付けしました。`,
  "upload.unchanged": "すでに最新です。",
  "upload.skipped": (why) => `スキップ: ${why || "対応していない文書です"}`,
  "upload.failed": (why) => `失敗: ${why || "取り込めませんでした"}`,
  "upload.startMany": (n) => `${n} 件のファイルをアップロード中…`,
  "upload.ingesting": (done, total) => `取り込み中: ${total} 件中 ${done} 件完了。`,
  "upload.ready": (ok, total) => `${total} 件中 ${ok} 件のファイルについて質問できます。`,
  "upload.notSignedIn": "サインインしていません",
  "upload.forbidden": (c) => `「${c}」に文書を追加する権限がありません`,
};

const DICTIONARIES = { en: EN, ja: JA };

function initial() {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved && DICTIONARIES[saved]) return saved;
  const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (DICTIONARIES[base]) return base;
  }
  return "en";
}

let current = initial();

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!DICTIONARIES[lang]) return;
  current = lang;
  localStorage.setItem(LANGUAGE_KEY, lang);
  applyStatic();
}

// t("key") or t("key", arg...): the phrase in the current language (English if it is missing).
export function t(key, ...args) {
  const value = DICTIONARIES[current][key] ?? EN[key];
  if (value === undefined) return key;
  return typeof value === "function" ? value(...args) : value;
}

// Static texts in index.html: data-i18n (text), data-i18n-placeholder, data-i18n-aria (aria-label).
export function applyStatic(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
}
