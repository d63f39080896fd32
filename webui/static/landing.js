// Landing page: create a session through the JSON API, then open its room.
"use strict";
(function () {
  const form = document.getElementById("create");
  if (!form) return; // sign-in required first
  const custom = document.getElementById("custom-cards");
  const errorBox = document.getElementById("create-error");
  form.addEventListener("change", () => { custom.hidden = form.deck.value !== "custom"; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const body = {
      title: form.title.value, name: form.name.value, deck: form.deck.value,
      cards: form.deck.value === "custom" ? form.cards.value.split(/[\s,]+/).filter(Boolean) : undefined,
      settings: {
        auto_reveal: form.auto_reveal.checked, allow_spectators: form.allow_spectators.checked,
        require_approval: form.require_approval.checked, async: form.async.checked, anonymous: form.anonymous.checked,
      },
    };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const res = await fetch("/api/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await res.json();
      if (!res.ok) throw new Error(data.error ? data.error.message : Pokor.t("landing.create.failed"));
      location.href = data.url.replace(/^https?:\/\/[^/]+/, "");
    } catch (e) {
      errorBox.textContent = e.message;
      errorBox.hidden = false;
      button.disabled = false;
    }
  });
})();
