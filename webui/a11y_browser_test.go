package webui

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/webui/browsertest"
)

// TestAccessibility runs axe-core on the landing page, an error page, the join page and the
// room (in English and in German), in light and dark mode, and fails on every serious or
// critical violation.
func TestAccessibility(t *testing.T) {
	exe := browsertest.Chromium(t)
	axe := browsertest.AxeSource(t)
	ts := newTestServer(t, "")
	ann, bob := browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 1280, 900)

	browsertest.Do(t, ann,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.WaitVisible(css(`#create`)),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	roomURL := browsertest.Get(t, ann, chromedp.Location())
	browsertest.Do(t, bob, chromedp.Navigate(roomURL), chromedp.WaitVisible(css(`#join-form input[name=name]`)))

	for _, scheme := range []string{"light", "dark"} {
		browsertest.Do(t, ann, browsertest.ColorScheme(scheme))
		browsertest.Do(t, bob, browsertest.ColorScheme(scheme))
		browsertest.Axe(t, ann, axe, "the room ("+scheme+")")
		browsertest.Axe(t, bob, axe, "the join page ("+scheme+")")
	}
	// The same pages in German, as the language menu leaves them (the pokor_lang cookie): longer
	// words, other labels, lang="de".
	for _, p := range []struct {
		ctx   context.Context
		ready string
	}{{ann, `#cards .card`}, {bob, `#join-form input[name=name]`}} {
		browsertest.Get(t, p.ctx, chromedp.Evaluate[bool](`document.cookie = "pokor_lang=de; path=/"; true`))
		browsertest.Do(t, p.ctx, chromedp.Reload(), chromedp.WaitVisible(css(p.ready)))
		if lang := browsertest.Get(t, p.ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "de" {
			t.Fatalf("after picking German the page is in %q", lang)
		}
	}
	for _, scheme := range []string{"light", "dark"} {
		browsertest.Do(t, ann, browsertest.ColorScheme(scheme))
		browsertest.Do(t, bob, browsertest.ColorScheme(scheme))
		browsertest.Axe(t, ann, axe, "the German room ("+scheme+")")
		browsertest.Axe(t, bob, axe, "the German join page ("+scheme+")")
	}
	for _, page := range []struct{ name, path string }{{"the landing page", "/"}, {"an error page", "/s/nosuchsession"}} {
		browsertest.Do(t, bob, chromedp.Navigate(ts.http.URL+page.path), chromedp.WaitVisible(css(`main`)))
		for _, scheme := range []string{"light", "dark"} {
			browsertest.Do(t, bob, browsertest.ColorScheme(scheme))
			browsertest.Axe(t, bob, axe, page.name+" ("+scheme+")")
		}
	}
}

// TestBrowserAnnouncements: the core loop by keyboard alone, with what a screen reader hears
// from the live region: Bob joins with Enter and votes with a key, Ann hears "Bob voted",
// reveals with Enter on the focused button, and both hear the results.
func TestBrowserAnnouncements(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	ann, bob := browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 1280, 900)
	browsertest.Do(t, ann,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann\r"),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\r"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	roomURL := browsertest.Get(t, ann, chromedp.Location())
	browsertest.Do(t, bob,
		chromedp.Navigate(roomURL),
		chromedp.WaitVisible(css(`#join-form input[name=name]`)),
		chromedp.SendKeys(css(`#join-form input[name=name]`), "Bob\r"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	browsertest.Do(t, ann, chromedp.WaitVisible(css(`#people li:nth-child(2)`)))
	browsertest.Do(t, bob, chromedp.KeyEvent("3"), chromedp.WaitVisible(css(`#cards .card.selected`)))
	card := browsertest.Get(t, bob, chromedp.AttributeValue(css(`#cards .card.selected`), "data-card")).Value
	browsertest.Until(t, ann, "Ann hears that Bob voted", `document.getElementById("announcer").textContent.includes("Bob voted")`)

	browsertest.Do(t, ann, chromedp.Focus(css(`#reveal`)), chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`#results`)))
	want := "Votes revealed for Login page: 1 × " + card + "."
	for name, p := range map[string]context.Context{"Ann": ann, "Bob": bob} {
		browsertest.Until(t, p, name+" hears the results", `document.getElementById("announcer").textContent.includes(`+strconv.Quote(want)+`)`)
	}
	if got := browsertest.Get(t, bob, chromedp.Text(css(`#announcer`))); strings.Contains(got, "Bob voted") {
		t.Errorf("Bob is told about his own vote: %q", got)
	}
}
