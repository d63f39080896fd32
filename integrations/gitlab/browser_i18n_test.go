package gitlab

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/integrations/trackertest"
	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserImportFromGitLabInGerman drives the Import dialog of a German browser in Chromium
// against the fake GitLab: the dialog, the preview's count, every progress message of a
// two-page import (sent by the server as "import" events, worded by the page), the result, the
// connection's state, fields and check, and the write-back status are German, numbers included.
func TestBrowserImportFromGitLabInGerman(t *testing.T) {
	exe := browsertest.Chromium(t)
	f := newFakeGitLab(t, false)
	f.addProject("acme/api", 75)
	srv := trackertest.Serve(t, f.wired())
	anna := browsertest.StartWith(t, exe, 1280, 1000, browsertest.AcceptLanguage("de-DE,de"))
	errs := browsertest.Errors(anna)
	trackertest.OpenImport(t, anna, srv.HTTP.URL)

	text := func(sel string) string {
		t.Helper()
		return browsertest.Get(t, anna, chromedp.Evaluate[string](`document.querySelector(`+"`"+sel+"`"+`).textContent.trim()`))
	}
	for sel, want := range map[string]string{
		"#import-title":      "Storys importieren",
		"#import-preview":    "Vorschau",
		"#import-all":        "Alle importieren",
		"#connection-name":   "Verbindung zu GitLab",
		"#connection-state":  "(Standardwerte des Servers)",
		"#connection-save":   "Speichern",
		"#connection-remove": "Entfernen",
	} {
		if got := text(sel); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	browsertest.Do(t, anna, chromedp.Click(sel(`#import-preview`)), chromedp.WaitVisible(sel(`#import-error`)))
	if got := text("#import-error"); !strings.HasPrefix(got, "Gib zuerst eine Abfrage ein, zum Beispiel: ") {
		t.Errorf("an empty query: %q", got)
	}

	browsertest.Do(t, anna,
		chromedp.SendKeys(sel(`#import-query`), "acme/api"),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-list li:nth-child(50)`)),
	)
	if got := text("#import-count"); got != "75 Storys passen; die ersten 50 stehen hier, „Alle importieren“ übernimmt jede." {
		t.Errorf("preview count: %q", got)
	}
	// Every text the status line shows, as the import runs.
	browsertest.Get(t, anna, chromedp.Evaluate[bool](`(() => {
		window.seen = [];
		const s = document.querySelector("#import-status");
		new MutationObserver(() => window.seen.push(s.textContent)).observe(s, { childList: true, characterData: true, subtree: true });
		return true;
	})()`))
	browsertest.Do(t, anna, chromedp.Click(sel(`#import-all`)))
	browsertest.Until(t, anna, "the import to finish", `document.querySelector("#import-status").textContent === "Aus GitLab importiert: 75 neue Storys, 0 Storys aktualisiert."`)
	seen := browsertest.Get(t, anna, chromedp.Evaluate[[]string](`window.seen`))
	if got := strings.Join(seen, " | "); !strings.Contains(got, "Import aus GitLab startet …") || !strings.Contains(got, "50 von 75 importiert …") {
		t.Errorf("the status line showed: %s", got)
	}
	browsertest.Screenshot(t, anna, "gitlab-import-de.png")

	// The same import again updates what is there.
	browsertest.Do(t, anna, chromedp.Click(sel(`#import-all`)))
	browsertest.Until(t, anna, "the second import", `document.querySelector("#import-status").textContent === "Aus GitLab importiert: 0 neue Storys, 75 Storys aktualisiert."`)

	// The connection: options only, then its check.
	browsertest.Do(t, anna,
		chromedp.Click(sel(`#connection-box summary`)),
		chromedp.WaitVisible(sel(`#connection-fields select[data-opt=mode]`)),
		chromedp.SetValue(sel(`#connection-fields select[data-opt=mode]`), ModeLabelNote),
		chromedp.Click(sel(`#connection-save`)),
	)
	browsertest.Until(t, anna, "the saved options", `document.querySelector("#connection-state").textContent === "(diese Sitzung: nur Optionen)"`)
	// What the descriptor says, from the catalog.
	for what, expr := range map[string]string{
		"the source":       `document.querySelector("#import-source option[value=gitlab]").textContent === "GitLab-Issues"`,
		"the query help":   `document.querySelector("#import-help").textContent.startsWith("GRUPPE/PROJEKT oder GRUPPE")`,
		"the token field":  `document.querySelector("#connection-fields input[data-cred=token]").parentElement.textContent === "Zugriffstoken (Bereich api)"`,
		"the write-back":   `document.querySelector("#connection-fields select[data-opt=mode]").parentElement.firstChild.textContent === "Zurückschreiben"`,
		"the chosen mode":  `document.querySelector("#connection-fields select[data-opt=mode]").selectedOptions[0].textContent === "Label und Notiz"`,
		"an option's help": `document.querySelector("#connection-fields input[data-opt=values]").title === "das Gewicht jeder Wortkarte; leer: Wortkarten gehen in das Label"`,
	} {
		if !browsertest.Get(t, anna, chromedp.Evaluate[bool](expr)) {
			t.Errorf("%s is not German (%s)", what, expr)
		}
	}
	if p := browsertest.Get(t, anna, chromedp.Evaluate[string](`document.querySelector("#connection-target").placeholder`)); !strings.HasSuffix(p, " (optional)") {
		t.Errorf("the check's target placeholder: %q", p)
	}
	browsertest.Do(t, anna,
		chromedp.SendKeys(sel(`#connection-target`), "acme/api"),
		chromedp.Click(sel(`#connection-test`)),
	)
	browsertest.Until(t, anna, "the check", `document.querySelector("#connection-facts li").textContent.startsWith("✓ Funktioniert als ")`)
	browsertest.Screenshot(t, anna, "gitlab-connection-de.png")

	// An estimate written back: the status under the story.
	browsertest.CloseImportAndAccept(t, anna, "5")
	browsertest.Until(t, anna, "the write-back", `[...document.querySelectorAll("#stories .sync.synced")].length === 1`)
	browsertest.Get(t, anna, chromedp.Evaluate[bool](`(() => { document.querySelector("#stories .sync.synced").closest(".story").querySelector(".st-title").click(); return true; })()`))
	browsertest.Until(t, anna, "the synced status", `(document.querySelector("#sync-status.synced") || {}).textContent === "✓ GitLab acme/api#1 hat die Schätzung 5."`)
	browsertest.Screenshot(t, anna, "gitlab-synced-de.png")
	for _, e := range errs() {
		t.Errorf("JavaScript error: %s", e)
	}
}
