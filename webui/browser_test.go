package webui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pokor/pokor/webui/browsertest"
)

type css = browsertest.CSS

// TestBrowserEstimation: three people create, join, vote, reveal and accept in real Chromium.
// The screenshot of the revealed room is saved in $POKOR_ARTIFACTS (default: artifacts/).
func TestBrowserEstimation(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	ann, bob, cat := browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 1280, 900)
	for name, b := range map[string]context.Context{"Ann": ann, "Bob": bob, "Cat": cat} {
		watchConsole(t, browser{name: name, ctx: b})
	}

	// Ann creates the session from the landing page and adds a story.
	browsertest.Do(t, ann,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint <42> & co"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	roomURL := browsertest.Get(t, ann, chromedp.Location())
	if title := browsertest.Get(t, ann, chromedp.Text(css(`#title`))); title != "Sprint <42> & co" {
		t.Fatalf("title shown as %q", title)
	}

	// Bob and Cat join from the room link.
	for _, p := range []struct {
		name string
		ctx  context.Context
	}{{"Bob", bob}, {"Cat", cat}} {
		browsertest.Do(t, p.ctx,
			chromedp.Navigate(roomURL),
			chromedp.WaitVisible(css(`#join-form input[name=name]`)),
			chromedp.SendKeys(css(`#join-form input[name=name]`), p.name),
			chromedp.Click(css(`#join-form button[type=submit]`)),
			chromedp.WaitVisible(css(`#cards .card`)),
		)
	}
	browsertest.Do(t, ann, chromedp.WaitVisible(css(`#people li:nth-child(3)`)))

	// Ann clicks 5; Bob presses 8 (the key is the value); Cat votes 5 with a rationale.
	browsertest.Do(t, ann, chromedp.Click(css(`#cards .card[data-card="5"]`)), chromedp.WaitVisible(css(`#cards .card.selected`)))
	browsertest.Do(t, bob, chromedp.KeyEvent("8"), chromedp.WaitVisible(css(`#cards .card.selected[data-card="8"]`)))
	browsertest.Do(t, cat,
		chromedp.SetValue(css(`#confidence`), "high"),
		chromedp.SendKeys(css(`#rationale`), "same as the signup page"),
		chromedp.Click(css(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(css(`#cards .card.selected`)))

	// Ann sees that everyone has voted, but not what; then reveals.
	browsertest.Do(t, ann, chromedp.WaitVisible(css(`#people li:nth-child(3) .p-voted`)), chromedp.WaitVisible(css(`#people li:nth-child(2) .p-voted`)))
	if before := browsertest.Get(t, ann, chromedp.TextContent(css(`#current`))); strings.Contains(before, "same as the signup page") {
		t.Fatal("a rationale is shown before reveal")
	}
	browsertest.Do(t, ann, chromedp.Click(css(`#reveal`)), chromedp.WaitVisible(css(`#results`)))
	for _, p := range []context.Context{bob, cat} {
		browsertest.Do(t, p, chromedp.WaitVisible(css(`#results #chart .row`)))
	}
	stats := browsertest.Get(t, ann, chromedp.Text(css(`#stats`)))
	votes := browsertest.Get(t, ann, chromedp.Text(css(`#votes`)))
	if !strings.Contains(stats, "Average") || !strings.Contains(stats, "6") || !strings.Contains(votes, "same as the signup page") || !strings.Contains(votes, "Bob") {
		t.Fatalf("results: stats %q votes %q", stats, votes)
	}
	if suggestion := browsertest.Get(t, ann, chromedp.Value(css(`#accept-value`))); suggestion != "5" {
		t.Fatalf("suggested estimate %q, want 5 (the most common card)", suggestion)
	}
	browsertest.Screenshot(t, ann, "revealed-room.png")

	// Ann accepts; every stories list shows the estimate.
	browsertest.Do(t, ann, chromedp.Click(css(`#accept button[type=submit]`)))
	for name, p := range map[string]context.Context{"Ann": ann, "Bob": bob, "Cat": cat} {
		ok := browsertest.Get(t, p, chromedp.Poll[bool](`(document.querySelector("#stories .story .est") || {}).textContent === "5"`, chromedp.WithPollingTimeout(20*time.Second)))
		if !ok {
			t.Fatalf("%s does not see the estimate", name)
		}
	}

	// The CSV export linked from the room has the estimate and the votes.
	csv := browsertest.Get(t, ann, chromedp.Evaluate[string](`fetch(document.querySelector("#export-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if !strings.Contains(csv, "Login page,,,5,estimated,1,") || !strings.Contains(csv, `Cat=5 (high, ""same as the signup page"")`) {
		t.Fatalf("CSV export:\n%s", csv)
	}
}
