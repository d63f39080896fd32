package trackers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pokor/pokor/webui/browsertest"
)

type sel = browsertest.CSS

// TestBrowserImportAndSync drives the room in Chromium: an organizer previews and imports
// GitHub issues, saves and tests a connection, estimates, watches the write-back, sees a
// failure with its reason, retries it, and uploads a CSV file.
func TestBrowserImportAndSync(t *testing.T) {
	exe := browsertest.Chromium(t)
	gh := newFakeGitHub(t)
	gh.addIssue(1, "Login fails", "Steps:\r\n1. log in", "ready")
	gh.addIssue(2, "Export <b>as</b> PDF", "", "ready")
	gh.addIssue(3, "Not ready", "")
	s := startAPI(t, gh.URL())
	ann := browsertest.Start(t, exe, 1280, 1000)

	browsertest.Do(t, ann,
		chromedp.Navigate(s.http.URL+"/"),
		chromedp.SendKeys(sel(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(sel(`#create input[name=name]`), "Ann"),
		chromedp.Click(sel(`#create button[type=submit]`)),
		chromedp.WaitVisible(sel(`#open-import`)),
		chromedp.Click(sel(`#open-import`)),
		chromedp.WaitVisible(sel(`#import-query`)),
		chromedp.SendKeys(sel(`#import-query`), "acme/api label:ready"),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-list li:nth-child(2)`)),
	)
	// The sources are the server's trackers, as their descriptors describe them.
	if got := browsertest.Get(t, ann, chromedp.Evaluate[string](`[...document.querySelectorAll("#import-source option")].map((o) => o.value + ":" + o.textContent).join(",")`)); got != "github:GitHub issues,jira:Jira issues,notion:Notion database,csv:CSV file" {
		t.Errorf("sources: %q", got)
	}
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-help`))); !strings.HasPrefix(got, "OWNER/REPO") {
		t.Errorf("GitHub's query help: %q", got)
	}
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-count`))); got != "2 stories match." {
		t.Errorf("preview count: %q", got)
	}
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-list`))); !strings.Contains(got, "Export <b>as</b> PDF") {
		t.Errorf("preview list shows %q; titles must appear as text", got)
	}
	browsertest.Screenshot(t, ann, "import-preview.png")

	browsertest.Do(t, ann, chromedp.Click(sel(`#import-all`)))
	browsertest.Until(t, ann, "the import to finish", `document.querySelector("#import-status").textContent === "Imported from GitHub: 2 new stories, 0 stories updated."`)
	browsertest.Until(t, ann, "the stories", `document.querySelectorAll("#stories .story").length === 2`)

	// A bad query says what is wrong.
	browsertest.Do(t, ann,
		chromedp.SetValue(sel(`#import-query`), "acme api"),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-error`)),
	)
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-error`))); !strings.Contains(got, "OWNER/REPO") {
		t.Errorf("bad query error: %q", got)
	}

	// The session's connection: the token is saved, never shown again, and tested.
	const roomToken = "ghp_browserT0ken00000000000000000000000"
	browsertest.Do(t, ann,
		chromedp.Click(sel(`#connection-box summary`)),
		chromedp.WaitVisible(sel(`#connection-fields input[data-cred=token]`)),
		chromedp.SendKeys(sel(`#connection-fields input[data-cred=token]`), roomToken),
		chromedp.SetValue(sel(`#connection-fields select[data-opt=mode]`), "label+comment"),
		chromedp.Click(sel(`#connection-save`)),
	)
	browsertest.Until(t, ann, "the saved connection", `document.querySelector("#connection-state").textContent.includes("token set")`)
	if v := browsertest.Get(t, ann, chromedp.Evaluate[string](`document.querySelector("#connection-fields input[data-cred=token]").value`)); v != "" {
		t.Errorf("the token input still holds %q after saving", v)
	}
	browsertest.Do(t, ann,
		chromedp.SendKeys(sel(`#connection-target`), "acme/api"),
		chromedp.Click(sel(`#connection-test`)),
	)
	browsertest.Until(t, ann, "the check", `document.querySelector("#connection-facts").textContent.includes("✓ Works as octocat")`)
	if html := browsertest.Get(t, ann, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, roomToken) {
		t.Error("the page holds the token")
	}
	browsertest.Screenshot(t, ann, "import-connection.png")

	// Estimate the first story: the room shows the write-back as synced.
	browsertest.CloseImportAndAccept(t, ann, "5")
	browsertest.Until(t, ann, "the first story to be synced", `[...document.querySelectorAll("#stories .sync.synced")].length === 1`)
	gh.do(func() {
		if len(gh.issues[1].Labels) != 2 || len(gh.issues[1].Comments) != 1 {
			t.Errorf("issue 1 on GitHub: %+v", gh.issues[1])
		}
	})

	// The second issue was deleted meanwhile: the failure shows its reason and a retry button.
	gh.do(func() { delete(gh.issues, 2) })
	browsertest.Do(t, ann,
		chromedp.WaitVisible(sel(`#cards .card[data-card="3"]`)),
		chromedp.Click(sel(`#cards .card[data-card="3"]`)),
		chromedp.WaitVisible(sel(`#cards .card.selected`)),
		chromedp.Click(sel(`#reveal`)),
		chromedp.WaitVisible(sel(`#accept button[type=submit]`)),
		chromedp.Click(sel(`#accept button[type=submit]`)),
	)
	// Accepting the last open story keeps it current, so its sync state is shown below it.
	browsertest.Until(t, ann, "the failure", `(document.querySelector("#sync-status.failed") || {}).textContent?.includes("acme/api#2 was not found")`)
	browsertest.Screenshot(t, ann, "sync-failed.png")
	gh.addIssue(2, "Export as PDF", "", "ready")
	browsertest.Do(t, ann, chromedp.Click(sel(`#sync-status button`)))
	browsertest.Until(t, ann, "the retried write-back", `document.querySelector("#sync-status.synced") !== null`)

	// CSV upload.
	file := filepath.Join(t.TempDir(), "backlog.csv")
	if err := os.WriteFile(file, []byte("title,key,Custom field (Story Points)\nWrite docs,DOC-1,8\nShip it,DOC-2,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, ann,
		chromedp.Click(sel(`#open-import`)),
		chromedp.WaitVisible(sel(`#import-source`)),
	)
	browsertest.Get(t, ann, chromedp.Evaluate[bool](`(() => { const s = document.querySelector("#import-source"); s.value = "csv"; s.dispatchEvent(new Event("change")); return true; })()`))
	browsertest.Do(t, ann,
		chromedp.WaitVisible(sel(`#import-file`)),
		chromedp.SetUploadFiles(sel(`#import-file`), []string{file}),
		chromedp.Click(sel(`#import-file-go`)),
	)
	browsertest.Until(t, ann, "the CSV import", `document.querySelector("#import-status").textContent === "Imported from backlog.csv: 2 new stories, 0 stories updated."`)
	browsertest.Until(t, ann, "four stories", `document.querySelectorAll("#stories .story").length === 4`)

	// The CSV's estimate is the story's imported estimate: shown, not accepted, not written.
	browsertest.Do(t, ann, chromedp.Click(sel(`#import-close`)))
	browsertest.Get(t, ann, chromedp.Evaluate[bool](`(() => { [...document.querySelectorAll("#stories .story")].find((e) => e.textContent.includes("Write docs")).querySelector(".st-title").click(); return true; })()`))
	browsertest.Until(t, ann, "the imported estimate", `(document.querySelector("#sync-status") || {}).textContent?.includes("Imported estimate: 8 (from CSV")`)
	if got := browsertest.Get(t, ann, chromedp.Evaluate[string](`[...document.querySelectorAll("#stories .story")].find((e) => e.textContent.includes("Write docs")).querySelector(".est").textContent`)); got != "(8)" {
		t.Errorf("the story list shows %q for the imported estimate, want (8)", got)
	}
	browsertest.Screenshot(t, ann, "imported-estimate.png")
}
