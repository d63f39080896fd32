package azuredevops

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/integrations/trackertest"
	"github.com/pokor/pokor/webui/browsertest"
)

type sel = browsertest.CSS

// TestBrowserImportFromAzure drives the room in Chromium: an organizer imports a sprint by its
// iteration path (quotes and a backslash typed in the dialog), tests the connection, which names
// the field per work item type, and estimates: the work item's Story Points hold the value.
func TestBrowserImportFromAzure(t *testing.T) {
	exe := browsertest.Chromium(t)
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Agile")
	f.addItem(1, "Fabrikam", "User Story", "Sign in with SSO", "New", "Fabrikam", `Fabrikam\Sprint 42`, nil)
	f.addItem(2, "Fabrikam", "User Story", "Export as PDF", "Active", "Fabrikam", `Fabrikam\Sprint 42`, nil)
	f.addItem(3, "Fabrikam", "User Story", "Later", "New", "Fabrikam", `Fabrikam\Sprint 43`, nil)
	srv := trackertest.Serve(t, f.wired())
	ann := browsertest.Start(t, exe, 1280, 1000)
	trackertest.OpenImport(t, ann, srv.HTTP.URL)
	browsertest.Do(t, ann,
		chromedp.SendKeys(sel(`#import-query`), `iteration:"Fabrikam\Sprint 42"`),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-list li:nth-child(2)`)),
	)
	if got := browsertest.Get(t, ann, chromedp.Text(sel(`#import-count`))); got != "2 stories match." {
		t.Errorf("preview count: %q", got)
	}
	browsertest.Do(t, ann, chromedp.Click(sel(`#import-all`)))
	browsertest.Until(t, ann, "the import to finish", `document.querySelector("#import-status").textContent === "Imported from Azure DevOps: 2 new stories, 0 stories updated."`)

	browsertest.Do(t, ann,
		chromedp.Click(sel(`#connection-box summary`)),
		chromedp.WaitVisible(sel(`#connection-fields input[data-cred=org_url]`)),
		chromedp.SendKeys(sel(`#connection-target`), "Fabrikam"),
		chromedp.Click(sel(`#connection-test`)),
	)
	browsertest.Until(t, ann, "the check", `document.querySelector("#connection-facts").textContent.includes("User Story: Pokor writes Story Points (Microsoft.VSTS.Scheduling.StoryPoints)")`)
	browsertest.Screenshot(t, ann, "azure-connection.png")

	browsertest.CloseImportAndAccept(t, ann, "8")
	browsertest.Until(t, ann, "the story to be synced", `[...document.querySelectorAll("#stories .sync.synced")].length === 1`)
	if got := f.field(1, FieldStoryPoints); got != 8.0 {
		t.Errorf("work item 1 Story Points = %v, want 8", got)
	}
}
