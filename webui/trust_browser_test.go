package webui

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserTrust, in real Chromium: the creator of a web session finds its organizer link in the
// room with what it is for, opens it in a second browser and is the same organizer there; a
// participant who is removed sees why, from the close frame, and the page stops reconnecting.
func TestBrowserTrust(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	ann, phone, bob := browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 390, 844), browsertest.Start(t, exe, 1280, 900)

	browsertest.Do(t, ann,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Trust"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#organizer-link`)),
	)
	if what := browsertest.Get(t, ann, chromedp.Text(css(`#organizer-link-what`))); !strings.Contains(what, "another device") {
		t.Errorf("the organizer link box says %q", what)
	}
	if box := browsertest.Get(t, ann, chromedp.Text(css(`#organizer-link`))); strings.Contains(box, "/enter?t=") {
		t.Error("the organizer link is on screen before anyone asked to copy it")
	}
	browsertest.Do(t, ann, chromedp.Click(css(`#organizer-link-copy`)))
	browsertest.Until(t, ann, "the copy to be confirmed", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.toLowerCase().includes("organizer link"))`)
	browsertest.Screenshot(t, ann, "organizer-link.png")
	link := browsertest.Get(t, ann, chromedp.Evaluate[string](`window.Pokor.state.snap.organizer_url`))
	roomURL := browsertest.Get(t, ann, chromedp.Location())

	// Ann's phone opens the link: it is Ann, the organizer, in the room at once.
	browsertest.Do(t, phone,
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
	)
	if loc := browsertest.Get(t, phone, chromedp.Location()); loc != roomURL {
		t.Errorf("the organizer link left the phone at %s, want the clean room URL %s", loc, roomURL)
	}
	if me := browsertest.Get(t, phone, chromedp.Text(css(`#people .me .p-name`))); me != "Ann (you)" {
		t.Errorf("the phone is %q", me)
	}

	// Bob joins; the organizer (on her phone) removes him: his page says why and stays put.
	browsertest.Do(t, bob,
		chromedp.Navigate(roomURL),
		chromedp.WaitVisible(css(`#join-form input[name=name]`)),
		chromedp.SendKeys(css(`#join-form input[name=name]`), "Bob"),
		chromedp.Click(css(`#join-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#people .me`)),
	)
	browsertest.Until(t, phone, "Bob to appear", `[...document.querySelectorAll("#people .p-name")].some(n => n.textContent === "Bob")`)

	// Ann lets everyone reveal, from the settings dialog; Bob votes and reveals himself.
	browsertest.Do(t, phone,
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"),
		chromedp.WaitVisible(css(`#cards .card`)))
	browsertest.Do(t, ann,
		chromedp.Click(css(`#open-settings`)),
		chromedp.WaitVisible(css(`#anonymous-hint`)),
	)
	if hint := browsertest.Get(t, ann, chromedp.Text(css(`#anonymous-hint`))); !strings.Contains(hint, "from now on") {
		t.Errorf("the anonymity hint says %q", hint)
	}
	browsertest.Do(t, ann,
		chromedp.SetValue(css(`#settings-form select[name=reveal]`), "everyone"),
		chromedp.Click(css(`#settings-save`)),
	)
	browsertest.Do(t, bob,
		chromedp.WaitVisible(css(`#cards .card`)),
		chromedp.Click(css(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(css(`#reveal-everyone:not([disabled])`)),
		chromedp.Click(css(`#reveal-everyone`)),
		chromedp.WaitVisible(css(`#results #chart .row`)),
	)
	browsertest.Do(t, phone, chromedp.WaitVisible(css(`#results #chart .row`)))
	browsertest.Get(t, phone, chromedp.Evaluate[any](`(() => { const p = window.Pokor.state.snap.participants.find(p => p.name === "Bob"); return window.Pokor.call("remove_participant", {participant_id: p.id}); })()`, chromedp.EvalAwaitPromise))
	browsertest.Until(t, bob, "the removal to show", `!document.getElementById("ended").hidden && document.getElementById("ended-text").textContent.includes(`+quote(session.ReasonRemoved)+`)`)
	if title := browsertest.Get(t, bob, chromedp.Text(css(`#ended-title`))); title != "You were removed from this session" {
		t.Errorf("Bob's page says %q", title)
	}
	if conn := browsertest.Get(t, bob, chromedp.Text(css(`#conn`))); conn != "disconnected" {
		t.Errorf("Bob's connection shows %q, want disconnected (no reconnect)", conn)
	}
	browsertest.Screenshot(t, bob, "removed.png")
}
