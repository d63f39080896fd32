package webui

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/webui/browsertest"
	"github.com/pokor/pokor/webui/i18n"
)

// TestBrowserGermanRoom: the core loop in German (issue #20). Anna's browser asks for German;
// Bernd's asks for English, and he picks Deutsch in the join page's menu, which is remembered.
// Both vote, Anna reveals: the average has a decimal comma, the distribution and what the live
// region says are German; a re-vote, a consensus, the history with its dates, an accepted
// estimate and the end of the session. At each step no English text of the catalog, and no
// English word, is on either screen.
func TestBrowserGermanRoom(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	anna := browser{name: "Anna", ctx: browsertest.StartWith(t, exe, 1280, 900, browsertest.AcceptLanguage("de-DE,de"))}
	bernd := browser{name: "Bernd", ctx: browsertest.Start(t, exe, 1280, 900)}
	watchConsole(t, anna)
	watchConsole(t, bernd)
	english := catalogEnglish(t)
	noEnglish := func(b browser, where string) {
		t.Helper()
		if left := english.shown(t, b); len(left) > 0 {
			t.Errorf("%s, %s: English on the screen:\n  %s", b.name, where, strings.Join(left, "\n  "))
		}
	}
	text := func(b browser, selector string) string {
		t.Helper()
		return js[string](t, b, `document.querySelector(`+strconv.Quote(selector)+`).textContent.trim()`)
	}

	// Anna creates the session from the German landing page and adds two stories.
	browsertest.Do(t, anna.ctx,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Anna"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Anmeldeseite\n"),
		chromedp.WaitVisible(css(`#cards .card`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Passwort zurücksetzen\n"),
	)
	until(t, anna, "two stories", `document.querySelectorAll("#stories .story").length === 2`)
	if lang := js[string](t, anna, `document.documentElement.lang`); lang != "de" {
		t.Fatalf("Anna's room is in %q", lang)
	}
	if p := js[string](t, anna, `document.querySelector("#add-story input[name=title]").placeholder`); p != "Story hinzufügen …" {
		t.Errorf("the new story's placeholder: %q", p)
	}
	roomURL := browsertest.Get(t, anna.ctx, chromedp.Location())

	// Bernd's browser speaks English: so does the join page, until he picks Deutsch.
	browsertest.Do(t, bernd.ctx, chromedp.Navigate(roomURL), chromedp.WaitVisible(css(`#join-form input[name=name]`)))
	if h := text(bernd, "#join-heading"); h != "Join “Sprint 42”" {
		t.Errorf("the English join page's heading: %q", h)
	}
	if left := english.shown(t, bernd); len(left) < 5 {
		t.Fatalf("the English join page shows only %q of the catalog's English: the check proves nothing", left)
	}
	pickLanguage(t, bernd, "de", "#join-form input[name=name]")
	for sel, want := range map[string]string{"#join-heading": "„Sprint 42“ beitreten", "#join-form legend": "Beitreten als", "#join-form button[type=submit]": "Beitreten"} {
		if got := text(bernd, sel); got != want {
			t.Errorf("the German join page's %s: %q, want %q", sel, got, want)
		}
	}
	if l := js[string](t, bernd, `document.querySelector("#join-name").labels[0].textContent.trim()`); l != "Dein Name" {
		t.Errorf("the name's label: %q", l)
	}
	noEnglish(bernd, "the join page")
	browsertest.Screenshot(t, bernd.ctx, "join-de.png")
	browsertest.Do(t, bernd.ctx, chromedp.Click(css(`#join-form button[type=submit]`)), chromedp.WaitVisible(css(`#join-error`)))
	if e := text(bernd, "#join-error"); e != "Gib deinen Namen ein, um beizutreten." {
		t.Errorf("joining without a name: %q", e)
	}
	browsertest.Do(t, bernd.ctx,
		chromedp.SendKeys(css(`#join-name`), "Bernd"),
		chromedp.Click(css(`#join-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#cards .card`)),
		// The choice is remembered: after a reload the room is still German.
		chromedp.Reload(),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	if lang := js[string](t, bernd, `document.documentElement.lang`); lang != "de" {
		t.Fatalf("after a reload Bernd's room is in %q", lang)
	}
	until(t, anna, "Bernd at the table", `document.querySelectorAll("#poker-table .seat").length === 2`)

	// Both vote; Anna hears Bernd's vote.
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)), chromedp.WaitVisible(css(`#cards .card.selected`)))
	browsertest.Do(t, bernd.ctx, chromedp.KeyEvent("8"), chromedp.WaitVisible(css(`#cards .card.selected[data-card="8"]`)))
	until(t, anna, "Bernd's vote told", `document.getElementById("announcer").textContent.includes("Bernd hat abgestimmt")`)
	until(t, anna, "both voted", `document.querySelector("#table-center").textContent === "2/2 abgestimmt"`)
	for sel, want := range map[string]string{"#poker-table .seat.me .seat-name": "Anna (du)", "#people-count": "2/2 online", "#people .me .p-role": "Moderation", "#story-round": "Runde 1 · Abstimmung läuft", "#reveal": "Stimmen aufdecken"} {
		if got := text(anna, sel); got != want {
			t.Errorf("Anna's %s: %q, want %q", sel, got, want)
		}
	}
	noEnglish(anna, "voting")
	noEnglish(bernd, "voting")
	browsertest.Screenshot(t, anna.ctx, "room-de-voting.png")

	// Anna reveals: 5 and 8 make 6,5.
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#reveal`)), chromedp.WaitVisible(css(`#results`)))
	for _, b := range []browser{anna, bernd} {
		until(t, b, "the results", `!document.querySelector("#results").hidden && document.querySelectorAll("#chart .row").length === 2`)
		until(t, b, "the results told", `document.getElementById("announcer").textContent.includes("Stimmen für Anmeldeseite aufgedeckt: 1 × 5, 1 × 8. Durchschnitt 6,5.")`)
		stats := js[string](t, b, `[...document.querySelectorAll("#stats dt")].map(dt => dt.textContent + " = " + dt.nextElementSibling.textContent).join("; ")`)
		for _, want := range []string{"Stimmen = 2 Schätzungen", "Durchschnitt = 6,5", "Einigkeit = nein", "Spanne = 5 – 8 (3)"} {
			if !strings.Contains(stats, want) {
				t.Errorf("%s's results %q lack %q", b.name, stats, want)
			}
		}
		if c := js[string](t, b, `document.querySelector("#chart").getAttribute("aria-label")`); c != "Verteilung der Stimmen: 1 × 5, 1 × 8" {
			t.Errorf("%s's chart is named %q", b.name, c)
		}
		if c := text(b, "#table-center"); c != "Durchschnitt 6,5" {
			t.Errorf("%s's table center: %q", b.name, c)
		}
		noEnglish(b, "the results")
	}
	time.Sleep(700 * time.Millisecond) // the cards' flip, for the pictures
	browsertest.Screenshot(t, anna.ctx, "room-de-revealed.png")
	browsertest.Do(t, bernd.ctx, browsertest.ColorScheme("dark"))
	browsertest.Screenshot(t, bernd.ctx, "room-de-revealed-dark.png")

	// A re-vote, announced; this time both say 5.
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#revote`)))
	until(t, bernd, "the new round told", `document.getElementById("announcer").textContent.includes("Neue Runde für Anmeldeseite: bitte erneut abstimmen.")`)
	until(t, bernd, "the new round", `!document.querySelector("#vote-area").hidden && !document.querySelector("#cards .card.selected")`)
	browsertest.Do(t, bernd.ctx, chromedp.KeyEvent("5"), chromedp.WaitVisible(css(`#cards .card.selected[data-card="5"]`)))
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)))
	until(t, anna, "both voted again", `document.querySelector("#table-center").textContent === "2/2 abgestimmt" && !document.querySelector("#reveal").disabled`)
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#reveal`)))
	until(t, bernd, "the consensus told", `document.getElementById("announcer").textContent.includes("Einig bei 5.")`)
	until(t, anna, "the consensus", `document.querySelector("#table-center").textContent === "Einig: 5"`)

	// The history: both rounds, with the time of each in German.
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#history-box summary`)))
	until(t, anna, "two rounds in the history", `document.querySelectorAll("#history .history-round").length === 2`)
	history := js[string](t, anna, `[...document.querySelectorAll("#history .history-round")].map(r => r.textContent).join("\n")`)
	if !regexp.MustCompile(`^Runde 1, \d\d\.\d\d\.\d{4}, \d\d:\d\d: Anna 5, Bernd 8\nRunde 2, \d\d\.\d\d\.\d{4}, \d\d:\d\d: (?:Anna 5, Bernd 5|Bernd 5, Anna 5)$`).MatchString(history) {
		t.Errorf("the history: %q", history)
	}
	noEnglish(anna, "the history")

	// Anna accepts the suggested 5: the story list and its total say so.
	if v := browsertest.Get(t, anna.ctx, chromedp.Value(css(`#accept-value`))); v != "5" {
		t.Errorf("the suggested estimate: %q", v)
	}
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#accept button[type=submit]`)))
	for _, b := range []browser{anna, bernd} {
		until(t, b, "the next story", `document.querySelector("#story-title").textContent === "Passwort zurücksetzen"`)
		until(t, b, "the total", `document.querySelector("#story-total").textContent === "5 Punkte"`)
		if c := text(b, "#stories .story .est"); c != "5" {
			t.Errorf("%s's first story's estimate: %q", b.name, c)
		}
		noEnglish(b, "the next story")
	}

	// The settings, and the end of the session.
	browsertest.Do(t, anna.ctx, chromedp.Click(css(`#open-settings`)), chromedp.WaitVisible(css(`#settings-form`)))
	if h := text(anna, "#settings-title"); h != "Sitzungseinstellungen" {
		t.Errorf("the settings' heading: %q", h)
	}
	noEnglish(anna, "the settings")
	browsertest.Screenshot(t, anna.ctx, "room-de-settings.png")
	asked := js[string](t, anna, `(() => { let asked = ""; window.confirm = (q) => { asked = q; return true; }; document.querySelector("#end-session").click(); return asked; })()`)
	if asked != "Diese Sitzung für alle beenden? Die Schätzungen bleiben erhalten und lassen sich exportieren." {
		t.Errorf("ending asks %q", asked)
	}
	for _, b := range []browser{anna, bernd} {
		until(t, b, "the end", `!document.querySelector("#ended").hidden && document.querySelector("#ended-title").textContent === "Diese Sitzung ist beendet"`)
		if s := text(b, "#ended-summary"); s != "1 von 2 Storys geschätzt, insgesamt 5 Punkte." {
			t.Errorf("%s's summary: %q", b.name, s)
		}
		if e := text(b, "#ended-text"); !regexp.MustCompile(`^Beendet am \d\d\.\d\d\.\d{4}, \d\d:\d\d\. Hier ändert sich nichts mehr`).MatchString(e) {
			t.Errorf("%s's end: %q", b.name, e)
		}
		noEnglish(b, "the end")
	}
	browsertest.Screenshot(t, bernd.ctx, "room-de-ended-dark.png")
}

