// Trackers in the room: the import dialog (preview, import all or some, CSV upload, progress from
// "import" events), the session's connections to the trackers (as their descriptors describe
// them), the imported estimate and the write-back
// state of the current story with its "Retry sync" button. It talks to the JSON API (docs/api.md)
// and hooks into room.js through window.Pokor. All text goes in through textContent. Its own texts
// are the page's catalog (trackers.*) through window.PokorI18n (static/i18n.js, which room.js
// leaves alone); what the server words stays as sent: the descriptors' help and labels, the
// JSON API's error messages, the reason of a failed write-back, the facts of a connection check.
"use strict";
(function () {
  const P = window.Pokor, L = window.PokorI18n;
  if (!P || !L) return;
  const $ = (id) => document.getElementById(id);
  const api = (path) => "/api/v1/sessions/" + P.sid + path;

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  const show = (el, on) => { el.hidden = !on; };
  function error(id, msg) { const el = $(id); el.textContent = msg || ""; show(el, !!msg); }
  // withNodes is the text of key with nodes put where its {placeholders} stand.
  function withNodes(key, params, nodes) {
    return L.t(key, params).split(/(\{\w+\})/).map((part) => {
      const m = /^\{(\w+)\}$/.exec(part);
      return m && m[1] in nodes ? nodes[m[1]] : part;
    }).filter((part) => part !== "");
  }

  // What each tracker takes comes from the server: the trackers' descriptors (GET
  // /api/v1/trackers), rendered into the dialog's data-trackers. Each has its query grammar (the
  // same as after "/pokor Sprint 42 from …"), the credentials of a connection (never filled from
  // the server), its write-back options, or a file format (CSV).
  const list = JSON.parse($("import").dataset.trackers || "[]");
  const trackers = Object.fromEntries(list.map((t) => [t.name, t]));
  const labelOf = (name) => (trackers[name] && trackers[name].label) || name;
  // A descriptor's words in the page's language: the catalog's trackers.<name>.<path> (en.json
  // holds each descriptor's own English, which a test in cmd/pokor keeps equal), or the
  // descriptor's text for a tracker the catalogs do not know yet.
  function said(name, path, text) {
    const key = "trackers." + name + "." + path, v = L.t(key);
    return v === key ? text : v;
  }
  for (const o of $("import-source").options) o.textContent = said(o.value, "items", o.textContent);

  const ui = { source: list.length ? list[0].name : "", page: null, importing: null, connections: [] };
  const isOrg = () => P.state.snap && P.state.snap.me.role === "organizer" && !P.state.snap.session.closed_at;

  // ---- dialog ----
  $("open-import").addEventListener("click", async () => {
    error("import-error", "");
    $("import").showModal();
    selectSource($("import-source").value);
    loadConnections();
  });
  $("import-close").addEventListener("click", () => $("import").close());
  $("import-form").addEventListener("submit", (e) => e.preventDefault());
  $("import-source").addEventListener("change", (e) => selectSource(e.target.value));
  $("import-query").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); preview(); } });

  // queryable reports a tracker imported by query, with a connection; the others take a file.
  const queryable = (t) => t && !t.file;

  function selectSource(source) {
    ui.source = source;
    const t = trackers[source];
    show($("import-query-box"), queryable(t));
    show($("import-csv-box"), !!(t && t.file));
    show($("connection-box"), queryable(t));
    show($("import-preview-box"), false);
    error("import-error", "");
    if (!t) return;
    if (t.file) {
      $("import-file").accept = t.file.accept;
      $("import-file-help").textContent = said(t.name, "file.help", t.file.help);
      return;
    }
    $("import-query").placeholder = t.query.example;
    $("import-help").textContent = said(t.name, "query.help", t.query.help);
    $("connection-name").textContent = L.t("trackers.connection", { tracker: t.label });
    $("connection-target").placeholder = L.t("trackers.connection.target_placeholder", { target: t.check.target });
    renderConnection();
  }

  // ---- preview and import ----
  async function preview() {
    error("import-error", "");
    const query = $("import-query").value.trim();
    if (!query) { error("import-error", L.t("trackers.query.missing", { example: trackers[ui.source].query.example })); return; }
    $("import-preview").disabled = true;
    show($("import-progress"), false);
    try {
      ui.page = await P.http("POST", api("/import/preview"), { source: ui.source, query });
      renderPreview();
    } catch (e) {
      show($("import-preview-box"), false);
      error("import-error", e.message);
    } finally { $("import-preview").disabled = false; }
  }
  $("import-preview").addEventListener("click", preview);

  function renderPreview() {
    const page = ui.page, n = page.stories.length;
    let count;
    if (n === 0) count = L.t("trackers.preview.none");
    else if (page.total > n) count = L.plural("trackers.preview.more", page.total, { shown: L.number(n) });
    else if (page.total >= 0) count = L.plural("trackers.preview.count", page.total);
    else count = page.next ? L.plural("trackers.preview.first_page", n) : L.plural("trackers.preview.count", n);
    $("import-count").textContent = count;
    $("import-list").replaceChildren(...page.stories.map((st, i) => h("li", null,
      h("label", { class: "choice" }, h("input", { type: "checkbox", checked: true, "data-i": String(i) }),
        h("span", { class: "key" }, st.key), " ", h("span", null, st.title),
        st.estimate ? h("span", { class: "muted small" }, " " + L.t("trackers.preview.estimate", { tracker: labelOf(ui.source), estimate: st.estimate })) : null))));
    $("import-check-all").checked = true;
    show($("import-check-all").parentElement, n > 1);
    show($("import-some"), n > 0);
    show($("import-preview-box"), true);
  }
  $("import-check-all").addEventListener("change", (e) => {
    for (const box of $("import-list").querySelectorAll("input[type=checkbox]")) box.checked = e.target.checked;
  });

  $("import-all").addEventListener("click", async () => {
    error("import-error", "");
    const query = $("import-query").value.trim();
    if (!query) { error("import-error", L.t("trackers.query.missing", { example: trackers[ui.source].query.example })); return; }
    progress({ state: "running", done: 0, total: -1, message: L.t("trackers.import.starting", { tracker: labelOf(ui.source) }) });
    try { await P.http("POST", api("/import"), { source: ui.source, query }); }
    catch (e) { show($("import-progress"), false); error("import-error", e.message); }
  });

  // Importing some: the selected preview items are added as stories with their source and key,
  // which updates the stories imported before. Small batches keep each request well under 1 MiB.
  $("import-some").addEventListener("click", async () => {
    error("import-error", "");
    const picked = [...$("import-list").querySelectorAll("input[type=checkbox]:checked")].map((b) => ui.page.stories[Number(b.dataset.i)]);
    if (!picked.length) { error("import-error", L.t("trackers.select_one")); return; }
    const stories = picked.map((st) => ({ title: st.title, description: st.description || "", url: st.url || "", source: ui.source, key: st.key,
      estimate: st.estimate || "", target: st.target }));
    $("import-some").disabled = true;
    try {
      for (let i = 0; i < stories.length; i += 25) {
        progress({ state: "running", done: i, total: stories.length });
        await P.http("POST", api("/stories"), { stories: stories.slice(i, i + 25) });
      }
      progress({ state: "done", done: stories.length, total: stories.length, message: L.plural("trackers.import.some", stories.length, { tracker: labelOf(ui.source) }) });
    } catch (e) { error("import-error", e.message); show($("import-progress"), false); }
    finally { $("import-some").disabled = false; }
  });

  // CSV: the file is read in the browser and sent as JSON, as every API body is.
  $("import-file-go").addEventListener("click", () => {
    error("import-error", "");
    const file = $("import-file").files[0];
    if (!file) { error("import-error", L.t("trackers.csv.missing")); return; }
    if (file.size > 900 * 1024) { error("import-error", L.t("trackers.csv.too_large", { size: L.number(900) + " KB" })); return; }
    const reader = new FileReader();
    reader.onerror = () => error("import-error", L.t("trackers.csv.unreadable"));
    reader.onload = async () => {
      progress({ state: "running", done: 0, total: -1, message: L.t("trackers.csv.importing", { file: file.name }) });
      try {
        const res = await P.http("POST", api("/import/csv"), { csv: reader.result });
        progress({ state: "done", done: res.added + res.updated, total: res.added + res.updated, message: doneText(file.name, res.added, res.updated) });
        $("import-file").value = "";
      } catch (e) { show($("import-progress"), false); error("import-error", e.message); }
    };
    reader.readAsText(file);
  });

  // progress shows an import's state; "import" events from the server feed it while it runs.
  function progress(p) {
    show($("import-progress"), true);
    const bar = $("import-bar");
    if (p.state === "running" && !(p.total > 0)) bar.removeAttribute("value");
    else { bar.max = Math.max(1, p.total > 0 ? p.total : p.done); bar.value = p.state === "running" ? p.done : bar.max; }
    const status = $("import-status");
    status.className = p.state === "failed" ? "error" : "";
    status.textContent = p.message || (p.total > 0 ? L.t("trackers.progress.of", { done: L.number(p.done), total: L.number(p.total) }) : L.t("trackers.progress", { done: L.number(p.done) }));
  }
  // doneText says what an import added and updated, from a tracker or a file.
  const doneText = (source, added, updated) => L.t("trackers.import.done", { source,
    added: L.plural("trackers.import.added", added), updated: L.plural("trackers.import.updated", updated) });
  // An import event's text is composed here in the page's language; a failure's is the server's.
  function eventText(d) {
    if (d.state === "done" && !d.done) return L.t("trackers.import.none", { tracker: labelOf(d.source) });
    if (d.state === "done") return doneText(labelOf(d.source), d.added == null ? d.done : d.added, d.updated || 0);
    if (d.state === "failed") return d.message || L.t("trackers.import.failed");
    return "";
  }
  P.onEvent.push((ev) => {
    if (ev.type !== "import") return;
    const d = Object.assign({}, ev.data, { message: eventText(ev.data) });
    progress(d);
    if (d.state !== "running" && !$("import").open) P.toast(d.message, d.state === "failed" ? "error" : "");
  });

  // ---- connections ----
  async function loadConnections() {
    try { ui.connections = await P.http("GET", api("/connections")) || []; } catch (e) { ui.connections = []; }
    renderConnection();
  }
  const connectionOf = (tracker) => ui.connections.find((c) => c.tracker === tracker);

  function renderConnection() {
    const t = trackers[ui.source];
    if (!queryable(t)) return;
    const c = connectionOf(ui.source), opts = (c && c.options) || {}, have = new Set((c && c.fields) || []);
    $("connection-state").textContent = !c ? L.t("trackers.connection.defaults")
      : have.size ? L.t("trackers.connection.set", { fields: [...have].join(", ") }) : L.t("trackers.connection.options_only");
    const rows = t.credentials.map((f) => h("label", null, said(t.name, "credential." + f.key, f.label),
      h("input", { name: "cred-" + f.key, "data-cred": f.key, type: f.type, autocomplete: "off", spellcheck: "false",
        placeholder: have.has(f.key) ? L.t("trackers.connection.saved_field") : (f.placeholder || "") })));
    for (const opt of t.options) {
      const p = "option." + opt.key;
      const o = Object.assign({}, opt, { label: said(t.name, p, opt.label), help: opt.help && said(t.name, p + ".help", opt.help),
        choices: opt.choices && opt.choices.map((c) => ({ value: c.value, label: said(t.name, p + ".choice." + c.value, c.label) })) });
      if (o.checkbox) {
        rows.push(h("label", { class: "choice", title: o.help }, h("input", { type: "checkbox", "data-opt": o.key, checked: opts[o.key] === "true" }), o.label));
      } else if (o.choices) {
        rows.push(h("label", { title: o.help }, o.label, h("select", { "data-opt": o.key },
          ...o.choices.map((c) => h("option", { value: c.value, selected: (opts[o.key] || o.choices[0].value) === c.value }, c.label)))));
      } else {
        const input = h("input", { "data-opt": o.key, autocomplete: "off", placeholder: o.placeholder || "", title: o.help });
        input.value = opts[o.key] || "";
        rows.push(h("label", { title: o.help }, o.label, input, h("span", { class: "small muted" }, o.help)));
      }
    }
    $("connection-fields").replaceChildren(...rows);
    show($("connection-remove"), !!c);
    $("connection-facts").replaceChildren();
    error("connection-error", "");
  }

  function connectionInput() {
    const credentials = {}, options = {};
    for (const el of $("connection-fields").querySelectorAll("[data-cred]")) if (el.value.trim()) credentials[el.dataset.cred] = el.value.trim();
    for (const el of $("connection-fields").querySelectorAll("[data-opt]")) {
      const v = el.type === "checkbox" ? (el.checked ? "true" : "") : el.value.trim();
      if (v) options[el.dataset.opt] = v;
    }
    return { credentials, options };
  }
  function clearSecrets() { for (const el of $("connection-fields").querySelectorAll("[data-cred]")) el.value = ""; }

  $("connection-save").addEventListener("click", async () => {
    error("connection-error", "");
    try {
      await P.http("PUT", api("/connections/" + ui.source), connectionInput());
      clearSecrets();
      await loadConnections();
      P.toast(L.t("trackers.connection.saved", { tracker: labelOf(ui.source) }));
    } catch (e) { error("connection-error", e.message); }
  });
  $("connection-remove").addEventListener("click", async () => {
    if (!confirm(L.t("trackers.connection.remove_confirm", { tracker: labelOf(ui.source) }))) return;
    try { await P.http("DELETE", api("/connections/" + ui.source)); await loadConnections(); }
    catch (e) { error("connection-error", e.message); }
  });
  $("connection-test").addEventListener("click", async () => {
    error("connection-error", "");
    const btn = $("connection-test");
    btn.disabled = true;
    $("connection-facts").replaceChildren(h("li", { class: "muted" }, L.t("trackers.connection.testing")));
    try {
      // Unsaved credentials are saved first, so that the test is of what write-back will use.
      const input = connectionInput();
      if (Object.keys(input.credentials).length) { await P.http("PUT", api("/connections/" + ui.source), input); clearSecrets(); await loadConnections(); }
      const check = await P.http("POST", api("/connections/" + ui.source + "/check"), { target: $("connection-target").value.trim() });
      let result = L.t(check.ok ? "trackers.check.ok" : "trackers.check.bad");
      if (check.identity) result = L.t("trackers.check.identity", { result, identity: check.identity });
      if (check.site) result = L.t("trackers.check.site", { result, site: check.site });
      const head = h("li", { class: check.ok ? "ok" : "bad" }, result);
      $("connection-facts").replaceChildren(head, ...(check.facts || []).map((f) =>
        h("li", { class: f.ok ? "ok" : "bad" }, (f.ok ? "✓ " : "✗ ") + f.name + ": " + f.text)));
    } catch (e) { $("connection-facts").replaceChildren(); error("connection-error", e.message); }
    finally { btn.disabled = false; }
  });

  // ---- sync state of the current story ----
  const syncBox = h("div", { id: "sync-status", class: "sync-status", role: "status", hidden: true });
  $("story-link").parentElement.after(syncBox);

  function renderSync() {
    const s = P.state.snap;
    $("open-import").hidden = !isOrg();
    const st = s && s.stories.find((x) => x.id === P.currentId());
    if (st && !st.sync_state && st.imported_estimate && !st.estimate) {
      // What the tracker or file held at import: shown, never written back until the team
      // accepts an estimate of its own.
      syncBox.className = "sync-status imported";
      syncBox.replaceChildren(L.t("trackers.sync.imported", { estimate: st.imported_estimate, tracker: labelOf(st.source || "csv") }));
      show(syncBox, true);
      return;
    }
    if (!st || !st.sync_state) { show(syncBox, false); return; }
    const where = labelOf(st.source) + " " + st.external_key;
    const parts = [];
    // The reason names the tracker already said in the sentence ("github: …"); say it once.
    const reason = (st.sync_error || "").replace(st.source + ": ", "");
    syncBox.className = "sync-status " + st.sync_state;
    if (st.sync_state === "synced") parts.push(L.t("trackers.sync.synced", { where, estimate: st.synced_value || st.estimate }));
    else if (st.sync_state === "pending") {
      parts.push(L.t("trackers.sync.pending", { where }));
      if (reason.startsWith("retrying")) parts.push(h("span", { class: "reason" }, " " + reason));
    } else if (st.sync_state === "failed") {
      parts.push(...withNodes("trackers.sync.failed", { where }, { reason: h("span", { class: "reason" }, reason || L.t("trackers.sync.no_reason")) }));
      if (isOrg()) parts.push(" ", h("button", { type: "button", onclick: (e) => retry(e.target, st) }, L.t("trackers.sync.retry")));
    }
    syncBox.replaceChildren(...parts);
    show(syncBox, true);
  }
  async function retry(btn, st) {
    btn.disabled = true;
    try { await P.http("POST", api("/stories/" + st.id + "/retry-sync")); }
    catch (e) { P.toast(e.message, "error"); btn.disabled = false; }
  }
  P.onRender.push(renderSync);
  if (P.state.snap) renderSync();
})();
