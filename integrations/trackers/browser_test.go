package trackers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Chromium; outside CI the browser test skips without it, in CI it fails (as in
// webui's browser test).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("POKOR_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI")
	}
	t.Skip("skipping the browser test: no chromium on PATH")
	return ""
}

func startBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// until polls a JavaScript condition in the page.
func until(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if !value(t, ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

type sel = chromedp.CSS

// TestBrowserImportAndSync drives the room in Chromium: an organizer previews and imports
// GitHub issues, saves and tests a connection, estimates, watches the write-back, sees a
// failure with its reason, retries it, and uploads a CSV file.
func TestBrowserImportAndSync(t *testing.T) {
	exe := chromium(t)
	gh := newFakeGitHub(t)
	gh.addIssue(1, "Login fails", "Steps:\r\n1. log in", "ready")
	gh.addIssue(2, "Export <b>as</b> PDF", "", "ready")
	gh.addIssue(3, "Not ready", "")
	s := startAPI(t, gh.URL())
	ann := startBrowser(t, exe)

	run(t, ann,
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
	if got := value(t, ann, chromedp.Text(sel(`#import-count`))); got != "2 stories match." {
		t.Errorf("preview count: %q", got)
	}
	if got := value(t, ann, chromedp.Text(sel(`#import-list`))); !strings.Contains(got, "Export <b>as</b> PDF") {
		t.Errorf("preview list shows %q; titles must appear as text", got)
	}
	screenshotTo(t, ann, "import-preview.png")

	run(t, ann, chromedp.Click(sel(`#import-all`)))
	until(t, ann, "the import to finish", `document.querySelector("#import-status").textContent === "imported 2 new and updated 0 stories from github"`)
	until(t, ann, "the stories", `document.querySelectorAll("#stories .story").length === 2`)

	// A bad query says what is wrong.
	run(t, ann,
		chromedp.SetValue(sel(`#import-query`), "acme api"),
		chromedp.Click(sel(`#import-preview`)),
		chromedp.WaitVisible(sel(`#import-error`)),
	)
	if got := value(t, ann, chromedp.Text(sel(`#import-error`))); !strings.Contains(got, "OWNER/REPO") {
		t.Errorf("bad query error: %q", got)
	}

	// The session's connection: the token is saved, never shown again, and tested.
	const roomToken = "ghp_browserT0ken00000000000000000000000"
	run(t, ann,
		chromedp.Click(sel(`#connection-box summary`)),
		chromedp.WaitVisible(sel(`#connection-fields input[data-cred=token]`)),
		chromedp.SendKeys(sel(`#connection-fields input[data-cred=token]`), roomToken),
		chromedp.SetValue(sel(`#connection-fields select[data-opt=mode]`), "label+comment"),
		chromedp.Click(sel(`#connection-save`)),
	)
	until(t, ann, "the saved connection", `document.querySelector("#connection-state").textContent.includes("token set")`)
	if v := value(t, ann, chromedp.Evaluate[string](`document.querySelector("#connection-fields input[data-cred=token]").value`)); v != "" {
		t.Errorf("the token input still holds %q after saving", v)
	}
	run(t, ann,
		chromedp.SendKeys(sel(`#connection-target`), "acme/api"),
		chromedp.Click(sel(`#connection-test`)),
	)
	until(t, ann, "the check", `document.querySelector("#connection-facts").textContent.includes("✓ Works as octocat")`)
	if html := value(t, ann, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, roomToken) {
		t.Error("the page holds the token")
	}
	screenshotTo(t, ann, "import-connection.png")

	// Estimate the first story: the room shows the write-back as synced.
	run(t, ann,
		chromedp.Click(sel(`#import-close`)),
		chromedp.Click(sel(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(sel(`#cards .card.selected`)),
		chromedp.Click(sel(`#reveal`)),
		chromedp.WaitVisible(sel(`#accept button[type=submit]`)),
		chromedp.Click(sel(`#accept button[type=submit]`)),
	)
	until(t, ann, "the first story to be synced", `[...document.querySelectorAll("#stories .sync.synced")].length === 1`)
	gh.do(func() {
		if len(gh.issues[1].Labels) != 2 || len(gh.issues[1].Comments) != 1 {
			t.Errorf("issue 1 on GitHub: %+v", gh.issues[1])
		}
	})

	// The second issue was deleted meanwhile: the failure shows its reason and a retry button.
	gh.do(func() { delete(gh.issues, 2) })
	run(t, ann,
		chromedp.WaitVisible(sel(`#cards .card[data-card="3"]`)),
		chromedp.Click(sel(`#cards .card[data-card="3"]`)),
		chromedp.WaitVisible(sel(`#cards .card.selected`)),
		chromedp.Click(sel(`#reveal`)),
		chromedp.WaitVisible(sel(`#accept button[type=submit]`)),
		chromedp.Click(sel(`#accept button[type=submit]`)),
	)
	// Accepting the last open story keeps it current, so its sync state is shown below it.
	until(t, ann, "the failure", `(document.querySelector("#sync-status.failed") || {}).textContent?.includes("acme/api#2 was not found")`)
	screenshotTo(t, ann, "sync-failed.png")
	gh.addIssue(2, "Export as PDF", "", "ready")
	run(t, ann, chromedp.Click(sel(`#sync-status button`)))
	until(t, ann, "the retried write-back", `document.querySelector("#sync-status.synced") !== null`)

	// CSV upload.
	file := filepath.Join(t.TempDir(), "backlog.csv")
	if err := os.WriteFile(file, []byte("title,key\nWrite docs,DOC-1\nShip it,DOC-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, ann,
		chromedp.Click(sel(`#open-import`)),
		chromedp.WaitVisible(sel(`#import-source`)),
	)
	value(t, ann, chromedp.Evaluate[bool](`(() => { const s = document.querySelector("#import-source"); s.value = "csv"; s.dispatchEvent(new Event("change")); return true; })()`))
	run(t, ann,
		chromedp.WaitVisible(sel(`#import-file`)),
		chromedp.SetUploadFiles(sel(`#import-file`), []string{file}),
		chromedp.Click(sel(`#import-file-go`)),
	)
	until(t, ann, "the CSV import", `document.querySelector("#import-status").textContent === "Imported 2 new and updated 0 stories from backlog.csv."`)
	until(t, ann, "four stories", `document.querySelectorAll("#stories .story").length === 4`)
}

func screenshotTo(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("POKOR_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := value(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
