// What happens at the table, told to screen readers: "Bob voted", "Bob withdrew their vote", the
// results at reveal and a new round, in the polite live region #announcer, in the page's
// language. It follows room.js through its hooks (window.Pokor.onRender) and keeps only what it
// needs to tell what changed since the last render.
"use strict";
(function () {
  const P = window.Pokor, L = window.PokorI18n, region = document.getElementById("announcer");
  if (!P || !P.onRender || !L || !region) return;
  let last = null; // {id, round, state, voters}

  // Each message is a paragraph of its own, so that quick ones do not replace each other.
  function say(text) {
    const p = document.createElement("p");
    p.textContent = text;
    region.appendChild(p);
    setTimeout(() => p.remove(), 15000);
  }

  function results(st) {
    const s = st.stats;
    if (!s || !s.votes) return L.t("room.announce.nobody", { story: st.title });
    const cards = (s.distribution || []).map((b) => L.t("room.announce.card", { count: L.number(b.count), card: b.card })).join(", ");
    let text = L.t("room.announce.revealed", { story: st.title, cards });
    if (s.consensus && s.mode && s.mode.length) text += " " + L.t("room.announce.consensus", { card: s.mode[0] });
    if (typeof s.average === "number") text += " " + L.t("room.announce.average", { average: L.number(s.average) });
    return text;
  }

  P.onRender.push(() => {
    const snap = P.state.snap;
    if (!snap || !snap.stories) return;
    const st = snap.stories.find((x) => x.id === P.currentId());
    if (!st) { last = null; return; }
    const voters = new Set(st.voters || []);
    const now = { id: st.id, round: st.round, state: st.round_state, voters };
    if (last && last.id === st.id) {
      if (last.round !== st.round) {
        say(L.t("room.announce.new_round", { story: st.title }));
      } else if (last.state !== "revealed" && st.round_state === "revealed") {
        say(results(st));
      } else if (st.round_state === "voting") {
        const name = (id) => { const p = (snap.participants || []).find((x) => x.id === id); return p ? p.name : L.t("room.someone"); };
        for (const id of voters) if (!last.voters.has(id) && id !== snap.me.id) say(L.t("room.announce.voted", { name: name(id) }));
        for (const id of last.voters) if (!voters.has(id) && id !== snap.me.id) say(L.t("room.announce.withdrew", { name: name(id) }));
      }
    }
    last = now;
  });
})();
