// The room: renders the snapshot and the events of the WebSocket protocol (docs/api.md), and
// sends every action as a request on the same socket. All text goes in through textContent, and
// comes from the page's catalog (L.t, webui/i18n): numbers, dates and plurals in its language.
"use strict";
(function () {
  const sid = document.body.dataset.session, L = window.PokorI18n;
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
    setTimeout(() => t.remove(), kind === "error" || kind === "warning" ? 8000 : 4000);
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
      if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { reject(new Error(L.t("room.conn.not_connected"))); return; }
      const id = String(++state.seq);
      state.pending.set(id, { resolve, reject });
      state.ws.send(JSON.stringify(Object.assign({ id, type }, fields)));
    });
  }
  // act sends a request and shows its failure as a toast. It never rejects, so that no failed
  // action leaves an unhandled rejection behind: it resolves with the result, or with FAILED.
  const FAILED = Symbol("failed");
  const act = (type, fields) => call(type, fields).catch((e) => { toast(e.message, "error"); return FAILED; });
  const ok = (r) => r !== FAILED;

  // Hooks for the room's other scripts (trackers.js): the state, the request helpers, and
  // handlers for events room.js does not know ("import") and for every render.
  const hooks = window.Pokor = { sid, state, call, act, http, toast, render: () => render(), currentId: () => currentId(), onEvent: [], onRender: [] };

  // ---- connection ----
  async function start() {
    if (document.body.dataset.member === "false") { document.body.dataset.member = ""; showJoin(); return; }
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
    setConn(L.t("room.conn.connecting"), "");
    ws.onopen = () => { state.retry = 0; setConn(L.t("room.conn.live"), "ok"); };
    ws.onmessage = (m) => { let ev; try { ev = JSON.parse(m.data); } catch { return; } onEvent(ev); };
    ws.onclose = (ev) => {
      for (const p of state.pending.values()) p.reject(new Error(L.t("room.conn.lost")));
      state.pending.clear();
      if (state.ws === ws && closedForGood(ev)) return;
      if (state.ws !== ws || state.closed) return;
      setConn(L.t("room.conn.reconnecting"), "bad");
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
  // 4403, no longer in the session, with the reason the server gave: in the page's language when
  // it is one of the session package's reasons (closeReasons), else as the server sent it.
  function closedForGood(ev) {
    if (ev.code !== 4403) return false;
    state.closed = true;
    setConn(L.t("room.conn.disconnected"), "bad");
    const why = closeReasons[ev.reason] || ev.reason || L.t("room.ask_mistake");
    if ($("ended").hidden) showEnded(L.t("room.closed.title"), why); else $("ended-text").textContent = why;
    return true;
  }
  // closeReasons are session.ReasonRemoved, ReasonLeft and ReasonGone (session/participants.go),
  // word for word: TestRoomCloseReasons checks that they still are.
  const closeReasons = {
    "An organizer removed you from this session. Ask them if this is a mistake.": L.t("room.closed.removed"),
    "You left this session.": L.t("room.closed.left"),
    "You are no longer in this session.": L.t("room.closed.gone"),
  };
  function setConn(text, cls) { const c = $("conn"); c.textContent = text; c.className = "conn " + cls; }

  // ---- events ----
  const byId = (list, id) => list.find((x) => x.id === id);
  function upsert(list, item) { const i = list.findIndex((x) => x.id === item.id); if (i >= 0) list[i] = Object.assign({}, list[i], item); else list.push(item); }

  function onEvent(ev) {
    const s = state.snap, d = ev.data;
    switch (ev.type) {
      case "snapshot": state.snap = d; if (d.timer) onTimer(d.timer); break;
      case "ack": case "error": {
        const p = state.pending.get(d.id); state.pending.delete(d.id);
        if (ev.type === "ack") { if (p) p.resolve(d.result); } else if (p) p.reject(new Error(d.message)); else toast(d.message, "error");
        return;
      }
      case "session": s.session = d; break;
      case "participant":
        noteJoinRequest(d);
        upsert(s.participants, d);
        if (d.id === s.me.id) {
          // Our own role or status changed: the server sends a fresh snapshot for the new role.
          if (d.role !== s.me.role || d.status !== s.me.status) s.me = Object.assign(s.me, d);
          s.me.name = d.name;
        }
        break;
      case "participant_removed": s.participants = s.participants.filter((p) => p.id !== d.id); dropJoinRequest(d.id); break;
      case "presence": { const p = byId(s.participants, d.id); if (p) p.connected = d.connected; break; }
      case "story": case "round": case "revealed": case "accepted": {
        const before = byId(s.stories, d.id);
        if (before && (ev.type === "round" || d.round !== before.round)) delete s.my_votes[d.id];
        if (ev.type === "accepted" || ev.type === "story") { if (before) { d.voters = d.voters || before.voters; if (d.round_state === before.round_state && d.round === before.round) { d.votes = d.votes || before.votes; d.stats = d.stats || before.stats; } } }
        if (ev.type === "round") { d.votes = undefined; d.stats = undefined; }
        upsert(s.stories, d);
        if (ev.type === "revealed" && d.id === currentId()) $("results").scrollIntoView({ behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth", block: "nearest" });
        break;
      }
      case "story_removed":
        s.stories = s.stories.filter((x) => x.id !== d.id); delete s.my_votes[d.id];
        if (state.editing && state.editing.id === d.id) state.editing = null;
        break;
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
        if (d.removed) showEnded(L.t("room.admission.removed"), L.t("room.ask_mistake"));
        else if (d.reason === "expired") showEnded(L.t("room.admission.expired"), L.t("room.admission.expired_hint"));
        else if (d.reason === "closed") showEnded(L.t("room.admission.closed"), L.t("room.admission.closed_hint"));
        else showEnded(L.t("room.admission.denied"), L.t("room.ask_mistake"));
        return;
      case "notice": toast(d.message, d.level || ""); return;
      case "closed": s.session = d; s.timer = null; break;
      case "timer": onTimer(d); break;
      case "nudge": showNudge(d); return;
      case "reconnect": setConn(L.t("room.conn.restarting"), "bad"); reconnectSoon(); return;
      default: for (const f of hooks.onEvent) f(ev); return;
    }
    render();
  }

  // ---- rendering ----
  const isOrg = () => state.snap.me.role === "organizer";
  const currentId = () => (state.snap.session.settings.async && state.viewId && byId(state.snap.stories, state.viewId)) ? state.viewId : state.snap.session.current_story_id;
  const nameOf = (id) => { const p = byId(state.snap.participants, id); return p ? p.name : L.t("room.someone"); };

  function render() {
    const s = state.snap;
    renderTitle();
    $("title").textContent = s.session.title;
    $("join").hidden = true;
    $("bar-actions").hidden = false;
    const pending = s.me.status === "pending", ended = !!s.session.closed_at;
    // A joiner waiting for approval may not export or share the room: the server would refuse.
    $("export-menu").hidden = pending; $("copy-link").hidden = pending || ended;
    if (pending) { $("waiting").hidden = false; $("room").hidden = true; return; }
    $("waiting").hidden = true;
    if (ended) renderEnded();
    $("room").hidden = false;
    document.body.classList.toggle("session-ended", ended);
    for (const el of document.querySelectorAll(".org-only")) el.hidden = !isOrg() || ended;
    $("open-settings").hidden = !isOrg() || ended;
    renderStories(); renderCurrent(); renderPeople();
    for (const f of hooks.onRender) f();
  }

  function renderStories() {
    const s = state.snap, list = $("stories"), cur = currentId();
    const done = s.stories.filter((x) => x.status === "estimated").length;
    $("story-count").textContent = s.stories.length ? `${L.number(done)}/${L.number(s.stories.length)}` : "";
    renderTotal();
    const async = !!s.session.settings.async;
    $("async-note").hidden = !async || !!s.session.closed_at;
    list.replaceChildren(...s.stories.map((st, i) => {
      if (state.editing && state.editing.id === st.id) return state.editing.node;
      const tools = isOrg() && !s.session.closed_at ? h("span", { class: "tools" },
        h("button", { type: "button", title: L.t("room.story.move_up"), "aria-label": L.t("room.story.move_up"), disabled: i === 0, onclick: () => move(i, -1) }, "↑"),
        h("button", { type: "button", title: L.t("room.story.move_down"), "aria-label": L.t("room.story.move_down"), disabled: i === s.stories.length - 1, onclick: () => move(i, 1) }, "↓"),
        h("button", { type: "button", title: L.t("room.story.edit"), "aria-label": L.t("room.story.edit_label", { title: st.title }), onclick: () => editStory(st) }, "✎"),
        h("button", { type: "button", title: L.t("room.story.remove"), "aria-label": L.t("room.story.remove_label", { title: st.title }), onclick: () => { if (confirm(L.t("room.story.remove_confirm", { title: st.title }))) act("remove_story", { story_id: st.id }); } }, "✕")) : null;
      const sync = st.sync_state ? h("span", { class: "sync " + st.sync_state, title: st.sync_error || syncTitles[st.sync_state] }, { pending: "⟳", synced: "✓", failed: "⚠" }[st.sync_state]) : null;
      return h("li", { class: "story" + (st.id === cur ? " current" : "") + (st.status === "estimated" ? " done" : ""), "data-id": st.id },
        h("button", { type: "button", class: "st-title", onclick: () => pick(st) }, st.title),
        async ? storyProgress(st) : null,
        sync, st.estimate || !st.imported_estimate ? h("span", { class: "est", title: L.t("room.estimate") }, st.estimate || "")
          : h("span", { class: "est muted", title: L.t("room.story.imported") }, "(" + st.imported_estimate + ")"), tools);
    }));
  }
  const syncTitles = { pending: L.t("room.sync.pending"), synced: L.t("room.sync.synced"), failed: L.t("room.sync.failed") };

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
  // editStory turns a story's row into a form, edited in place; the form survives re-renders.
  function editStory(st) {
    const err = h("p", { class: "error small", role: "alert", hidden: true });
    const form = h("form", { class: "story-edit", novalidate: true },
      h("label", null, L.t("room.title"), h("input", { name: "title", maxlength: "200", required: true, value: st.title })),
      h("label", null, L.t("room.story.description"), h("textarea", { name: "description", rows: "4", maxlength: "10000" })),
      h("label", null, L.t("room.story.link"), h("input", { name: "url", type: "url", maxlength: "2000", placeholder: L.t("room.story.url_placeholder"), value: st.url || "" })),
      err,
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, L.t("room.save")), h("button", { type: "button", onclick: () => { state.editing = null; render(); } }, L.t("room.cancel"))));
    form.description.value = st.description || "";
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        await call("update_story", { story_id: st.id, data: { title: form.title.value, description: form.description.value, url: form.url.value } });
        state.editing = null; render();
      } catch (ex) { err.textContent = ex.message; err.hidden = false; }
    });
    form.addEventListener("keydown", (e) => { if (e.key === "Escape") { state.editing = null; render(); } });
    state.editing = { id: st.id, node: h("li", { class: "story editing", "data-id": st.id }, form) };
    render();
    form.title.focus();
    form.title.setSelectionRange(form.title.value.length, form.title.value.length);
  }

  function renderCurrent() {
    const s = state.snap, st = byId(s.stories, currentId());
    $("no-story").hidden = !!st; $("current").hidden = !st;
    if (!st) { $("no-story-text").textContent = isOrg() ? L.t("room.no_story.add") : L.t("room.no_story.wait"); return; }
    $("story-title").textContent = st.title;
    const where = st.status === "estimated" ? L.t("room.state.estimated", { estimate: st.estimate }) : st.round_state === "revealed" ? L.t("room.state.revealed") : L.t("room.state.voting");
    $("story-round").textContent = s.session.closed_at ? (st.status === "estimated" ? where : L.t("room.state.not_estimated")) : L.t("room.round", { n: L.number(st.round), state: where });
    $("story-desc").textContent = st.description || "";
    const link = $("story-link"); link.hidden = !st.url; if (st.url) link.href = st.url;
    const voting = st.round_state === "voting" && st.status === "open" && !s.session.closed_at;
    const canVote = s.me.role !== "spectator" && voting;
    $("vote-area").hidden = !canVote;
    const mine = s.my_votes[st.id];
    renderCards(mine);
    renderVoteForm(st, mine);
    $("reveal").hidden = !voting; $("reveal").disabled = !(st.voters || []).length;
    $("revote").hidden = voting || !!s.session.closed_at;
    renderTimerControls(st, voting);
    renderTable(st);
    renderWaiting(st, voting);
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
    const abstained = x.abstained ?? (x.votes - x.estimating);
    // Computed numbers (average, spread, counts) are formatted for the language; cards are the
    // deck's labels and stay as the deck writes them ("0.5", "½", "XL"), as on the cards.
    const rows = [[L.t("room.stats.votes"), L.plural("room.stats.estimating", x.estimating) + (abstained ? ", " + L.plural("room.stats.abstained", abstained) : "")],
      [L.t("room.stats.average"), x.average != null ? L.number(x.average) : "—"], [L.t("room.stats.median"), x.median_card || "—"],
      [L.t("room.stats.mode"), x.mode.length ? x.mode.join(", ") : "—"],
      [L.t("room.stats.consensus"), x.consensus ? L.t("room.stats.consensus.yes") : x.estimating < 2 ? L.t("room.stats.consensus.needs_two") : L.t("room.stats.consensus.no")],
      [L.t("room.stats.spread"), x.min ? L.t("room.stats.spread_value", { min: x.min, max: x.max, spread: L.number(x.spread) }) : "—"]];
    $("stats").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
    // The chart is an image to assistive technology: its name says what the bars show.
    $("chart").replaceChildren(...chart(x.distribution));
    $("chart").setAttribute("aria-label", x.distribution.length ? L.t("room.chart.described", { cards: x.distribution.map(bar).join(", ") }) : L.t("room.chart"));
    $("votes").replaceChildren(...(st.votes || []).map((v) => h("li", null,
      h("span", { class: "v-card" }, v.card), h("span", null, v.participant_id ? nameOf(v.participant_id) : L.t("room.anonymous")),
      v.confidence ? h("span", { class: "v-conf" }, L.t("room.vote.confidence", { level: confidenceNames[v.confidence] || v.confidence })) : null,
      v.rationale ? h("span", { class: "v-why" }, L.t("room.vote.rationale", { text: v.rationale })) : null)));
  }
  const confidenceNames = { low: L.t("room.confidence.low"), medium: L.t("room.confidence.medium"), high: L.t("room.confidence.high") };
  // bar is one bar of the distribution in words: "2 × 5", as the live region says it too.
  const bar = (b) => L.t("room.announce.card", { count: L.number(b.count), card: b.card });

  function chart(dist) {
    const max = Math.max(1, ...dist.map((b) => b.count));
    return dist.map((b) => {
      const fill = h("div", { class: "fill" });
      fill.style.width = (100 * b.count / max) + "%";
      return h("div", { class: "row", title: bar(b) }, h("span", { class: "label" }, b.card), h("div", { class: "track" }, fill), h("span", null, L.number(b.count)));
    });
  }

  async function loadHistory() {
    const st = byId(state.snap.stories, currentId());
    if (!st) return;
    try {
      const rounds = await call("history", { story_id: st.id });
      $("history").replaceChildren(...rounds.map((r) => h("div", { class: "history-round" },
        h("strong", null, L.t("room.history.round", { n: L.number(r.number), time: L.date(r.revealed_at || r.started_at) })), " ",
        r.state === "revealed" ? (r.votes || []).map((v) => `${v.participant_id ? nameOf(v.participant_id) : L.t("room.anonymous")} ${v.card}`).join(", ") || L.t("room.history.no_votes")
          : L.plural("room.history.voting", r.voters.length))));
    } catch (e) { /* shown on the next render */ }
  }

  function renderPeople() {
    const s = state.snap, st = byId(s.stories, currentId());
    const voters = new Set(st && !s.session.closed_at && st.round_state === "voting" ? st.voters || [] : []);
    const active = s.participants.filter((p) => p.status === "active");
    $("people-count").textContent = L.t("room.people.online", { online: L.number(active.filter((p) => p.connected).length), total: L.number(active.length) });
    $("people").replaceChildren(...s.participants.map((p) => {
      const me = p.id === s.me.id;
      const tools = [];
      if (p.status === "pending" && isOrg()) {
        tools.push(h("button", { type: "button", onclick: () => act("admit", { participant_id: p.id, data: { admit: true } }) }, L.t("room.admit")),
          h("button", { type: "button", onclick: () => act("admit", { participant_id: p.id, data: { admit: false } }) }, L.t("room.deny")));
      } else if (!s.session.closed_at) {
        tools.push(h("button", { type: "button", title: L.t("room.emoji.throw"), "aria-label": L.t("room.emoji.throw_at", { name: p.name }), onclick: (e) => openPicker(e, p) }, "👍"));
        if (isOrg() || me) {
          const roles = isOrg() ? ["organizer", "voter", "spectator"] : ["voter", "spectator"];
          if (roles.includes(p.role)) tools.push(h("select", { "aria-label": L.t("room.role.of", { name: p.name }), onchange: (e) => act("update_participant", { participant_id: p.id, data: { role: e.target.value } }).then((r) => { if (!ok(r)) render(); }) },
            ...roles.map((r) => h("option", { value: r, selected: r === p.role }, roleNames[r]))));
          tools.push(h("button", { type: "button", title: L.t("room.rename"), "aria-label": L.t("room.rename.label", { name: p.name }), onclick: () => rename(p) }, "✎"));
          if (isOrg() && !me) tools.push(h("button", { type: "button", title: L.t("room.story.remove"), "aria-label": L.t("room.remove.label", { name: p.name }), onclick: () => { if (confirm(L.t("room.remove.confirm", { name: p.name }))) act("remove_participant", { participant_id: p.id }); } }, "✕"));
        }
      }
      return h("li", { class: "person" + (me ? " me" : "") + (p.status === "pending" ? " pending" : ""), "data-id": p.id },
        h("span", { class: "dot" + (p.connected ? " on" : ""), title: p.connected ? L.t("room.people.connected") : L.t("room.people.not_connected") }),
        h("span", { class: "p-name" }, me ? L.t("room.you", { name: p.name }) : p.name),
        h("span", { class: "p-role" }, p.status === "pending" ? L.t("room.role.pending") : roleNames[p.role] || p.role),
        voters.has(p.id) ? h("span", { class: "p-voted", title: L.t("room.people.has_voted") }, "✓") : null,
        h("span", { class: "p-tools" }, ...tools));
    }));
  }

  const roleNames = { organizer: L.t("room.role.organizer"), voter: L.t("room.role.voter"), spectator: L.t("room.role.spectator") };

  function rename(p) {
    const n = prompt(L.t("room.rename.prompt"), p.name);
    if (!n || !n.trim()) return;
    act("update_participant", { participant_id: p.id, data: { name: n } }).then((r) => {
      if (ok(r) && r && r.name !== n.trim()) toast(L.t("room.rename.taken", { typed: n.trim(), name: r.name }), "warning");
    });
  }

  // ---- actions ----
  // vote casts card on the current story, or withdraws it when it is the card already cast (the
  // toggle of a card and of its key). Confidence and rationale go with it.
  async function vote(card) {
    const s = state.snap, st = byId(s.stories, currentId());
    if (!st) return;
    const mine = s.my_votes[st.id];
    if (mine && mine.card === card) { await withdraw(st); return; }
    await castVote(st, card);
  }
  async function castVote(st, card) {
    const v = await act("vote", { story_id: st.id, data: { card, confidence: $("confidence").value, rationale: $("rationale").value } });
    if (ok(v) && v) { state.snap.my_votes[st.id] = v; clearNudge(); render(); }
  }
  async function withdraw(st) {
    if (ok(await act("retract", { story_id: st.id }))) { delete state.snap.my_votes[st.id]; render(); }
  }
  function revote() { const st = byId(state.snap.stories, currentId()); if (st) act("revote", { story_id: st.id }); }
  // Changing confidence or rationale after voting updates the vote cast: the same card is sent
  // again with the new fields, never toggled off.
  for (const id of ["confidence", "rationale"]) $(id).addEventListener("change", () => {
    const st = byId(state.snap.stories, currentId()), mine = st && state.snap.my_votes[st.id];
    if (mine && mine.card) castVote(st, mine.card);
  });
  $("reveal").addEventListener("click", () => { const st = byId(state.snap.stories, currentId()); if (st) act("reveal", { story_id: st.id }); });
  $("revote").addEventListener("click", revote);
  $("accept").addEventListener("submit", (e) => {
    e.preventDefault();
    const st = byId(state.snap.stories, currentId());
    if (st) act("accept", { story_id: st.id, data: { value: $("accept-value").value } }).then((r) => { if (ok(r)) state.viewId = ""; });
  });
  $("add-story").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target;
    // The form empties at once, so that the next title can be typed straight away; a refused
    // story comes back into it.
    const data = { title: f.title.value, description: f.description.value, url: f.url.value };
    f.reset();
    act("add_stories", { data }).then((r) => {
      if (!ok(r) && !f.title.value) { f.title.value = data.title; f.description.value = data.description; f.url.value = data.url; }
    });
  });
  $("history-box").addEventListener("toggle", () => { if ($("history-box").open) loadHistory(); });
  $("copy-link").addEventListener("click", async () => {
    const url = location.origin + "/s/" + sid;
    try { await navigator.clipboard.writeText(url); toast(L.t("room.copy_link.copied", { url })); } catch { prompt(L.t("room.copy_link.prompt"), url); }
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
  $("end-session").addEventListener("click", () => { if (confirm(L.t("room.settings.end_confirm"))) act("close_session").then((r) => { if (ok(r)) $("settings").close(); }); });

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
    if (d.to === state.snap.me.id) toast(L.t("room.emoji.thrown", { name: nameOf(d.from), emoji: d.emoji }));
  }

  // Keyboard: typing a card's key (shown on the card) votes it and typing it again withdraws
  // it; Backspace withdraws. Typing in a field is left alone. See cardKeys for the keys.
  document.addEventListener("keydown", onCardKey);

  // ---- join / ended ----
  let joinBound = false;
  async function showJoin() {
    $("join").hidden = false;
    $("join-name").focus();
    if (joinBound) return;
    joinBound = true;
    $("join-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = e.target, typed = f.name.value.trim();
      $("join-error").hidden = true;
      if (!typed) { $("join-error").textContent = L.t("room.join.name_missing"); $("join-error").hidden = false; $("join-name").focus(); return; }
      try {
        const res = await http("POST", "/api/v1/sessions/" + sid + "/participants", { name: typed, role: f.role.value });
        // The server makes a name distinct ("Ann (2)"): say so, so nobody wonders who is who.
        if (res && res.participant && res.participant.name !== typed) toast(L.t("room.join.renamed", { typed, name: res.participant.name }), "warning");
        start();
      } catch (err) { $("join-error").textContent = err.message; $("join-error").hidden = false; }
    });
  }
  function showEnded(title, text) { $("ended-title").textContent = title; $("ended-text").textContent = text; $("ended").hidden = false; }

  // ---- title, join requests, totals, async progress, end of session ----
  // renderTitle puts what needs attention in the tab title: join requests waiting for an
  // organizer ("(2) …") and a nudge ("⏳ …").
  function renderTitle() {
    const s = state.snap;
    const waiting = isOrg() ? s.participants.filter((p) => p.status === "pending").length : 0;
    document.title = (waiting ? `(${waiting}) ` : "") + (state.nudgedAt ? "⏳ " : "") + s.session.title + " · Pokor";
  }

  // noteJoinRequest shows organizers a toast, with Admit and Deny, when someone asks to join.
  function noteJoinRequest(p) {
    const s = state.snap;
    if (p.status !== "pending") dropJoinRequest(p.id); // answered, here or by another organizer
    if (!s || !isOrg() || p.status !== "pending") return;
    const before = byId(s.participants, p.id);
    if (before && before.status === "pending") return;
    const t = h("div", { class: "toast join-request", role: "status", "data-id": p.id }, h("span", null, L.t("room.admission.asks", { name: p.name })),
      h("span", { class: "row" },
        h("button", { type: "button", class: "primary", onclick: () => { t.remove(); act("admit", { participant_id: p.id, data: { admit: true } }); } }, L.t("room.admit")),
        h("button", { type: "button", onclick: () => { t.remove(); act("admit", { participant_id: p.id, data: { admit: false } }); } }, L.t("room.deny"))));
    $("toasts").append(t);
    setTimeout(() => t.remove(), 30000);
  }

  function dropJoinRequest(id) {
    for (const t of document.querySelectorAll("#toasts .join-request")) if (t.dataset.id === id) t.remove();
  }

  // acceptedTotal adds up the accepted estimates that are numbers ("½" counts 0.5); null when none is.
  function acceptedTotal() {
    let sum = 0, any = false;
    for (const st of state.snap.stories) {
      if (st.status !== "estimated" || !st.estimate) continue;
      const v = st.estimate === "½" ? 0.5 : Number(st.estimate);
      if (Number.isFinite(v)) { sum += v; any = true; }
    }
    return any ? Math.round(sum * 100) / 100 : null;
  }
  function renderTotal() {
    const total = acceptedTotal(), el = $("story-total");
    el.hidden = total === null;
    el.textContent = total === null ? "" : L.plural("room.points", total);
  }

  // storyProgress is the "voted / voters" of a story in async mode.
  function storyProgress(st) {
    if (st.status === "estimated") return null;
    if (st.round_state === "revealed") return h("span", { class: "progress revealed" }, L.t("room.state.revealed"));
    const voters = state.snap.participants.filter((p) => p.status === "active" && p.role !== "spectator");
    const ids = new Set(voters.map((p) => p.id));
    const voted = (st.voters || []).filter((id) => ids.has(id)).length;
    return h("span", { class: "progress" + (voted && voted >= voters.length ? " all" : ""), title: L.plural("room.story.progress", voted, { total: L.number(voters.length) }) },
      L.t("room.table.voted", { voted: L.number(voted), total: L.number(voters.length) }));
  }

  // renderEnded shows the final state of an ended session: what was estimated, and the export.
  function renderEnded() {
    const s = state.snap, done = s.stories.filter((x) => x.status === "estimated").length, total = acceptedTotal();
    showEnded(L.t("room.ended.title"), L.t("room.ended.at", { date: L.date(s.session.closed_at) }));
    $("ended-summary").textContent = total !== null
      ? L.plural("room.ended.summary_points", s.stories.length, { done: L.number(done), points: L.plural("room.points", total) })
      : L.plural("room.ended.summary", s.stories.length, { done: L.number(done) });
    $("ended-summary").hidden = false;
    $("ended-csv").hidden = false;
  }

  // ---- cards and their keys ----
  // cardKeys maps each card to the key that votes it. Where a deck's values can be typed, the key
  // is the value: 8 votes 8, and 1 then 3 (typed quickly) votes 13; "?" is ?, ☕ is c and ½ is h.
  // Decks of words (T-shirt sizes, custom) use positions: 1 for the first card, 0 for the tenth.
  function cardKeys(cards) {
    const keys = new Map();
    const typed = cards.every((c) => c === "?" || c === "☕" || c === "½" || /^[0-9]+$/.test(c));
    let pos = 0;
    for (const c of cards) {
      if (c === "?") keys.set(c, "?");
      else if (c === "☕") keys.set(c, "c");
      else if (c === "½") keys.set(c, "h");
      else if (typed) keys.set(c, c);
      else if (++pos <= 10) keys.set(c, String(pos % 10));
    }
    return keys;
  }

  // renderCards builds the cards once per deck and then only marks the one cast, so that focus
  // and hover survive the room's updates.
  function renderCards(mine) {
    const cards = state.snap.session.deck.cards, box = $("cards"), sig = cards.join("\u0000");
    if (box.dataset.deck !== sig) {
      const keys = cardKeys(cards);
      box.dataset.deck = sig;
      box.replaceChildren(...cards.map((c) => h("button", { type: "button", class: "card", "data-card": c, "aria-keyshortcuts": keys.get(c), title: keys.has(c) ? L.t("room.card.key", { key: keys.get(c) }) : null, onclick: () => vote(c) },
        keys.has(c) ? h("span", { class: "key", "aria-hidden": "true" }, keys.get(c)) : null, h("span", { class: "face" }, c))));
    }
    for (const b of box.children) {
      const sel = !!mine && mine.card === b.dataset.card;
      b.classList.toggle("selected", sel);
      b.setAttribute("aria-pressed", sel ? "true" : "false");
    }
  }

  // renderVoteForm empties confidence and rationale for each new story and round, so that nothing
  // carries over unseen, and otherwise shows what the vote cast holds.
  function renderVoteForm(st, mine) {
    const key = st.id + ":" + st.round, conf = $("confidence"), why = $("rationale");
    if (state.formKey !== key) {
      state.formKey = key;
      conf.value = mine ? mine.confidence || "" : "";
      why.value = mine ? mine.rationale || "" : "";
      return;
    }
    if (!mine) return;
    if (document.activeElement !== why) why.value = mine.rationale || "";
    if (document.activeElement !== conf) conf.value = mine.confidence || "";
  }

  // onCardKey votes with the keyboard. Keys of several characters (13) are read together when
  // typed within keyWait of each other; a key that is a prefix of another (1 of 13) waits that
  // long before it votes.
  const keyWait = 700, keyBuf = { text: "", at: 0, timer: 0 };
  function onCardKey(e) {
    if (!state.snap || e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select, dialog, [contenteditable]") || document.querySelector("dialog[open]")) return;
    const st = byId(state.snap.stories, currentId());
    if (!st || $("room").hidden || $("vote-area").hidden) return;
    if (e.key === "Backspace") {
      if (state.snap.my_votes[st.id]) { e.preventDefault(); withdraw(st); }
      return;
    }
    if (e.key.length !== 1) return;
    const byKey = new Map([...cardKeys(state.snap.session.deck.cards)].map(([c, k]) => [k, c]));
    const starts = (t) => [...byKey.keys()].filter((k) => k.startsWith(t));
    const k = e.key.toLowerCase(), prev = Date.now() - keyBuf.at < keyWait ? keyBuf.text : "";
    clearTimeout(keyBuf.timer);
    let text = prev + k;
    if (!starts(text).length) {
      if (byKey.has(prev)) vote(byKey.get(prev)); // the key before stands on its own
      text = k;
    }
    const cands = starts(text);
    keyBuf.text = "";
    if (!cands.length) return;
    e.preventDefault();
    const fire = () => { keyBuf.text = ""; vote(byKey.get(text)); };
    if (cands.length === 1 && cands[0] === text) { fire(); return; }
    keyBuf.text = text; keyBuf.at = Date.now();
    keyBuf.timer = setTimeout(() => { if (byKey.has(text)) fire(); else keyBuf.text = ""; }, keyWait);
  }

  // ---- round timer ----
  // The server sends the deadline with its clock; the countdown runs here, so every member sees
  // the same remaining time whatever their own clock says, across reloads and restarts.
  const fmtSecs = (n) => `${Math.floor(n / 60)}:${String(n % 60).padStart(2, "0")}`;
  function onTimer(d) {
    state.timerOffset = new Date(d.now).getTime() - Date.now();
    if (d.state === "running") {
      // A new timer ends the signal of the last one.
      state.snap.timer = d; state.timerRang = "";
      clearTimeout(state.ringTimer); $("timer").classList.remove("ringing");
      return;
    }
    if (state.snap.timer && state.snap.timer.id === d.id) state.snap.timer = null;
    if (d.state === "expired" && state.timerRang !== d.id) {
      state.timerRang = d.id;
      if (!d.revealed) ring(d);
    }
  }
  // timerShown reports whether a timer belongs on the screen: the round it counts is on it, voting.
  function timerShown(t) {
    const st = t && byId(state.snap.stories, t.story_id);
    return !!st && st.id === currentId() && st.round === t.round && st.round_state === "voting" && st.status === "open" && !state.snap.session.closed_at;
  }
  // ring signals the end of a timer that does not reveal: a toast and a gentle pulse.
  function ring(t) {
    if (!timerShown(t)) return;
    toast(isOrg() ? L.t("room.timer.up_toast_organizer") : L.t("room.timer.up_toast"), "warning");
    const el = $("timer");
    el.hidden = false; el.classList.add("ringing");
    $("timer-left").textContent = L.t("room.timer.up"); $("timer-note").textContent = ""; $("timer-fill").style.width = "0%";
    clearTimeout(state.ringTimer);
    state.ringTimer = setTimeout(() => { el.classList.remove("ringing"); tickTimer(); }, 8000);
  }
  function tickTimer() {
    const t = state.snap && state.snap.timer, el = $("timer");
    clearTimeout(state.timerTick);
    if (el.classList.contains("ringing")) return;
    if (!t || !timerShown(t)) { el.hidden = true; return; }
    const left = Math.max(0, new Date(t.deadline).getTime() - (Date.now() + (state.timerOffset || 0))), secs = Math.ceil(left / 1000);
    el.hidden = false;
    el.classList.toggle("low", secs <= 10);
    $("timer-left").textContent = fmtSecs(secs);
    $("timer-fill").style.width = (100 * left / (t.seconds * 1000)).toFixed(1) + "%";
    $("timer-note").textContent = t.reveal ? (left ? L.t("room.timer.reveals") : L.t("room.timer.revealing")) : "";
    if (left <= 0) {
      // Whoever's screen reaches zero first tells the server, which ends the timer once.
      if (state.timerChecked !== t.id) { state.timerChecked = t.id; call("check_timer").catch(() => {}); }
      return;
    }
    state.timerTick = setTimeout(tickTimer, (left % 1000) || 1000);
  }
  function renderTimerControls(st, voting) {
    const t = state.snap.timer, running = !!t && t.story_id === st.id;
    $("timer-form").hidden = !voting;
    $("timer-stop").hidden = !voting || !running;
    $("timer-start").textContent = running ? L.t("room.timer.restart") : L.t("room.timer.start");
    tickTimer();
  }
  // parseDuration reads "1:30", "90" (seconds) or "2m"; 0 when it cannot.
  function parseDuration(v) {
    v = v.trim();
    let m;
    if ((m = /^(\d+):([0-5]\d)$/.exec(v))) return Number(m[1]) * 60 + Number(m[2]);
    if (/^\d+$/.test(v)) return Number(v);
    if ((m = /^(\d+)\s*m(in)?$/i.exec(v))) return Number(m[1]) * 60;
    return 0;
  }
  $("timer-preset").addEventListener("change", () => {
    const custom = $("timer-preset").value === "custom";
    $("timer-custom-box").hidden = !custom; $("timer-custom-help").hidden = !custom;
    if (custom) $("timer-custom").focus();
  });
  $("timer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const st = byId(state.snap.stories, currentId());
    if (!st) return;
    let seconds = Number($("timer-preset").value);
    if ($("timer-preset").value === "custom") {
      seconds = parseDuration($("timer-custom").value);
      if (!seconds) { toast(L.t("room.timer.bad_length"), "error"); $("timer-custom").focus(); return; }
    }
    act("start_timer", { story_id: st.id, data: { seconds, reveal: $("timer-reveal").checked } });
  });
  $("timer-stop").addEventListener("click", () => act("stop_timer"));

  // ---- the table ----
  // Everyone who votes sits around the table, you at the front; a card lies face down once its
  // owner voted, and all cards flip together at reveal (style.css drops the motion when the
  // system asks for less). Seats are kept from render to render so that the flip can animate.
  function renderTable(st) {
    const s = state.snap, box = $("poker-table"), seats = state.seats || (state.seats = new Map());
    const people = s.participants.filter((p) => p.status === "active" && p.role !== "spectator");
    const meAt = people.findIndex((p) => p.id === s.me.id);
    const seated = meAt > 0 ? people.slice(meAt).concat(people.slice(0, meAt)) : people;
    const revealed = st.round_state === "revealed", voted = new Set(st.voters || []), cards = new Map();
    let anonymous = false;
    for (const v of revealed ? st.votes || [] : []) { if (v.participant_id) cards.set(v.participant_id, v.card); else anonymous = true; }
    const key = st.id + ":" + st.round;
    box.classList.toggle("instant", state.tableKey !== key); // another story or round: no flip
    state.tableKey = key;
    box.classList.toggle("crowded", seated.length > 12);
    const n = seated.length;
    seated.forEach((p, i) => {
      let seat = seats.get(p.id);
      if (!seat) {
        seat = h("div", { class: "seat", "data-id": p.id },
          h("div", { class: "pcard", "aria-hidden": "true" }, h("div", { class: "pcard-inner" }, h("span", { class: "pcard-back" }), h("span", { class: "pcard-front" }))),
          h("span", { class: "seat-name" }), h("span", { class: "visually-hidden seat-state" }));
        seats.set(p.id, seat);
      }
      const has = voted.has(p.id), card = cards.get(p.id);
      seat.querySelector(".seat-name").textContent = p.id === s.me.id ? L.t("room.you", { name: p.name }) : p.name;
      seat.querySelector(".pcard-front").textContent = card ?? "";
      seat.querySelector(".seat-state").textContent = card !== undefined ? L.t("room.seat.card", { card }) : has ? L.t("room.seat.voted") : L.t("room.seat.not_voted");
      seat.classList.toggle("voted", has);
      seat.classList.toggle("flipped", card !== undefined);
      seat.classList.toggle("offline", !p.connected);
      seat.classList.toggle("me", p.id === s.me.id);
      // Around an ellipse, starting at the bottom (you) and going clockwise.
      const a = Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      seat.style.left = (50 + 43 * Math.cos(a)).toFixed(2) + "%";
      seat.style.top = (50 + 37 * Math.sin(a)).toFixed(2) + "%";
      if (seat.parentNode !== box) box.append(seat);
    });
    const ids = new Set(seated.map((p) => p.id));
    for (const [id, seat] of seats) if (!ids.has(id)) { seat.remove(); seats.delete(id); }
    const center = $("table-center"), x = st.stats;
    if (revealed && x) {
      const summary = x.consensus ? L.t("room.table.consensus", { card: x.mode[0] }) : x.average != null ? L.t("room.table.average", { average: L.number(x.average) })
        : x.median_card ? L.t("room.table.median", { card: x.median_card }) : L.t("room.table.no_estimates");
      center.textContent = anonymous ? summary + " · " + (st.votes || []).map((v) => v.card).join(" ") : summary;
    } else if (st.status === "estimated") center.textContent = L.t("room.table.estimate", { estimate: st.estimate });
    else center.textContent = L.t("room.table.voted", { voted: L.number([...voted].filter((id) => ids.has(id)).length), total: L.number(n) });
    if (box.classList.contains("instant")) requestAnimationFrame(() => requestAnimationFrame(() => box.classList.remove("instant")));
  }

  // ---- who has not voted, and nudges ----
  function renderWaiting(st, voting) {
    const s = state.snap, box = $("waiting-for"), voted = new Set(st.voters || []);
    const waiting = s.participants.filter((p) => p.status === "active" && p.role === "voter" && !voted.has(p.id));
    box.hidden = !voting || !waiting.length;
    if (box.hidden) return;
    const canNudge = isOrg(), recent = (p) => Date.now() - (nudgedAt.get(p.id) || 0) < nudgeGap;
    $("waiting-text").replaceChildren(h("span", { class: "muted" }, L.t("room.waiting_for")), " ", ...waiting.flatMap((p, i) => [i ? ", " : "",
      canNudge && p.id !== s.me.id
        ? h("button", { type: "button", class: "nudge-one", "data-id": p.id, disabled: recent(p), onclick: () => nudge(st, p),
          title: recent(p) ? L.t("room.nudge.recent", { name: p.name }) : p.chat ? L.t("room.nudge.title_chat", { name: p.name, chat: p.chat }) : L.t("room.nudge.title", { name: p.name }),
          "aria-label": L.t("room.nudge.label", { name: p.name }) },
          p.name, h("span", { "aria-hidden": "true" }, recent(p) ? " ✓" : " 👋"))
        : h("span", { class: "waiting-name" + (p.connected ? "" : " muted"), "data-id": p.id }, p.name)]));
    $("nudge-all").hidden = !canNudge || waiting.filter((p) => !recent(p) && p.id !== s.me.id).length < 2;
  }
  // nudgedAt remembers whom this organizer nudged, so that the button rests as long as the
  // server would refuse another nudge (nudgeGap, session/nudge.go).
  const nudgedAt = new Map(), nudgeGap = 20000;
  async function nudge(st, p) {
    const r = await act("nudge", { story_id: st.id, participant_id: p ? p.id : "" });
    if (!ok(r) || !r) return;
    for (const n of r.nudged) nudgedAt.set(n.id, Date.now());
    render();
    setTimeout(() => { if (state.snap) render(); }, nudgeGap + 100);
    const names = r.nudged.map((n) => n.chat ? L.t("room.nudge.also_on", { name: n.name, chat: n.chat[0].toUpperCase() + n.chat.slice(1) }) : n.name);
    toast(names.length ? L.t("room.nudge.done", { names: names.join(", ") }) : L.t("room.nudge.none"));
  }
  $("nudge-all").addEventListener("click", () => { const st = byId(state.snap.stories, currentId()); if (st) nudge(st, null); });
  // showNudge is the gentle signal on a voter's screen: a line above the cards, a short wiggle of
  // the cards (none with reduced motion) and an hourglass in the tab title, until they vote.
  function showNudge(d) {
    const st = byId(state.snap.stories, currentId());
    if (!st || st.id !== d.story_id || state.snap.my_votes[st.id]) return;
    const b = $("nudge-banner"), cards = $("cards");
    b.textContent = L.t("room.nudge.received", { name: d.from_name });
    b.hidden = false;
    cards.classList.remove("nudged"); void cards.offsetWidth; cards.classList.add("nudged");
    state.nudgedAt = Date.now(); renderTitle();
    clearTimeout(state.nudgeTimer);
    state.nudgeTimer = setTimeout(clearNudge, 20000);
  }
  function clearNudge() {
    clearTimeout(state.nudgeTimer);
    $("nudge-banner").hidden = true; $("cards").classList.remove("nudged");
    state.nudgedAt = 0;
    if (state.snap) renderTitle();
  }

  start();
})();
