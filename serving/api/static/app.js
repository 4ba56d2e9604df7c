// claimtype article viewer: sends an article to POST v1/classify/article and shows the
// original text with each sentence marked by its claim type, its source and its cue; a
// reader's correction goes to POST v1/feedback. Plain JavaScript, no dependencies, nothing
// fetched from anywhere but this server (the page's CSP forbids it).
"use strict";

(() => {
  const KNOWN = ["fact", "claim", "denial", "offer"];
  const KINDS = ["source", "cue"];
  const KEY_STORE = "claimtype.apiKey";
  const MAX_FILE_BYTES = 20 * 1024 * 1024;
  // written for this page: invented people and places, one sentence of each label and a fact
  const EXAMPLE = [
    "Flood water closed the old bridge at Lanmere on Tuesday night.",
    "The river authority said the water would fall within two days.",
    "Councillor Petra Vance denied that the warning sirens had failed.",
    "The Hollin Rowing Club offered its boats to carry supplies to the island farms.",
    "Repairs to the bridge began in March.",
  ].join(" ");

  const $ = (id) => document.getElementById(id);
  const ui = {
    modelName: $("model-name"),
    forgetKey: $("forget-key"),
    auth: $("auth"),
    authMessage: $("auth-message"),
    authForm: $("auth-form"),
    apiKey: $("api-key"),
    form: $("article-form"),
    text: $("text"),
    file: $("file"),
    submit: $("submit"),
    status: $("status"),
    error: $("error"),
    results: $("results"),
    legend: $("legend"),
    threshold: $("threshold"),
    reviewCount: $("review-count"),
    reviewOnly: $("review-only"),
    article: $("article"),
    panel: $("details"),
    details: $("details-body"),
    jsonl: $("download-jsonl"),
    csv: $("download-csv"),
    intro: $("intro"),
    example: $("example"),
    sources: $("sources"),
    evidenceKey: $("evidence-key"),
    correct: $("correct"),
    fixLabel: $("fix-label"),
    fixText: $("fix-text"),
    fixFact: $("fix-fact"),
    fixNote: $("fix-note"),
    fixSend: $("fix-send"),
    fixStatus: $("fix-status"),
    fixError: $("fix-error"),
  };

  const state = {
    result: null, // the last ArticleResponse
    text: "", // the exact text that response's offsets refer to
    labels: KNOWN.slice(), // display order: the server's, once known
    // label -> one-line definition, written into the page by the server (claimtype.labels)
    definitions: Object.fromEntries([...document.querySelectorAll("#definitions [data-label]")]
      .map((d) => [d.dataset.label, d.querySelector("dd").textContent])),
    modelKnown: false, // GET v1/model answered (a test predictor has no model card)
    shown: new Set(KNOWN),
    reviewOnly: false,
    threshold: 0.6,
    fileName: null, // set while the textarea holds an opened file unchanged
    described: null, // the sentence whose details the panel shows
    drafts: new Map(), // sentence index -> the reader's correction (see draftOf)
    pending: null, // what to retry once the user gives an API key
    busy: false,
    sending: false, // a correction is on its way
  };

  // ---- small helpers ---------------------------------------------------------------

  /** Build an element; strings become text nodes (never HTML), so article text is inert. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const labelClass = (label) => "l-" + (KNOWN.includes(label) ? label : "other");
  const percent = (p) => (100 * p).toFixed(1) + "%";
  const topScore = (s) => Math.max(...Object.values(s.scores));
  const needsReview = (s) => topScore(s) < state.threshold;
  const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
  const capital = (word) => word[0].toUpperCase() + word.slice(1);
  const sentenceOf = (span) => state.result.sentences[Number(span.dataset.index)];
  const MARK_TAG = { source: "u", cue: "b" };
  /** A source underlined or a cue in bold: the article, the panel and the key look alike. */
  const mark = (kind, text) => el(MARK_TAG[kind], { class: "ev-" + kind }, text);

  /**
   * Python counts offsets in code points; JavaScript strings index UTF-16 units.
   * They differ after any character outside the Basic Multilingual Plane (emoji,
   * some CJK), so map every code point offset to a string index once.
   */
  function unitOffsets(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return null; // identical: no mapping needed
    const units = [0];
    let i = 0;
    for (const ch of text) {
      i += ch.length;
      units.push(i);
    }
    return units;
  }

  /** The code point offset of string index `unit` (the inverse of unitOffsets). */
  const codePoint = (text, unit) => [...text.slice(0, unit)].length;

  /** text[start:end] as Python slices it: start and end count code points. */
  function slicePoints(text, start, end) {
    const units = unitOffsets(text);
    return units ? text.slice(units[start], units[end]) : text.slice(start, end);
  }

  // ---- API key (kept for this tab only) ----------------------------------------------

  function getKey() {
    try {
      return sessionStorage.getItem(KEY_STORE) || "";
    } catch {
      return "";
    }
  }

  function setKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORE, key);
      else sessionStorage.removeItem(KEY_STORE);
    } catch {
      // storage disabled: the key lives only until the page closes
    }
    ui.forgetKey.hidden = !key;
  }

  function askForKey(message, retry) {
    // a waiting classify also reloads the model info, so it is never downgraded
    if (state.pending !== classify) state.pending = retry;
    ui.authMessage.textContent = message;
    if (!ui.auth.hidden) return; // already asking: keep what the user is typing
    ui.auth.hidden = false;
    ui.apiKey.value = "";
    ui.apiKey.focus();
  }

  /** Run what waited for a key: the model info first, then a waiting classify. */
  async function retryWithKey() {
    const retry = state.pending;
    state.pending = null;
    await loadModel();
    if (retry !== classify) return;
    if (ui.auth.hidden) await classify();
    else state.pending = classify; // this key was refused too: keep waiting
  }

  // ---- talking to the server --------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function detailOf(response) {
    try {
      const body = await response.json();
      const d = body && body.detail;
      if (typeof d === "string") return d.replace(/\.$/, "");
      if (Array.isArray(d)) return d.map((e) => e.msg || JSON.stringify(e)).join("; ");
      return JSON.stringify(body);
    } catch {
      return response.statusText || "no details";
    }
  }

  /** A readable message; `sent` is what the request carried: "article" or "correction". */
  function explain(status, detail, hadKey, requestId, sent) {
    switch (status) {
      case 401:
        return hadKey
          ? "The server refused this API key. Enter a valid key to continue."
          : "This server requires an API key. Enter it to continue.";
      case 403:
        return `The server refused the request: ${detail}.`;
      case 413:
        return sent === "correction"
          ? `The sentence is too long for this server to keep (${detail}).`
          : `The article is too long for this server (${detail}). ` +
            "Split it into shorter parts and classify them one at a time.";
      case 422:
        return sent === "correction"
          ? `The server did not keep this correction: ${detail}.`
          : `The server could not classify this text: ${detail}.`;
      default: {
        const ref = requestId ? ` (request id ${requestId})` : "";
        return `The server failed with status ${status}${ref}: ${detail}. ` +
          "Try again; if it keeps failing, check the server log.";
      }
    }
  }

  /** fetch JSON from this server; every failure becomes an ApiError with a readable message. */
  async function api(path, init, sent = "article") {
    const key = getKey();
    const headers = { Accept: "application/json", ...(init && init.headers) };
    if (key) headers.Authorization = "Bearer " + key;
    let response;
    try {
      response = await fetch(path, { ...init, headers, cache: "no-store" });
    } catch {
      throw new ApiError(0,
        "Could not reach the claimtype server (network error). Check that " +
        "`claimtype serve` is still running and that this page's address is right, " +
        "then try again.");
    }
    if (!response.ok) {
      const detail = await detailOf(response);
      const requestId = response.headers.get("x-request-id");
      throw new ApiError(response.status,
        explain(response.status, detail, !!key, requestId, sent));
    }
    try {
      return await response.json();
    } catch {
      throw new ApiError(response.status, "The server sent an answer that is not JSON.");
    }
  }

  // ---- messages ---------------------------------------------------------------------

  function say(message) {
    ui.status.textContent = message;
  }

  /** Show an error in the page's box, or in `box` (the correction form's). */
  function fail(message, box = ui.error) {
    box.textContent = message;
    box.hidden = false;
  }

  function clearError(box = ui.error) {
    box.hidden = true;
    box.textContent = "";
  }

  // ---- model info -------------------------------------------------------------------

  async function loadModel() {
    try {
      const info = await api("v1/model");
      ui.modelName.textContent = `${info.name} ${info.version} (${info.precision})`;
      state.labels = info.labels.map((l) => l.name);
      state.shown = new Set(state.labels);
      state.modelKnown = true;
    } catch (err) {
      if (err.status === 401) askForKey(err.message, loadModel);
      else if (err.status === 404) ui.modelName.textContent = "details not available";
      else fail(err.message);
    }
  }

  // ---- classify ---------------------------------------------------------------------

  async function classify() {
    if (state.busy) return;
    const text = ui.text.value;
    clearError();
    if (!text.trim()) {
      fail("There is no text to classify: paste an article or open a .txt file first.");
      ui.text.focus();
      return;
    }
    state.busy = true;
    ui.submit.disabled = true;
    ui.results.setAttribute("aria-busy", "true");
    say(`Classifying ${plural(text.length, "character")}…`);
    const started = performance.now();
    try {
      const body = { text };
      if (state.fileName) body.id = state.fileName;
      const result = await api("v1/classify/article", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      show(text, result);
      const counts = state.labels.map((l) => `${result.counts[l] || 0} ${l}`).join(", ");
      say(`Labelled ${plural(result.sentences.length, "sentence")} in ${seconds} s ` +
        `with ${result.model}: ${counts}.`);
    } catch (err) {
      say("");
      if (err.status === 401) askForKey(err.message, classify);
      else fail(err.message);
    } finally {
      state.busy = false;
      ui.submit.disabled = false;
      ui.results.removeAttribute("aria-busy");
    }
  }

  // ---- rendering --------------------------------------------------------------------

  function show(text, result) {
    state.text = text;
    state.result = result;
    if (result.counts) state.labels = Object.keys(result.counts);
    for (const s of result.sentences) {
      if (!state.labels.includes(s.label)) state.labels.push(s.label);
    }
    state.shown = new Set(state.labels);
    if (!state.modelKnown) ui.modelName.textContent = result.model;
    ui.intro.hidden = true; // the legend's chips and the panel carry the definitions now
    renderLegend();
    renderSources();
    renderArticle();
    ui.results.hidden = false;
    apply();
    state.described = null;
    state.drafts.clear();
    ui.correct.hidden = true;
    ui.panel.style.marginTop = "";
    ui.details.replaceChildren(el("p", { class: "hint" },
      "Point at a sentence or move to it with the keyboard to see its probabilities."));
  }

  function renderLegend() {
    const counts = state.result.counts || {};
    ui.legend.replaceChildren(...state.labels.map((label) => {
      const box = el("input", { type: "checkbox", checked: true, "data-label": label });
      box.checked = true;
      const n = counts[label] || 0;
      return el("li", {},
        el("label", { class: "chip " + labelClass(label), title: state.definitions[label] },
          box,
          el("span", { class: "tag " + labelClass(label) }, label),
          el("span", { class: "count" }, String(n)),
          el("span", { class: "sr-only" }, n === 1 ? " sentence" : " sentences")));
    }));
  }

  /** The "who said what" table: one row per source, its counts and where it speaks. */
  function renderSources() {
    const { sources, sentences } = state.result;
    const marks = sentences.some((s) => s.evidence);
    ui.evidenceKey.hidden = !marks;
    if (!marks) {
      ui.sources.replaceChildren(el("p", { class: "hint" },
        "This model does not mark sources and cues."));
      return;
    }
    if (!sources || !sources.length) {
      ui.sources.replaceChildren(el("p", { class: "hint" },
        "No sentence of this article names a source."));
      return;
    }
    const head = el("tr", {}, ...["Source", "Claims", "Denials", "Offers", "Sentences"]
      .map((h) => el("th", { scope: "col" }, h)));
    const rows = sources.map((row) => {
      const [first, ...others] = row.names.length ? row.names : [row.source];
      return el("tr", {},
        el("th", { scope: "row", title: row.names.join(" · ") }, first,
          others.length ? el("span", { class: "also" }, `also: ${others.join(", ")}`) : null),
        ...["claim", "denial", "offer"].map((l) => el("td", { class: "n" }, String(row[l]))),
        el("td", {}, ...row.where.flatMap((i, n) => [n ? " " : null, el("button", {
          type: "button", class: "goto", "data-index": i,
          "aria-label": `Go to sentence ${Number(i) + 1}`,
        }, String(Number(i) + 1))])));
    });
    ui.sources.replaceChildren(el("table", { "aria-labelledby": "sources-title" },
      el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  /** The source and cue as the article shows them: "Source: The ministry. Cue: denied." */
  function evidenceWords(s) {
    if (!s.evidence) return "";
    return KINDS.filter((k) => s.evidence[k])
      .map((k) => `${capital(k)}: ${s.evidence[k].text}. `).join("");
  }

  /**
   * The sentence article[start:end] (string indices) as nodes, its source underlined and its
   * cue in bold. Spans come in code points of the article (article_start/_end), mapped by `at`
   * like the sentence itself, so the marks sit on exactly the characters the API means.
   */
  function sentenceNodes(s, start, end, at) {
    const marks = KINDS.filter((k) => s.evidence && s.evidence[k])
      .map((k) => ({ kind: k, from: at(s.evidence[k].article_start),
        to: at(s.evidence[k].article_end) }))
      .sort((a, b) => a.from - b.from);
    const nodes = [];
    let pos = start;
    for (const m of marks) {
      if (m.from < pos || m.to > end) continue; // overlapping or outside: shown in words only
      if (m.from > pos) nodes.push(state.text.slice(pos, m.from));
      nodes.push(mark(m.kind, state.text.slice(m.from, m.to)));
      pos = m.to;
    }
    if (pos < end) nodes.push(state.text.slice(pos, end));
    return nodes;
  }

  function renderArticle() {
    const { text, result } = state;
    const units = unitOffsets(text);
    const at = (cp) => (units ? units[cp] : cp);
    const frag = document.createDocumentFragment();
    let pos = 0;
    const total = result.sentences.length;
    result.sentences.forEach((s, i) => {
      const start = at(s.start);
      const end = at(s.end);
      if (start > pos) frag.append(text.slice(pos, start)); // the writer's own spacing
      const span = el("span", {
        class: "sentence " + labelClass(s.label),
        "data-index": i,
        "data-label": s.label,
        role: "group",
        "aria-roledescription": "sentence",
        "aria-description": evidenceWords(s) + state.labels
          .map((l) => `${l} ${percent(s.scores[l] || 0)}`).join(", "),
      }, ...sentenceNodes(s, start, end, at));
      span.dataset.position = `${i + 1} of ${total}`;
      frag.append(span);
      pos = Math.max(pos, end);
    });
    if (pos < text.length) frag.append(text.slice(pos));
    ui.article.replaceChildren(frag);
    ui.article.setAttribute("aria-label", `Labelled article, ${plural(total, "sentence")}`);
  }

  /** Re-apply the threshold and filters without re-rendering the text. */
  function apply() {
    if (!state.result) return;
    let review = 0;
    for (const span of ui.article.querySelectorAll(".sentence")) {
      const s = sentenceOf(span);
      const flagged = needsReview(s);
      if (flagged) review += 1;
      const visible = state.shown.has(s.label) && (!state.reviewOnly || flagged);
      span.classList.toggle("review", flagged);
      span.classList.toggle("muted", !visible);
      span.dataset.tag = flagged ? `${s.label} · review` : s.label;
      span.tabIndex = visible ? 0 : -1;
      span.setAttribute("aria-label",
        `Sentence ${span.dataset.position}: ${s.label}, ${percent(topScore(s))}` +
        (flagged ? ", needs review" : "") + (visible ? "" : ", filtered out"));
    }
    ui.reviewCount.textContent =
      `${plural(review, "sentence")} of ${state.result.sentences.length} ` +
      `${review === 1 ? "needs" : "need"} review.`;
    const focused = document.activeElement;
    if (focused && focused.classList && focused.classList.contains("sentence")) {
      describe(focused);
    }
  }

  /** What the model marked in the sentence; nothing for a model without an evidence head. */
  function evidenceList(s) {
    if (!s.evidence) return null;
    if (s.label === "fact") return el("p", { class: "evidence" }, "A fact has no source or cue.");
    return el("dl", { class: "evidence", "aria-label": "Evidence the model marked" },
      ...KINDS.flatMap((k) => [el("dt", {}, capital(k)),
        el("dd", {}, s.evidence[k] ? mark(k, s.evidence[k].text) : "none marked")]));
  }

  /** Put the panel beside the sentence: its top level with the sentence's first line. */
  function place(span) {
    const first = span.getClientRects()[0] || span.getBoundingClientRect();
    const offset = first.top - ui.article.getBoundingClientRect().top;
    ui.panel.style.marginTop = `${Math.max(0, Math.round(offset))}px`;
  }

  function describe(span) {
    const changed = span !== state.described;
    state.described = span;
    const s = sentenceOf(span);
    const flagged = needsReview(s);
    const rows = state.labels.map((l) => {
      const p = s.scores[l] || 0;
      const fill = el("span", { class: "fill " + labelClass(l) });
      fill.style.width = percent(p);
      return el("li", { class: l === s.label ? "best" : null },
        el("span", { class: "name" }, l),
        el("span", { class: "bar", "aria-hidden": "true" }, fill),
        el("span", { class: "pct" }, percent(p)));
    });
    const parts = [
      el("p", { class: "d-head" },
        el("span", { class: "tag " + labelClass(s.label) }, s.label),
        ` Sentence ${span.dataset.position}`,
        flagged ? el("strong", { class: "flag" }, " needs review") : null),
      state.definitions[s.label]
        ? el("p", { class: "definition" }, state.definitions[s.label]) : null,
      el("ul", { class: "bars", "aria-label": "Probability per label" }, ...rows),
      s.truncated
        ? el("p", { class: "note" }, "Cut to the model's token limit before scoring.") : null,
      evidenceList(s),
    ];
    ui.details.replaceChildren(...parts.filter(Boolean));
    if (changed || ui.correct.hidden) fillCorrection(s);
    place(span);
  }

  // ---- corrections (POST v1/feedback) ---------------------------------------------------

  /**
   * The reader's correction of sentence s, kept per sentence so that moving to another
   * sentence and back loses nothing. It starts as the model's label and spans ([start, end)
   * code points of s.text). Spans shown are spans sent: `marked` is true once the panel shows
   * spans, i.e. from the start when the model has an evidence head, else once the reader
   * marks or clears one.
   */
  function draftOf(s) {
    let d = state.drafts.get(s.index);
    if (!d) {
      const spans = Object.fromEntries(KINDS.map((k) => {
        const span = s.evidence && s.evidence[k];
        return [k, span ? [span.start, span.end] : null];
      }));
      d = { label: s.label, ...spans, marked: !!s.evidence, note: "", dirty: false, saved: "" };
      state.drafts.set(s.index, d);
    }
    return d;
  }

  function fillCorrection(s) {
    const d = draftOf(s);
    ui.fixLabel.replaceChildren(...state.labels.map((l) => el("option", { value: l }, l)));
    ui.fixLabel.value = d.label;
    ui.fixText.value = s.text;
    ui.fixNote.value = d.note;
    ui.fixStatus.textContent = d.saved;
    clearError(ui.fixError);
    showSpans(s, d);
    ui.correct.hidden = false;
  }

  function showSpans(s, d) {
    const fact = d.label === "fact";
    for (const k of KINDS) {
      const span = d[k];
      $(`fix-${k}`).replaceChildren(fact || !span
        ? el("span", { class: "hint" }, "none") : mark(k, slicePoints(s.text, ...span)));
      for (const b of ui.correct.querySelectorAll(`button[data-kind="${k}"]`)) b.disabled = fact;
    }
    ui.fixFact.hidden = !fact;
  }

  /** The form's row for the source or the cue: what is marked, and Mark and Clear buttons. */
  function spanEditor(kind) {
    return el("div", { class: "span-edit", role: "group", "aria-labelledby": `fix-${kind}-name` },
      el("p", {}, el("span", { id: `fix-${kind}-name`, class: "span-name" }, capital(kind)),
        " ", el("span", { id: `fix-${kind}`, class: "span-now" })),
      el("button", { id: `mark-${kind}`, type: "button", "data-kind": kind }, `Mark as ${kind}`),
      " ",
      el("button", { id: `clear-${kind}`, type: "button", "data-kind": kind,
        "aria-label": `Clear ${kind}` }, "Clear"));
  }

  /** Where the sentence element `span` holds string index `offset` of `container`. */
  function unitIn(span, container, offset) {
    const before = document.createRange();
    before.selectNodeContents(span);
    before.setEnd(container, offset);
    return before.toString().length;
  }

  /**
   * The words the reader selected in the described sentence, as [start, end) code points of
   * its text, and forgets the selection so that it is not used twice. A selection made with
   * the mouse in the article counts first (clipped to the sentence), then one in the panel's
   * copy of the sentence (the keyboard's way: Shift and the arrow keys); null when neither.
   */
  function takeSelection(span, s) {
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && selection.rangeCount) {
      const range = selection.getRangeAt(0);
      if (range.intersectsNode(span)) {
        const from = span.contains(range.startContainer)
          ? unitIn(span, range.startContainer, range.startOffset) : 0;
        const to = span.contains(range.endContainer)
          ? unitIn(span, range.endContainer, range.endOffset) : s.text.length;
        selection.removeAllRanges();
        if (from < to) return [codePoint(s.text, from), codePoint(s.text, to)];
      }
    }
    const box = ui.fixText;
    if (box.selectionStart < box.selectionEnd) {
      const picked = [codePoint(s.text, box.selectionStart), codePoint(s.text, box.selectionEnd)];
      box.setSelectionRange(box.selectionEnd, box.selectionEnd);
      return picked;
    }
    return null;
  }

  /** Mark the selection as the source or cue (marking), or clear that span. */
  function editSpan(kind, marking) {
    const span = state.described;
    if (!span) return;
    const s = sentenceOf(span);
    const d = draftOf(s);
    let picked = null;
    if (marking) {
      picked = takeSelection(span, s);
      if (!picked) {
        fail(`Select the words of the ${kind} first: with the mouse in the article, or ` +
          "with Shift and the arrow keys in the sentence above.", ui.fixError);
        return;
      }
    }
    clearError(ui.fixError);
    Object.assign(d, { [kind]: picked, marked: true, dirty: true, saved: "" });
    showSpans(s, d);
    ui.fixStatus.textContent = picked
      ? `${capital(kind)} marked: ${slicePoints(s.text, ...picked)}.` : `${capital(kind)} cleared.`;
  }

  /** Send the described sentence's correction; the answer says what the server kept. */
  async function sendCorrection() {
    const span = state.described;
    if (!span || state.sending) return;
    const s = sentenceOf(span);
    const d = draftOf(s);
    const body = { text: s.text, label: d.label, predicted: s.label, model: state.result.model };
    if (d.note.trim()) body.note = d.note.trim();
    if (d.label !== "fact" && d.marked) body.evidence = { source: d.source, cue: d.cue };
    state.sending = true;
    ui.fixSend.setAttribute("aria-disabled", "true");
    clearError(ui.fixError);
    ui.fixStatus.textContent = "Sending the correction…";
    try {
      const saved = await api("v1/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }, "correction");
      if (saved.evidence) Object.assign(d, saved.evidence); // as kept: trimmed
      const spans = KINDS.filter((k) => saved.evidence && saved.evidence[k])
        .map((k) => `; ${k} “${slicePoints(s.text, ...saved.evidence[k])}”`).join("");
      Object.assign(d, { dirty: false,
        saved: `Correction ${saved.id} saved: ${saved.label}${spans}. Thank you.` });
      if (state.described === span) {
        showSpans(s, d);
        ui.fixStatus.textContent = d.saved;
      }
    } catch (err) {
      ui.fixStatus.textContent = "";
      fail(err.message, state.described === span ? ui.fixError : ui.error);
      if (err.status === 401) askForKey(err.message, loadModel);
    } finally {
      state.sending = false;
      ui.fixSend.removeAttribute("aria-disabled");
    }
  }

  /**
   * The reader is working on the described sentence (in one of the panel's fields, with a
   * selection in the sentence, or with a change not sent yet): pointing at other sentences on
   * the way must not take the panel away. Focusing another sentence still does; a button
   * pressed (Send, say) holds nothing, so pointing works again after it.
   */
  function engaged() {
    const span = state.described;
    if (!span) return false;
    const field = document.activeElement;
    if (field && ui.correct.contains(field) && field.matches("select, textarea, input")) {
      return true;
    }
    const draft = state.drafts.get(Number(span.dataset.index));
    if (draft && draft.dirty) return true;
    const selection = window.getSelection();
    return !!selection && !selection.isCollapsed && selection.rangeCount > 0 &&
      selection.getRangeAt(0).intersectsNode(span);
  }

  // ---- keyboard ---------------------------------------------------------------------

  function moveFocus(from, key) {
    const all = [...ui.article.querySelectorAll(".sentence:not(.muted)")];
    if (!all.length) return false;
    const i = all.indexOf(from);
    const next = {
      ArrowRight: all[Math.min(i + 1, all.length - 1)],
      ArrowDown: all[Math.min(i + 1, all.length - 1)],
      ArrowLeft: all[Math.max(i - 1, 0)],
      ArrowUp: all[Math.max(i - 1, 0)],
      Home: all[0],
      End: all[all.length - 1],
    }[key];
    if (!next) return false;
    next.focus();
    return true;
  }

  // ---- downloads (made in the browser; nothing is sent anywhere) -----------------------

  function rows() {
    return state.result.sentences.map((s) => ({
      id: state.result.id ?? null,
      index: s.index,
      start: s.start,
      end: s.end,
      text: s.text,
      label: s.label,
      score: topScore(s),
      scores: s.scores,
      truncated: s.truncated,
      needs_review: needsReview(s),
      review_threshold: state.threshold,
      model: state.result.model,
    }));
  }

  /** A spreadsheet runs a cell that starts with = + - @; quote it so it stays text. */
  function csvCell(value) {
    let v = value === null || value === undefined ? "" : String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(v)) v = "'" + v;
    return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }

  function toCsv() {
    const header = ["index", "start", "end", "label", "score", "needs_review",
      ...state.labels.map((l) => "p_" + l), "truncated", "text"];
    const lines = [header.join(",")];
    for (const r of rows()) {
      lines.push([r.index, r.start, r.end, r.label, r.score.toFixed(4), r.needs_review,
        ...state.labels.map((l) => (r.scores[l] || 0).toFixed(4)), r.truncated, r.text]
        .map(csvCell).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }

  function download(content, type, extension) {
    const base = (state.result.id || "article").replace(/\.txt$/i, "")
      .replace(/[^\w.-]+/g, "_");
    const url = URL.createObjectURL(new Blob([content], { type }));
    const a = el("a", { href: url, download: `${base}.claimtype.${extension}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(`Saved ${plural(state.result.sentences.length, "sentence")} as ${extension.toUpperCase()}.`);
  }

  // ---- file input -------------------------------------------------------------------

  async function openFile() {
    const file = ui.file.files && ui.file.files[0];
    if (!file) return;
    clearError();
    try {
      if (file.size > MAX_FILE_BYTES) {
        fail(`${file.name} is ${plural(file.size, "byte")}: too big for a single article.`);
        return;
      }
      const text = await file.text();
      if (text.includes("\u0000")) {
        fail(`${file.name} does not look like a plain-text file. Save the article as .txt ` +
          "(UTF-8) and open that.");
        return;
      }
      ui.text.value = text;
      state.fileName = file.name;
      const odd = text.includes("\uFFFD")
        ? " It is not valid UTF-8: unreadable characters are shown as \uFFFD." : "";
      say(`Opened ${file.name} (${plural(text.length, "character")}).${odd} ` +
        "Press Classify to label it.");
    } catch (err) {
      fail(`Could not read ${file.name}: ${err.message}`);
    } finally {
      ui.file.value = ""; // picking the same file again still fires "change"
    }
  }

  // ---- wiring -----------------------------------------------------------------------

  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    classify();
  });
  document.addEventListener("keydown", (e) => {
    // not from the key prompt or a correction: classifying again would start over
    const elsewhere = ui.auth.contains(e.target) || ui.correct.contains(e.target);
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && !elsewhere) {
      e.preventDefault();
      classify();
    }
  });
  ui.text.addEventListener("input", () => {
    state.fileName = null;
  });
  ui.file.addEventListener("change", openFile);
  ui.example.addEventListener("click", () => {
    ui.text.value = EXAMPLE;
    state.fileName = null;
    clearError();
    ui.text.focus();
    say("An example article is filled in: press Classify to label it.");
  });

  ui.authForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const key = ui.apiKey.value.trim();
    if (!key) {
      ui.authMessage.textContent = "Enter a key first.";
      ui.apiKey.focus();
      return;
    }
    setKey(key);
    ui.apiKey.value = "";
    ui.auth.hidden = true;
    clearError();
    say("API key saved for this tab.");
    retryWithKey();
  });
  ui.forgetKey.addEventListener("click", () => {
    setKey("");
    say("API key forgotten.");
  });

  ui.legend.addEventListener("change", (e) => {
    const label = e.target.dataset.label;
    if (!label) return;
    if (e.target.checked) state.shown.add(label);
    else state.shown.delete(label);
    apply();
  });
  ui.reviewOnly.addEventListener("change", () => {
    state.reviewOnly = ui.reviewOnly.checked;
    apply();
  });
  ui.threshold.addEventListener("input", () => {
    const t = Number(ui.threshold.value);
    const ok = ui.threshold.value !== "" && t >= 0 && t <= 1;
    ui.threshold.setAttribute("aria-invalid", String(!ok));
    if (!ok) return;
    state.threshold = t;
    apply();
  });

  ui.article.addEventListener("focusin", (e) => {
    if (e.target.classList.contains("sentence")) describe(e.target);
  });
  // mousemove, not mouseover: scrolling under a resting pointer fires mouseover, and the
  // panel must then keep showing the sentence the keyboard moved to
  let pointer = "";
  ui.article.addEventListener("mousemove", (e) => {
    const where = `${e.clientX},${e.clientY}`;
    if (where === pointer) return;
    pointer = where;
    const span = e.target.closest(".sentence");
    if (span && span !== state.described && !span.classList.contains("muted") && !engaged()) {
      describe(span);
    }
  });
  ui.article.addEventListener("mouseleave", () => {
    if (engaged()) return;
    const focused = document.activeElement;
    if (focused && focused.classList.contains("sentence")) describe(focused);
  });
  ui.article.addEventListener("keydown", (e) => {
    if (!e.target.classList.contains("sentence") || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "Enter") {
      describe(e.target);
      ui.fixLabel.focus();
      e.preventDefault();
    } else if (moveFocus(e.target, e.key)) {
      e.preventDefault();
    }
  });
  ui.panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.described) {
      e.preventDefault();
      state.described.focus();
    }
  });
  window.addEventListener("resize", () => {
    if (state.described) place(state.described);
  });
  ui.sources.addEventListener("click", (e) => {
    const go = e.target.closest("button.goto");
    if (go) ui.article.querySelector(`.sentence[data-index="${go.dataset.index}"]`).focus();
  });

  ui.fixFact.before(...KINDS.map(spanEditor));
  ui.correct.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-kind]");
    if (button) editSpan(button.dataset.kind, button.id.startsWith("mark-"));
  });
  // the panel's copy of the sentence is for selecting only. Not `readonly`: Chromium then
  // moves no caret with the arrow keys, and Shift+arrows select nothing. Edits are refused
  // instead, and one that cannot be refused (an IME's composition) is undone.
  ui.fixText.addEventListener("beforeinput", (e) => e.preventDefault());
  ui.fixText.addEventListener("input", () => {
    if (state.described) ui.fixText.value = sentenceOf(state.described).text;
  });
  ui.fixLabel.addEventListener("change", () => {
    const s = sentenceOf(state.described);
    const d = draftOf(s);
    Object.assign(d, { label: ui.fixLabel.value, dirty: true, saved: "" });
    showSpans(s, d);
  });
  ui.fixNote.addEventListener("input", () => {
    Object.assign(draftOf(sentenceOf(state.described)), { note: ui.fixNote.value, dirty: true });
  });
  ui.correct.addEventListener("submit", (e) => {
    e.preventDefault();
    sendCorrection();
  });

  ui.jsonl.addEventListener("click", () => {
    const body = rows().map((r) => JSON.stringify(r)).join("\n") + "\n";
    download(body, "application/x-ndjson", "jsonl");
  });
  ui.csv.addEventListener("click", () => download(toCsv(), "text/csv", "csv"));

  setKey(getKey());
  loadModel();
})();
