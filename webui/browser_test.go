package webui

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

// chromium finds Debian's Chromium. Outside CI the browser test skips when it is missing; in CI
// (CI=true) it fails, because .ci/run installs Chromium.
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
		t.Fatal("Chromium is required in CI: .ci/run installs Debian's chromium package")
	}
	t.Skip("skipping the browser test: no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// browser starts one headless Chromium with its own profile, so each participant has its own
// cookies, as three people on three machines would.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// The first Do starts the browser and binds it to this context, which has no timeout;
	// each later step gets its own deadline in do.
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// do runs steps in a browser with a generous deadline (a real browser on a busy machine).
func do(t *testing.T, who string, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type css = chromedp.CSS

// TestBrowserEstimation: three people create, join, vote, reveal and accept in real Chromium.
// The screenshot of the revealed room is saved in $POKOR_ARTIFACTS (default: artifacts/).
func TestBrowserEstimation(t *testing.T) {
	exe := chromium(t)
	ts := newTestServer(t, "")
	ann, bob, cat := browser(t, exe), browser(t, exe), browser(t, exe)

	// Ann creates the session from the landing page and adds a story.
	do(t, "Ann", ann,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint <42> & co"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	roomURL := get(t, ann, chromedp.Location())
	if title := get(t, ann, chromedp.Text(css(`#title`))); title != "Sprint <42> & co" {
		t.Fatalf("title shown as %q", title)
	}

	// Bob and Cat join from the room link.
	for _, p := range []struct {
		name string
		ctx  context.Context
	}{{"Bob", bob}, {"Cat", cat}} {
		do(t, p.name, p.ctx,
			chromedp.Navigate(roomURL),
			chromedp.WaitVisible(css(`#join-form input[name=name]`)),
			chromedp.SendKeys(css(`#join-form input[name=name]`), p.name),
			chromedp.Click(css(`#join-form button[type=submit]`)),
			chromedp.WaitVisible(css(`#cards .card`)),
		)
	}
	do(t, "Ann", ann, chromedp.WaitVisible(css(`#people li:nth-child(3)`)))

	// Ann clicks 5; Bob presses the key of the sixth card (8); Cat votes 5 with a rationale.
	do(t, "Ann", ann, chromedp.Click(css(`#cards .card[data-card="5"]`)), chromedp.WaitVisible(css(`#cards .card.selected`)))
	do(t, "Bob", bob, chromedp.KeyEvent("6"), chromedp.WaitVisible(css(`#cards .card.selected[data-card="8"]`)))
	do(t, "Cat", cat,
		chromedp.SetValue(css(`#confidence`), "high"),
		chromedp.SendKeys(css(`#rationale`), "same as the signup page"),
		chromedp.Click(css(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(css(`#cards .card.selected`)))

	// Ann sees that everyone has voted, but not what; then reveals.
	do(t, "Ann", ann, chromedp.WaitVisible(css(`#people li:nth-child(3) .p-voted`)), chromedp.WaitVisible(css(`#people li:nth-child(2) .p-voted`)))
	if before := get(t, ann, chromedp.TextContent(css(`#current`))); strings.Contains(before, "same as the signup page") {
		t.Fatal("a rationale is shown before reveal")
	}
	do(t, "Ann", ann, chromedp.Click(css(`#reveal`)), chromedp.WaitVisible(css(`#results`)))
	for name, p := range map[string]context.Context{"Bob": bob, "Cat": cat} {
		do(t, name, p, chromedp.WaitVisible(css(`#results #chart .row`)))
	}
	stats := get(t, ann, chromedp.Text(css(`#stats`)))
	votes := get(t, ann, chromedp.Text(css(`#votes`)))
	if !strings.Contains(stats, "Average") || !strings.Contains(stats, "6") || !strings.Contains(votes, "same as the signup page") || !strings.Contains(votes, "Bob") {
		t.Fatalf("results: stats %q votes %q", stats, votes)
	}
	if suggestion := get(t, ann, chromedp.Value(css(`#accept-value`))); suggestion != "5" {
		t.Fatalf("suggested estimate %q, want 5 (the most common card)", suggestion)
	}
	screenshot(t, ann, "revealed-room.png")

	// Ann accepts; every stories list shows the estimate.
	do(t, "Ann", ann, chromedp.Click(css(`#accept button[type=submit]`)))
	for name, p := range map[string]context.Context{"Ann": ann, "Bob": bob, "Cat": cat} {
		ok := get(t, p, chromedp.Poll[bool](`(document.querySelector("#stories .story .est") || {}).textContent === "5"`, chromedp.WithPollingTimeout(20*time.Second)))
		if !ok {
			t.Fatalf("%s does not see the estimate", name)
		}
	}

	// The CSV export linked from the room has the estimate and the votes.
	csv := get(t, ann, chromedp.Evaluate[string](`fetch(document.querySelector("#export-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if !strings.Contains(csv, "Login page,,,5,estimated,1,") || !strings.Contains(csv, `Cat=5 (high, ""same as the signup page"")`) {
		t.Fatalf("CSV export:\n%s", csv)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("POKOR_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := get(t, ctx, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
