// The parts of the room that keep it in its members' hands (issue #12): the organizer's own link
// (copy, replace) and the reveal button for everyone when the organizers allow it. It runs on
// room.js's hooks (window.Pokor) and keeps no state of its own.
"use strict";
(function () {
  const P = window.Pokor, L = window.PokorI18n, $ = (id) => document.getElementById(id);
  if (!P || !L) return;
  const snap = () => P.state.snap;

  // The link is a credential: it is never on screen unless copying it failed, so that sharing
  // the screen in a meeting does not share it.
  function renderOrganizerLink() {
    const s = snap(), box = $("organizer-link");
    const show = !!(s && s.organizer_url && s.me.role === "organizer" && !s.session.closed_at);
    box.hidden = !show;
    if (!show) $("organizer-link-url").hidden = true;
  }
  $("organizer-link-copy").addEventListener("click", async () => {
    const url = snap().organizer_url, field = $("organizer-link-url");
    try {
      // A browser that asks for permission may never answer: give up after a moment.
      await Promise.race([navigator.clipboard.writeText(url), new Promise((_, no) => setTimeout(no, 1500))]);
      P.toast(L.t("room.org_link.copied"));
    } catch {
      field.value = url; field.hidden = false; field.focus(); field.select();
      P.toast(L.t("room.org_link.copy_selected"));
    }
  });
  $("organizer-link-rotate").addEventListener("click", async () => {
    if (!confirm(L.t("room.org_link.rotate_confirm"))) return;
    try {
      const res = await P.call("rotate_organizer_link");
      snap().organizer_url = res.organizer_url;
      $("organizer-link-url").hidden = true;
      P.toast(L.t("room.org_link.replaced"));
    } catch (e) { P.toast(e.message, "error"); }
  });
  // Another organizer replaced the links: fetch this organizer's new one.
  async function onLinksReplaced() {
    try {
      const res = await P.call("organizer_link");
      snap().organizer_url = res.organizer_url;
      $("organizer-link-url").hidden = true;
      P.toast(L.t("room.org_link.replaced_elsewhere"));
    } catch { /* no longer an organizer: the snapshot that follows hides the box */ }
  }

  // With "who may reveal: everyone", members who are not organizers get a reveal button too.
  function renderRevealForEveryone() {
    const s = snap();
    let btn = $("reveal-everyone");
    if (!btn) {
      btn = document.createElement("button");
      btn.type = "button"; btn.id = "reveal-everyone"; btn.className = "primary"; btn.textContent = L.t("room.reveal");
      btn.addEventListener("click", () => P.call("reveal", { story_id: P.currentId() }).catch((e) => P.toast(e.message, "error")));
      $("vote-area").after(btn);
    }
    const st = s && s.stories.find((x) => x.id === P.currentId());
    btn.hidden = !(st && s.me.role !== "organizer" && s.session.settings.reveal === "everyone" && !s.session.closed_at &&
      st.round_state === "voting" && st.status === "open");
    btn.disabled = !(st && (st.voters || []).length);
  }

  P.onRender.push(renderOrganizerLink, renderRevealForEveryone);
  P.onEvent.push((ev) => { if (ev.type === "organizer_link") onLinksReplaced(); });
})();
