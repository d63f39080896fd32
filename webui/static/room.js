// The room: renders the snapshot and the events of the WebSocket protocol (docs/api.md), and
// sends every action as a request on the same socket. All text goes in through textContent.
"use strict";
(function () {
  const sid = document.body.dataset.session;
  const $ = (id) => document.getElementById(id);
  const state = { snap: null, viewId: "", prefill: "", ws: null, seq: 0, pending: new Map(), retry: 0, closed: false };

  // h builds an element: h("li", {class: "x", onclick: f}, "text", child).
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

  function toast(msg, kind) {
    const t = h("div", { class: "toast " + (kind || ""), role: kind === "error" ? "alert" : "status" }, msg);
    $("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 7000 : 4000);
  }

  async function http(method, path, body) {
    const res = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined, credentials: "same-origin" });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw Object.assign(new Error(data && data.error ? data.error.message : res.statusText), { status: res.status });
    return data;
  }

  // call sends a request on the socket and resolves with the ack's result.
  function call(type, fields) {
    return new Promise((resolve, reject) => {
      if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { reject(new Error("not connected; reconnecting…")); return; }
      const id = String(++state.seq);
      state.pending.set(id, { resolve, reject });
      state.ws.send(JSON.stringify(Object.assign({ id, type }, fields)));
    });
  }
  const act = (type, fields) => call(type, fields).catch((e) => { toast(e.message, "error"); throw e; });

  // Hooks for the room's other scripts (trackers.js): the state, the request helpers, and
  // handlers for events room.js does not know ("import") and for every render.
  const hooks = window.Pokor = { sid, state, call, http, toast, render: () => render(), currentId: () => currentId(), onEvent: [], onRender: [] };

  // ---- connection ----
  async function start() {
    try {
      state.snap = await http("GET", "/api/v1/sessions/" + sid);
    } catch (e) {
      if (e.status === 403) { showJoin(); return; }
      toast(e.message, "error");
      return;
    }
    connect();
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/s/" + sid + "/ws");
    state.ws = ws;
    setConn("connecting…", "");
    ws.onopen = () => { state.retry = 0; setConn("live", "ok"); };
    ws.onmessage = (m) => { let ev; try { ev = JSON.parse(m.data); } catch { return; } onEvent(ev); };
    ws.onclose = (ev) => {
      for (const p of state.pending.values()) p.reject(new Error("connection lost; try again"));
      state.pending.clear();
      if (state.ws === ws && closedForGood(ev)) return;
      if (state.ws !== ws || state.closed) return;
      setConn("reconnecting…", "bad");
      const delay = Math.min(10000, 500 * 2 ** state.retry++) + Math.random() * 500;
      setTimeout(connect, delay);
    };
  }
  function reconnectSoon() {
    const old = state.ws; state.ws = null;
    if (old) old.close();
    setTimeout(connect, 300 + Math.random() * 1200);
  }
  // closedForGood handles the close codes after which reconnecting is pointless (docs/api.md):
  // 4403, no longer in the session, with the reason the server gave.
  function closedForGood(ev) {
    if (ev.code !== 4403) return false;
    state.closed = true;
    setConn("disconnected", "bad");
    const why = ev.reason || "Ask an organizer if this is a mistake.";
    if ($("ended").hidden) showEnded("You are no longer in this session", why); else $("ended-text").textContent = why;
    return true;
  }
  function setConn(text, cls) { const c = $("conn"); c.textContent = text; c.className = "conn " + cls; }

  // ---- events ----
  const byId = (list, id) => list.find((x) => x.id === id);
  function upsert(list, item) { const i = list.findIndex((x) => x.id === item.id); if (i >= 0) list[i] = Object.assign({}, list[i], item); else list.push(item); }

  function onEvent(ev) {
    const s = state.snap, d = ev.data;
    switch (ev.type) {
      case "snapshot": state.snap = d; break;
      case "ack": case "error": {
        const p = state.pending.get(d.id); state.pending.delete(d.id);
        if (ev.type === "ack") { if (p) p.resolve(d.result); } else if (p) p.reject(new Error(d.message)); else toast(d.message, "error");
        return;
      }
      case "session": s.session = d; break;
      case "participant":
        upsert(s.participants, d);
        if (d.id === s.me.id) {
          // Our own role or status changed: the server sends a fresh snapshot for the new role.
          if (d.role !== s.me.role || d.status !== s.me.status) s.me = Object.assign(s.me, d);
          s.me.name = d.name;
        }
        break;
      case "participant_removed": s.participants = s.participants.filter((p) => p.id !== d.id); break;
      case "presence": { const p = byId(s.participants, d.id); if (p) p.connected = d.connected; break; }
      case "story": case "round": case "revealed": case "accepted": {
        const before = byId(s.stories, d.id);
        if (before && (ev.type === "round" || d.round !== before.round)) delete s.my_votes[d.id];
        if (ev.type === "accepted" || ev.type === "story") { if (before) { d.voters = d.voters || before.voters; if (d.round_state === before.round_state && d.round === before.round) { d.votes = d.votes || before.votes; d.stats = d.stats || before.stats; } } }
        if (ev.type === "round") { d.votes = undefined; d.stats = undefined; }
        upsert(s.stories, d);
        if (ev.type === "revealed" && d.id === currentId()) $("results").scrollIntoView({ behavior: "smooth", block: "nearest" });
        break;
      }
      case "story_removed": s.stories = s.stories.filter((x) => x.id !== d.id); delete s.my_votes[d.id]; break;
      case "stories_order": s.stories.sort((a, b) => d.ids.indexOf(a.id) - d.ids.indexOf(b.id)); break;
      case "voted": {
        const st = byId(s.stories, d.story_id);
        if (st && st.round === d.round) {
          st.voters = (st.voters || []).filter((x) => x !== d.participant_id);
          if (d.voted) st.voters.push(d.participant_id);
        }
        break;
      }
      case "emoji": flyEmoji(d); return;
      case "admission":
        if (d.admitted) return; // the snapshot of the room follows
        state.closed = true; // the server closes the socket (4403) with the reason
        if (d.removed) showEnded("You were removed from this session", "Ask the organizer if this is a mistake.");
        else if (d.reason === "expired") showEnded("Nobody answered your request to join in time", "Open the room link again to ask once more.");
        else if (d.reason === "closed") showEnded("The session ended before you were admitted", "Ask the organizer for the next one.");
        else showEnded("An organizer did not admit you", "Ask the organizer if this is a mistake.");
        return;
      case "notice": toast(d.message, d.level || ""); return;
      case "closed": s.session = d; break;
      case "reconnect": setConn("server restarting…", "bad"); reconnectSoon(); return;
      default: for (const f of hooks.onEvent) f(ev); return;
    }
    render();
  }

  // ---- rendering ----
  const isOrg = () => state.snap.me.role === "organizer";
  const currentId = () => (state.snap.session.settings.async && state.viewId && byId(state.snap.stories, state.viewId)) ? state.viewId : state.snap.session.current_story_id;
  const nameOf = (id) => { const p = byId(state.snap.participants, id); return p ? p.name : "someone"; };

  function render() {
    const s = state.snap;
    document.title = s.session.title + " · Pokor";
    $("title").textContent = s.session.title;
    $("join").hidden = true;
    $("bar-actions").hidden = false;
    if (s.me.status === "pending") { $("waiting").hidden = false; $("room").hidden = true; return; }
    $("waiting").hidden = true;
    if (s.session.closed_at) showEnded("This session has ended", "The estimates are kept; you can still export them from the menu.");
    $("room").hidden = false;
    for (const el of document.querySelectorAll(".org-only")) el.hidden = !isOrg() || !!s.session.closed_at;
    $("open-settings").hidden = !isOrg();
    renderStories(); renderCurrent(); renderPeople();
    for (const f of hooks.onRender) f();
  }

  function renderStories() {
    const s = state.snap, list = $("stories"), cur = currentId();
    const done = s.stories.filter((x) => x.status === "estimated").length;
    $("story-count").textContent = s.stories.length ? `${done}/${s.stories.length}` : "";
    list.replaceChildren(...s.stories.map((st, i) => {
      const tools = isOrg() && !s.session.closed_at ? h("span", { class: "tools" },
        h("button", { type: "button", title: "Move up", "aria-label": "Move up", disabled: i === 0, onclick: () => move(i, -1) }, "↑"),
        h("button", { type: "button", title: "Move down", "aria-label": "Move down", disabled: i === s.stories.length - 1, onclick: () => move(i, 1) }, "↓"),
        h("button", { type: "button", title: "Edit", "aria-label": "Edit story", onclick: () => editStory(st) }, "✎"),
        h("button", { type: "button", title: "Remove", "aria-label": "Remove story", onclick: () => { if (confirm("Remove “" + st.title + "” and its votes?")) act("remove_story", { story_id: st.id }); } }, "✕")) : null;
      const sync = st.sync_state ? h("span", { class: "sync " + st.sync_state, title: st.sync_error || st.sync_state }, { pending: "⟳", synced: "✓", failed: "⚠" }[st.sync_state]) : null;
      return h("li", { class: "story" + (st.id === cur ? " current" : "") },
        h("button", { type: "button", class: "st-title", onclick: () => pick(st) }, st.title),
        sync, st.estimate || !st.imported_estimate ? h("span", { class: "est", title: "estimate" }, st.estimate || "")
          : h("span", { class: "est muted", title: "imported estimate, not accepted" }, "(" + st.imported_estimate + ")"), tools);
    }));
  }

  function pick(st) {
    const s = state.snap;
    if (s.session.settings.async) { state.viewId = st.id; render(); return; }
    if (isOrg() && st.id !== s.session.current_story_id) act("select_story", { story_id: st.id });
  }
  function move(i, delta) {
    const ids = state.snap.stories.map((x) => x.id);
    [ids[i], ids[i + delta]] = [ids[i + delta], ids[i]];
    act("reorder", { data: { ids } });
  }
  function editStory(st) {
    const title = prompt("Story title", st.title);
    if (title === null) return;
    const description = prompt("Description (optional)", st.description || "");
    if (description === null) return;
    const url = prompt("Link (optional)", st.url || "");
    if (url === null) return;
    act("update_story", { story_id: st.id, data: { title, description, url } });
  }

  function renderCurrent() {
    const s = state.snap, st = byId(s.stories, currentId());
    $("no-story").hidden = !!st; $("current").hidden = !st;
    if (!st) { $("no-story-text").textContent = isOrg() ? "Add a story on the left to start estimating." : "Waiting for the organizer to add a story."; return; }
    $("story-title").textContent = st.title;
    $("story-round").textContent = `round ${st.round} · ${st.status === "estimated" ? "estimated " + st.estimate : st.round_state}`;
    $("story-desc").textContent = st.description || "";
    const link = $("story-link"); link.hidden = !st.url; if (st.url) link.href = st.url;
    const voting = st.round_state === "voting" && st.status === "open" && !s.session.closed_at;
    const canVote = s.me.role !== "spectator" && voting;
    $("vote-area").hidden = !canVote;
    const mine = s.my_votes[st.id];
    $("cards").replaceChildren(...s.session.deck.cards.map((c, i) => h("button", {
      type: "button", class: "card" + (mine && mine.card === c ? " selected" : ""), "aria-pressed": mine && mine.card === c ? "true" : "false",
      "data-card": c, onclick: () => vote(c),
    }, i < 10 ? h("span", { class: "key" }, String((i + 1) % 10)) : null, c)));
    if (document.activeElement !== $("rationale")) $("rationale").value = mine ? mine.rationale || "" : $("rationale").value;
    if (document.activeElement !== $("confidence") && mine) $("confidence").value = mine.confidence || "";
    $("reveal").hidden = !voting; $("reveal").disabled = !(st.voters || []).length;
    $("revote").hidden = voting;
    $("accept").hidden = st.round_state !== "revealed";
    const key = st.id + ":" + st.round + ":" + st.round_state;
    if (st.stats && state.prefill !== key) { $("accept-value").value = st.stats.suggestion || ""; state.prefill = key; }
    renderResults(st);
    if ($("history-box").open) loadHistory();
  }

  function renderResults(st) {
    const box = $("results");
    box.hidden = st.round_state !== "revealed" || !st.stats;
    if (box.hidden) return;
    const x = st.stats;
    const rows = [["Votes", x.votes], ["Average", x.average ?? "—"], ["Median", x.median_card || "—"],
      ["Most common", x.mode.length ? x.mode.join(", ") : "—"], ["Consensus", x.consensus ? "yes 🎉" : "no"],
      ["Spread", x.min ? `${x.min} – ${x.max} (${x.spread})` : "—"]];
    $("stats").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
    $("chart").replaceChildren(...chart(x.distribution));
    $("votes").replaceChildren(...(st.votes || []).map((v) => h("li", null,
      h("span", { class: "v-card" }, v.card), h("span", null, v.participant_id ? nameOf(v.participant_id) : "anonymous"),
      v.confidence ? h("span", { class: "v-conf" }, v.confidence + " confidence") : null,
      v.rationale ? h("span", { class: "v-why" }, "“" + v.rationale + "”") : null)));
  }

  function chart(dist) {
    const max = Math.max(1, ...dist.map((b) => b.count));
    return dist.map((b) => {
      const fill = h("div", { class: "fill" });
      fill.style.width = (100 * b.count / max) + "%";
      return h("div", { class: "row", title: `${b.count} × ${b.card}` }, h("span", { class: "label" }, b.card), h("div", { class: "track" }, fill), h("span", null, b.count));
    });
  }

  async function loadHistory() {
    const st = byId(state.snap.stories, currentId());
    if (!st) return;
    try {
      const rounds = await call("history", { story_id: st.id });
      $("history").replaceChildren(...rounds.map((r) => h("div", { class: "history-round" },
        h("strong", null, `Round ${r.number}: `), r.state === "revealed" ? (r.votes || []).map((v) => `${v.participant_id ? nameOf(v.participant_id) : "anonymous"} ${v.card}`).join(", ") || "no votes" : `voting (${r.voters.length} voted)`)));
    } catch (e) { /* shown on the next render */ }
  }

  function renderPeople() {
    const s = state.snap, st = byId(s.stories, currentId()), voters = new Set(st ? st.voters || [] : []);
    const active = s.participants.filter((p) => p.status === "active");
    $("people-count").textContent = `${active.filter((p) => p.connected).length}/${active.length} online`;
    $("people").replaceChildren(...s.participants.map((p) => {
      const me = p.id === s.me.id;
      const tools = [];
      if (p.status === "pending" && isOrg()) {
        tools.push(h("button", { type: "button", onclick: () => act("admit", { participant_id: p.id, data: { admit: true } }) }, "Admit"),
          h("button", { type: "button", onclick: () => act("admit", { participant_id: p.id, data: { admit: false } }) }, "Deny"));
      } else if (!s.session.closed_at) {
        tools.push(h("button", { type: "button", title: "Throw an emoji", "aria-label": "Throw an emoji at " + p.name, onclick: (e) => openPicker(e, p) }, "👍"));
        if (isOrg() || me) {
          const roles = isOrg() ? ["organizer", "voter", "spectator"] : ["voter", "spectator"];
          if (roles.includes(p.role)) tools.push(h("select", { "aria-label": "Role of " + p.name, onchange: (e) => act("update_participant", { participant_id: p.id, data: { role: e.target.value } }).catch(() => render()) },
            ...roles.map((r) => h("option", { value: r, selected: r === p.role }, r))));
          tools.push(h("button", { type: "button", title: "Rename", "aria-label": "Rename " + p.name, onclick: () => { const n = prompt("Name", p.name); if (n) act("update_participant", { participant_id: p.id, data: { name: n } }); } }, "✎"));
          if (isOrg() && !me) tools.push(h("button", { type: "button", title: "Remove", "aria-label": "Remove " + p.name, onclick: () => { if (confirm("Remove " + p.name + "?")) act("remove_participant", { participant_id: p.id }); } }, "✕"));
        }
      }
      return h("li", { class: "person" + (me ? " me" : "") + (p.status === "pending" ? " pending" : ""), "data-id": p.id },
        h("span", { class: "dot" + (p.connected ? " on" : ""), title: p.connected ? "connected" : "not connected" }),
        h("span", { class: "p-name" }, p.name + (me ? " (you)" : "")),
        h("span", { class: "p-role" }, p.status === "pending" ? "waiting" : p.role),
        voters.has(p.id) ? h("span", { class: "p-voted", title: "has voted" }, "✓") : null,
        h("span", { class: "p-tools" }, ...tools));
    }));
  }

  // ---- actions ----
  async function vote(card) {
    const s = state.snap, st = byId(s.stories, currentId());
    if (!st) return;
    const mine = s.my_votes[st.id];
    if (mine && mine.card === card) { await act("retract", { story_id: st.id }); delete s.my_votes[st.id]; render(); return; }
    const v = await act("vote", { story_id: st.id, data: { card, confidence: $("confidence").value, rationale: $("rationale").value } });
    s.my_votes[st.id] = v; render();
  }
  function revote() { const st = byId(state.snap.stories, currentId()); if (st) act("revote", { story_id: st.id }); }
  for (const id of ["confidence", "rationale"]) $(id).addEventListener("change", () => {
    const st = byId(state.snap.stories, currentId()), mine = st && state.snap.my_votes[st.id];
    if (mine) vote(mine.card === undefined ? "" : mine.card).catch(() => {});
  });
  // Re-sending the same card would withdraw it, so extra fields go through a direct vote call.
  vote.withExtras = null;
  $("reveal").addEventListener("click", () => { const st = byId(state.snap.stories, currentId()); if (st) act("reveal", { story_id: st.id }); });
  $("revote").addEventListener("click", revote);
  $("accept").addEventListener("submit", (e) => {
    e.preventDefault();
    const st = byId(state.snap.stories, currentId());
    if (st) act("accept", { story_id: st.id, data: { value: $("accept-value").value } }).then(() => { state.viewId = ""; });
  });
  $("add-story").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target;
    act("add_stories", { data: { title: f.title.value, description: f.description.value, url: f.url.value } }).then(() => f.reset());
  });
  $("history-box").addEventListener("toggle", () => { if ($("history-box").open) loadHistory(); });
  $("copy-link").addEventListener("click", async () => {
    const url = location.origin + "/s/" + sid;
    try { await navigator.clipboard.writeText(url); toast("Room link copied: " + url); } catch { prompt("Share this link", url); }
  });

  // Settings dialog (organizers).
  $("open-settings").addEventListener("click", () => {
    const f = $("settings-form"), s = state.snap.session;
    f.title.value = s.title;
    for (const k of ["auto_reveal", "allow_spectators", "require_approval", "async", "anonymous"]) f[k].checked = !!s.settings[k];
    f.reveal.value = s.settings.reveal || "organizers";
    $("settings-error").hidden = true;
    $("settings").showModal();
  });
  $("settings-cancel").addEventListener("click", () => $("settings").close());
  $("settings-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target, settings = {};
    for (const k of ["auto_reveal", "allow_spectators", "require_approval", "async", "anonymous"]) settings[k] = f[k].checked;
    settings.reveal = f.reveal.value;
    try { await call("update_session", { data: { title: f.title.value, settings } }); $("settings").close(); }
    catch (err) { $("settings-error").textContent = err.message; $("settings-error").hidden = false; }
  });
  $("end-session").addEventListener("click", () => { if (confirm("End this session for everyone? Estimates are kept and can be exported.")) act("close_session").then(() => $("settings").close()); });

  // Emoji picker.
  let target = null;
  function openPicker(e, p) {
    target = p;
    const picker = $("emoji-picker"), r = e.target.getBoundingClientRect();
    picker.style.left = Math.max(8, r.left + scrollX - 180) + "px"; picker.style.top = (r.bottom + scrollY + 4) + "px";
    picker.hidden = false;
    picker.querySelector("button").focus();
    e.stopPropagation();
  }
  $("emoji-picker").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-emoji]");
    if (b && target) act("throw", { participant_id: target.id, data: { emoji: b.dataset.emoji } });
    $("emoji-picker").hidden = true;
  });
  document.addEventListener("click", () => { $("emoji-picker").hidden = true; });
  function flyEmoji(d) {
    const li = document.querySelector(`.person[data-id="${CSS.escape(d.to)}"]`);
    if (!li) return;
    const e = h("span", { class: "flying", "aria-hidden": "true" }, d.emoji);
    li.append(e); setTimeout(() => e.remove(), 1700);
    if (d.to === state.snap.me.id) toast(`${nameOf(d.from)} threw ${d.emoji} at you`);
  }

  // Keyboard: the number keys vote (1 is the first card, 0 the tenth), "?" votes "?",
  // Backspace withdraws. Typing in a field is left alone.
  document.addEventListener("keydown", (e) => {
    if (!state.snap || e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select, dialog")) return;
    const cards = state.snap.session.deck.cards, st = byId(state.snap.stories, currentId());
    if (!st || $("vote-area").hidden) return;
    let card = null;
    if (/^[0-9]$/.test(e.key)) card = cards[(Number(e.key) + 9) % 10];
    else if (e.key === "?" && cards.includes("?")) card = "?";
    else if (e.key === "Backspace" && state.snap.my_votes[st.id]) { e.preventDefault(); act("retract", { story_id: st.id }).then(() => { delete state.snap.my_votes[st.id]; render(); }); return; }
    if (card) { e.preventDefault(); const mine = state.snap.my_votes[st.id]; if (!mine || mine.card !== card) vote(card); }
  });

  // ---- join / ended ----
  async function showJoin() {
    $("join").hidden = false;
    $("join-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = e.target;
      $("join-error").hidden = true;
      try {
        await http("POST", "/api/v1/sessions/" + sid + "/participants", { name: f.name.value, role: f.role.value });
        start();
      } catch (err) { $("join-error").textContent = err.message; $("join-error").hidden = false; }
    }, { once: false });
  }
  function showEnded(title, text) { $("ended-title").textContent = title; $("ended-text").textContent = text; $("ended").hidden = false; }

  start();
})();