// pickLanguage picks tag in the page's language menu, as a person does, and waits for the page
// to come back in it, with ready visible.
func pickLanguage(t *testing.T, b browser, tag, ready string) {
	t.Helper()
	js[bool](t, b, `(() => { const m = document.getElementById("language"); m.value = `+strconv.Quote(tag)+`; m.dispatchEvent(new Event("change")); return true; })()`)
	// The page reloads itself; until it has, a query may meet the old document going away.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? document.documentElement.lang : ""`))
		cancel()
		if err == nil && lang == tag {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the page did not turn %s: %q %v", b.name, tag, lang, err)
		}
	}
	browsertest.Do(t, b.ctx, chromedp.WaitVisible(css(ready)))
}

// englishCatalog is what the English catalog says and no other catalog says too: the literal
// parts of each text (around its {placeholders}), with those a German text also holds left out
// ("Median", "Timer", "Link").
type englishCatalog struct{ parts []*regexp.Regexp }

func catalogEnglish(t *testing.T) englishCatalog {
	t.Helper()
	langs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	forms := func(c *i18n.Catalog) map[string][]string {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.JSON()), &raw); err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[k] = []string{s}
				continue
			}
			var plural map[string]string
			if err := json.Unmarshal(v, &plural); err != nil {
				t.Fatal(err)
			}
			for _, f := range plural {
				out[k] = append(out[k], f)
			}
		}
		return out
	}
	var german []string
	for _, fs := range forms(langs.Get("de")) {
		german = append(german, fs...)
	}
	allGerman := strings.Join(german, "\n")
	word := func(s string) *regexp.Regexp {
		return regexp.MustCompile(`(?:^|\P{L})` + regexp.QuoteMeta(s) + `(?:\P{L}|$)`)
	}
	letters := regexp.MustCompile(`\pL{3,}`)
	seen := map[string]bool{}
	var e englishCatalog
	for key, fs := range forms(langs.Reference()) {
		if key == "_language" { // each language is listed in its own name
			continue
		}
		for _, f := range fs {
			for _, part := range regexp.MustCompile(`\{\w+\}`).Split(f, -1) {
				part = strings.Trim(part, " .,:;“”()")
				if seen[part] || !letters.MatchString(part) || word(part).MatchString(allGerman) {
					continue
				}
				seen[part] = true
				e.parts = append(e.parts, word(part))
			}
		}
	}
	return e
}

