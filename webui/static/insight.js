// The room's part of insight (issue #17): after a reveal, the team's earlier stories most like
// the one on the table, with their estimate and outcome; and, for organizers, the session's team.
// It runs on room.js's hooks (window.Pokor), like trackers.js and trust.js; its texts are the
// page's catalog (insight.*, and chart.* for durations as the team page writes them), through
// window.PokorI18n (static/i18n.js), which room.js leaves alone.
"use strict";
(function () {
  const P = window.Pokor, L = window.PokorI18n, $ = (id) => document.getElementById(id);
  if (!P || !L) return;
  const link = document.createElement("link");
  link.rel = "stylesheet"; link.href = "/static/insight.css";
  document.head.append(link);
  const snap = () => P.state.snap;
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, v);
    e.append(...kids.filter((k) => k != null));
    return e;
  };

  // ---- similar past stories ----
  // Suggestions by "story:round": the server sends them only once that round is revealed.
  const similar = new Map(), asked = new Set();
  const keyOf = (id, round) => id + ":" + round;
  function remember(v) { if (v && v.story_id) similar.set(keyOf(v.story_id, v.round), v); }

  // hours writes a duration as the team page does (charts.go's hours), in the page's language.
  function hours(h) {
    if (h >= 48) return L.t("chart.days", { n: L.number(Math.round(h / 24 * 10) / 10) });
    if (h >= 1) return L.t("chart.hours", { n: L.number(Math.round(h * 10) / 10) });
    return L.t("chart.minutes", { n: L.number(Math.round(h * 60)) });
  }
  // withNode is the text of key with the node put where its {name} placeholder stands.
  function withNode(key, name, node) {
    const [before, after] = L.t(key).split("{" + name + "}");
    return [before, node, after];
  }

  function renderSimilar() {
    const s = snap();
    if (!s || !s.stories) return;
    remember(s.similar);
    const st = s.stories.find((x) => x.id === P.currentId());
    let box = $("similar");
    if (!box) {
      box = el("section", { id: "similar", class: "similar", "aria-labelledby": "similar-title", hidden: "" });
      $("results").append(box);
    }
    const shown = st && st.round_state === "revealed" && s.session.team_id;
    const v = shown && similar.get(keyOf(st.id, st.round));
    if (shown && !v && !asked.has(keyOf(st.id, st.round))) {
      // A story revealed before this page loaded (or viewed in async mode): ask once.
      asked.add(keyOf(st.id, st.round));
      P.call("similar", { story_id: st.id }).then((r) => { remember(r); renderSimilar(); }).catch(() => {});
    }
    if (!v || !v.stories.length) { box.hidden = true; box.replaceChildren(); return; }
    const items = v.stories.map((x) => {
      const title = x.url ? el("a", { href: x.url, target: "_blank", rel: "noopener noreferrer" }, x.title) : el("span", {}, x.title);
      const bits = [title, el("span", { class: "est", title: L.t("insight.estimate_title") }, x.estimate)];
      let note = " · " + x.session_title;
      if (x.outcome && x.outcome.cycle_hours != null) note += " · " + L.t("insight.took", { time: hours(x.outcome.cycle_hours) });
      bits.push(el("span", { class: "small muted" }, note));
      return el("li", { "data-story": x.id }, ...bits);
    });
    box.replaceChildren(el("h3", { id: "similar-title" }, L.t("insight.similar")), el("ol", {}, ...items));
    box.hidden = false;
  }

  // ---- the session's team (organizers) ----
  // drawn is what the box shows, so that a render for someone's vote does not wipe what an
  // organizer is typing.
  let team = null, teamFor = null, drawn = null;
  async function loadTeam() {
    const s = snap(), key = s.session.id + "/" + (s.session.team_id || "");
    if (teamFor === key) return;
    teamFor = key;
    try { team = (await P.call("team")).team; } catch { team = null; }
    renderTeam();
  }

  function renderTeam() {
    const s = snap();
    let box = $("team-box");
    if (!box) {
      box = el("section", { id: "team-box", "aria-labelledby": "team-box-title", hidden: "" });
      const anchor = $("organizer-link") || $("people");
      anchor.after(box);
    }
    const org = s && s.me && s.me.role === "organizer" && !s.session.closed_at;
    box.hidden = !org;
    if (!org) { drawn = null; return; }
    loadTeam();
    const sig = JSON.stringify(team && [team.id, team.name, team.team_url]);
    if (sig === drawn) return;
    drawn = sig;
    const kids = [el("h3", { id: "team-box-title" }, L.t("insight.team"))];
    if (team) {
      kids.push(el("p", { class: "small" }, ...withNode("insight.team.belongs", "team", el("strong", {}, team.name))));
      const open = el("a", { class: "button", id: "team-open", href: team.team_url, target: "_blank", rel: "noopener" }, L.t("insight.team.open"));
      const copy = el("button", { type: "button", id: "team-copy" }, L.t("team.link.copy"));
      copy.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(team.team_url); P.toast(L.t("team.link.copied")); } catch { prompt(L.t("team.link"), team.team_url); }
      });
      kids.push(el("p", {}, open, " ", copy));
      if (!team.platform) {
        const leave = el("button", { type: "button", id: "team-leave", class: "danger" }, L.t("insight.team.leave"));
        leave.addEventListener("click", () => P.call("leave_team").then(() => { team = null; teamFor = null; }).catch((e) => P.toast(e.message, "error")));
        kids.push(el("p", {}, leave));
      }
    } else {
      kids.push(el("p", { class: "small muted" }, L.t("insight.team.why")));
      const form = el("form", { id: "team-form", novalidate: "" },
        el("input", { name: "team", maxlength: "2000", placeholder: L.t("insight.team.placeholder"), "aria-label": L.t("insight.team.input") }),
        el("button", { type: "submit" }, L.t("insight.team.set")));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const v = form.team.value.trim();
        if (!v) return;
        const data = /^https?:\/\//.test(v) ? { link: v } : { name: v };
        try { team = (await P.call("set_team", { data })).team; teamFor = null; renderTeam(); P.toast(L.t("insight.team.joined", { team: team.name })); }
        catch (x) { P.toast(x.message, "error"); }
      });
      kids.push(form);
    }
    box.replaceChildren(...kids);
  }

  P.onRender.push(renderSimilar, renderTeam);
  P.onEvent.push((ev) => { if (ev.type === "similar") { remember(ev.data); P.render(); } });
})();
