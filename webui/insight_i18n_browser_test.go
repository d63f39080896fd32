package webui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserGermanImportAndTeam, in real Chromium with a German browser: the organizer imports
// a CSV file from the room's Import dialog (a missing file, the result, the same file again, the
// imported estimate), puts the session in a team from the team box, sees the similar past story
// after the reveal with its cycle time in German, and opens the team page: German, numbers with a
// decimal comma, dates with German months; its language menu turns it English, remembered.
func TestBrowserGermanImportAndTeam(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")

	// The team's history: a story with an outcome of two and a half days.
	olga := ts.newClient("Olga")
	past, ta := teamSession(t, olga, "Sprint 41", "Zahlungen")
	id := estimateStory(t, olga, past, "Password reset by email", "Send a reset link to the user's email address.", "5")
	cycle, now := 60.0, time.Now().UTC()
	if err := ts.store.SaveOutcome(t.Context(), &session.Outcome{StoryID: id, DoneAt: now, CycleHours: &cycle, FetchedAt: now, Detail: "closed"}); err != nil {
		t.Fatal(err)
	}

	anna := browsertest.StartWith(t, exe, 1280, 1000, browsertest.AcceptLanguage("de-DE,de"))
	errs := browsertest.Errors(anna)
	text := func(sel string) string {
		t.Helper()
		return strings.TrimSpace(browsertest.Get(t, anna, chromedp.Text(css(sel))))
	}
	browsertest.Do(t, anna,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Anna"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#open-import`)),
		chromedp.Click(css(`#open-import`)),
		chromedp.WaitVisible(css(`#import-file-go`)),
	)
	if got := text("#import-title") + " | " + text("#import-file-go"); got != "Storys importieren | Datei importieren" {
		t.Errorf("the dialog says %q", got)
	}
	if label := browsertest.Get(t, anna, chromedp.Evaluate[string](`document.querySelector("#import-close").getAttribute("aria-label")`)); label != "Schließen" {
		t.Errorf("the close button's label: %q", label)
	}
	browsertest.Do(t, anna, chromedp.Click(css(`#import-file-go`)), chromedp.WaitVisible(css(`#import-error`)))
	if got := text("#import-error"); got != "Wähle zuerst eine CSV-Datei aus." {
		t.Errorf("no file: %q", got)
	}

	file := filepath.Join(t.TempDir(), "backlog.csv")
	if err := os.WriteFile(file, []byte("title,key,description,estimate\nReset a forgotten password,DOC-1,Send the user a reset link.,8\nShip it,DOC-2,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Aus backlog.csv importiert: 2 neue Storys, 0 Storys aktualisiert.", "Aus backlog.csv importiert: 0 neue Storys, 2 Storys aktualisiert."} {
		browsertest.Do(t, anna,
			chromedp.SetUploadFiles(css(`#import-file`), []string{file}),
			chromedp.Click(css(`#import-file-go`)),
		)
		browsertest.Until(t, anna, "the CSV import", `document.querySelector("#import-status").textContent === `+jsString(want))
	}
	browsertest.Screenshot(t, anna, "csv-import-de.png")
	browsertest.Do(t, anna, chromedp.Click(css(`#import-close`)))
	browsertest.Until(t, anna, "the imported estimate", `(document.querySelector("#sync-status") || {}).textContent === "Importierte Schätzung: 8 (aus CSV; wird erst zurückgeschrieben, wenn ihr selbst eine annehmt)."`)

	// The team box: German, and the session joins the team by its link.
	browsertest.Do(t, anna, chromedp.WaitVisible(css(`#team-box input[name=team]`)))
	if got := text("#team-box-title") + " | " + text("#team-box button[type=submit]"); got != "Team | Team festlegen" {
		t.Errorf("the team box says %q", got)
	}
	browsertest.Do(t, anna,
		chromedp.SendKeys(css(`#team-box input[name=team]`), ta.Team.TeamURL+"\n"),
		chromedp.WaitVisible(css(`#team-open`)),
	)
	if got := text("#team-box p"); got != "Diese Sitzung gehört zu Zahlungen. Ihr Verlauf und die Auswertung stehen auf der Teamseite." {
		t.Errorf("the team box says %q", got)
	}
	if got := text("#team-open"); got != "Teamseite öffnen" {
		t.Errorf("the team page button: %q", got)
	}

	// After the reveal, the similar past story with its outcome.
	browsertest.Do(t, anna,
		chromedp.Click(css(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(css(`#cards .card.selected`)),
		chromedp.Click(css(`#reveal`)),
		chromedp.WaitVisible(css(`#similar li`)),
	)
	if got := text("#similar-title"); got != "Ähnliche Storys, die das Team schon geschätzt hat" {
		t.Errorf("the similar stories' heading: %q", got)
	}
	if got := text("#similar li"); !strings.Contains(got, "Password reset by email") || !strings.Contains(got, "dauerte 2,5 Tg.") {
		t.Errorf("the similar story reads %q", got)
	}
	if got := browsertest.Get(t, anna, chromedp.Evaluate[string](`document.querySelector("#similar .est").title`)); got != "angenommene Schätzung" {
		t.Errorf("the estimate's title: %q", got)
	}
	browsertest.Screenshot(t, anna, "similar-de.png")

	// The team page in German.
	browsertest.Do(t, anna, chromedp.Navigate(ta.Team.TeamURL), chromedp.WaitVisible(css(`svg.chart`)))
	months := []string{"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."}
	for what, expr := range map[string]string{
		"German":                   `document.documentElement.lang === "de" && document.getElementById("language").value === "de"`,
		"the charts' titles":       `document.querySelector(".chart-box strong").textContent === "Angenommene Punkte pro Sprint"`,
		"the charts' alternatives": `document.querySelector("svg.chart").getAttribute("aria-label").startsWith("Angenommene Punkte pro Sprint: S41: 5")`,
		"the cycle time":           `document.querySelector("#stories").innerText.includes("2,5 Tg.")`,
		"the table's heads":        `document.querySelector("#stories th").textContent === "Story" && document.querySelector("#sessions th").textContent === "Sitzung"`,
		"a German date":            `document.querySelector("#sessions").innerText.includes(". ` + months[now.Month()-1] + ` ` + now.Format("2006") + `")`,
		"the figures":              `document.querySelector(".figures").innerText.includes("Story geschätzt") && document.querySelector(".figures").innerText.includes("Runden pro Story")`,
		"the team link button":     `document.getElementById("team-link-copy").textContent === "Teamlink kopieren"`,
	} {
		if !browsertest.Get(t, anna, chromedp.Evaluate[bool](expr)) {
			t.Errorf("team page: %s does not hold (%s)", what, expr)
		}
	}
	browsertest.Screenshot(t, anna, "team-page-de.png")

	// The page's menu turns it English, and the choice stays.
	// The change event fires after the evaluation has returned: the page then replaces itself.
	browsertest.Get(t, anna, chromedp.Evaluate[bool](`(() => { const m = document.getElementById("language"); m.value = "en"; setTimeout(() => m.dispatchEvent(new Event("change")), 50); return true; })()`))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(anna, 2*time.Second)
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".chart-box strong") ? document.documentElement.lang : ""`))
		cancel()
		if err == nil && lang == "en" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the team page did not turn English: %q %v", lang, err)
		}
	}
	browsertest.Do(t, anna, chromedp.Reload(), chromedp.WaitVisible(css(`svg.chart`)))
	if got := text(".chart-box strong"); got != "Points accepted per sprint" {
		t.Errorf("after picking English and a reload: %q", got)
	}
	for _, e := range errs() {
		t.Errorf("JavaScript error: %s", e)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }
