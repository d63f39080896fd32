// The team page's few actions: rename, turn per-voter accuracy on or off, copy or replace the
// team link. Everything else on the page is drawn by the server; the texts are the page's catalog
// (team.*, static/i18n.js).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id), team = document.body.dataset.team;
  const status = (msg) => { $("team-status").textContent = msg; };
  async function api(method, path, body) {
    const res = await fetch("/api/v1/teams/" + encodeURIComponent(team) + path, {
      method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || Pokor.t("team.server_status", { status: res.status }));
    return data;
  }
  $("team-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target, err = $("team-error");
    err.hidden = true;
    try {
      await api("PATCH", "", { name: f.name.value, settings: { voter_accuracy: f.voter_accuracy.checked } });
      location.reload();
    } catch (x) { err.textContent = x.message; err.hidden = false; }
  });
  // The link is a credential: it stays off screen unless copying fails.
  $("team-link-copy").addEventListener("click", async () => {
    const url = $("team-link-copy").dataset.url, field = $("team-link-url");
    try {
      await Promise.race([navigator.clipboard.writeText(url), new Promise((_, no) => setTimeout(no, 1500))]);
      status(Pokor.t("team.link.copied"));
    } catch {
      field.value = url; field.hidden = false; field.focus(); field.select();
      status(Pokor.t("team.link.copy_manually"));
    }
  });
  $("team-link-rotate").addEventListener("click", async () => {
    if (!confirm(Pokor.t("team.link.rotate_confirm"))) return;
    try {
      const res = await api("POST", "/link/rotate");
      $("team-link-copy").dataset.url = res.team_url;
      $("team-link-url").hidden = true;
      status(Pokor.t("team.link.replaced"));
    } catch (x) { status(x.message); }
  });
})();
