// The page's messages (webui/i18n/<lang>.json, put in the page by the server) and formatting in
// its language: Pokor.t(key, {name: "Ann"}), Pokor.plural(key, n, params), Pokor.number(n),
// Pokor.date(d). The language picker remembers a choice in the pokor_lang cookie. The same
// functions are window.PokorI18n, which the room's scripts use (room.js makes window.Pokor its
// own).
"use strict";
(function () {
  const P = (window.PokorI18n = {});
  window.Pokor = Object.assign(window.Pokor || {}, P);
  const el = document.getElementById("i18n-messages");
  const messages = el ? JSON.parse(el.textContent) : {};
  const lang = document.documentElement.lang || "en";
  const fill = (text, params) => String(text).replace(/\{(\w+)\}/g, (m, k) => (params && k in params ? String(params[k]) : m));
  P.lang = lang;
  // t returns the text of key, or the key itself when no catalog has it.
  P.t = (key, params) => {
    const v = messages[key];
    if (v === undefined) return key;
    return fill(typeof v === "string" ? v : v.other, params);
  };
  const rules = new Intl.PluralRules(lang);
  // plural picks the form of key for n (Intl.PluralRules), with {n} formatted for the language.
  P.plural = (key, n, params) => {
    const v = messages[key];
    if (v === undefined) return key;
    const text = typeof v === "string" ? v : (v[rules.select(n)] || v.other);
    return fill(text, Object.assign({ n: P.number(n) }, params));
  };
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  P.number = (n) => numbers.format(n);
  P.date = (d, opts) => new Intl.DateTimeFormat(lang, opts || { dateStyle: "medium", timeStyle: "short" }).format(d instanceof Date ? d : new Date(d));

  Object.assign(window.Pokor, P);

  document.addEventListener("DOMContentLoaded", () => {
    const picker = document.getElementById("language");
    if (!picker) return;
    picker.addEventListener("change", () => {
      document.cookie = "pokor_lang=" + encodeURIComponent(picker.value) + "; path=/; max-age=31536000; samesite=lax";
      const url = new URL(location.href);
      url.searchParams.delete("lang");
      location.replace(url.toString());
    });
  });
})();
