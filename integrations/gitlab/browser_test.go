package gitlab

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/integrations/trackertest"
	"github.com/pokor/pokor/webui/browsertest"
)

type sel = browsertest.CSS

// TestBrowserImportFromGitLab drives the room in Chromium: an organizer picks GitLab in the
// Import dialog (its query help, connection fields and options come from the descriptor),
// imports, tests the connection, estimates, and sees the label and note land on GitLab.
func TestBrowserImportFromGitLab(t *testing.T) {
	exe := browsertest.Chromium(t)
	f := newFakeGitLab(t, false)
	p := f.addProject("acme/api", 3)
	p.issues[0].labels = []string{"ready"}
	p.issues[2].labels = []string{"ready", "estimate::2"}
	srv := trackertest.Serve(t, f.wired())
	ann := browsertest.Start(t, exe, 1280, 1000)
	trackertest.OpenImport(t, ann, srv.HTTP.URL)
	if src := browsertest.Get(t, ann, chromedp.Evaluate[string](`document.querySelector("#import-source").value`)); src != "gitlab" {
		t.Fatalf("the import source is %q", src)
	}
	browsertest.Do(t, ann,
		chromedp.SendKeys(sel(`#import-query`), "acme/api label:ready"),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-list li:nth-child(2)`)),
	)
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-count`))); got != "2 stories match." {
		t.Errorf("preview count: %q", got)
	}
	browsertest.Do(t, ann, chromedp.Click(sel(`#import-all`)))
	browsertest.Until(t, ann, "the import to finish", `document.querySelector("#import-status").textContent === "Imported from GitLab: 2 new stories, 0 stories updated."`)
	browsertest.Screenshot(t, ann, "gitlab-import.png")

	// The connection form is GitLab's: instance, token, and the write-back choices.
	browsertest.Do(t, ann,
		chromedp.Click(sel(`#connection-box summary`)),
		chromedp.WaitVisible(sel(`#connection-fields input[data-cred=token]`)),
		chromedp.WaitVisible(sel(`#connection-fields input[data-cred=base_url]`)),
		chromedp.SetValue(sel(`#connection-fields select[data-opt=mode]`), ModeLabelNote),
		chromedp.Click(sel(`#connection-save`)),
	)
	browsertest.Until(t, ann, "the saved options", `document.querySelector("#connection-state").textContent !== ""`)
	browsertest.Do(t, ann,
		chromedp.SendKeys(sel(`#connection-target`), "acme/api"),
		chromedp.Click(sel(`#connection-test`)),
	)
	browsertest.Until(t, ann, "the check", `document.querySelector("#connection-facts").textContent.includes("mode auto writes the label estimate::N")`)
	browsertest.Screenshot(t, ann, "gitlab-connection.png")

	browsertest.CloseImportAndAccept(t, ann, "5")
	browsertest.Until(t, ann, "the story to be synced", `[...document.querySelectorAll("#stories .sync.synced")].length === 1`)
	is := f.issueOf("acme/api", 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Join(is.labels, ",") != "estimate::5,ready" || len(is.notes) != 1 || !strings.Contains(is.notes[0].body, "**Estimate: 5**") {
		t.Errorf("issue 1 on GitLab: labels %v, notes %+v", is.labels, is.notes)
	}
}