// shownTexts is every text on b's screen, as a person or a screen reader meets it: the text of
// what is visible (visually hidden text included), and the titles, labels and placeholders.
// Left out: text marked as another language (the languages in the menu), and the parts of the
// room other scripts draw (the import dialog and trackers.js, the team box and insight.js),
// translated with them.
const shownTexts = `(() => {
	const lang = document.documentElement.lang;
	const skip = (el) => el.closest("#import, #team-box, #similar, script, style") || (el.closest("[lang]") || document.documentElement).lang !== lang;
	const visible = (el) => (el.closest("select") || el).checkVisibility();
	const out = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walk.nextNode());) {
		const el = n.parentElement, text = n.textContent.trim();
		if (text && el && !skip(el) && visible(el)) out.push(text);
	}
	for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder]")) {
		if (skip(el) || !visible(el)) continue;
		for (const a of ["title", "aria-label", "placeholder"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
	}
	out.push(document.title);
	return out;
})()`

// shown returns the English texts on b's screen: the catalog's, and English words.
func (e englishCatalog) shown(t *testing.T, b browser) []string {
	t.Helper()
	var left []string
	for _, text := range js[[]string](t, b, shownTexts) {
		for _, p := range e.parts {
			if p.MatchString(text) {
				left = append(left, strconv.Quote(strings.Trim(p.FindString(text), " .,:;“”()"))+" in "+strconv.Quote(text))
			}
		}
		if w := englishWords.FindString(text); w != "" {
			left = append(left, strconv.Quote(w)+" in "+strconv.Quote(text))
		}
	}
	return left
}
