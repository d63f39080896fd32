package webui

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserFacilitator runs a meeting's edges: the join page focuses the name; a second "Bob"
// is told he joined as "Bob (2)"; with approval on, the organizer gets a toast and a count in the
// tab title, and the waiting joiner sees no control he may not use; stories are edited in place
// with a multi-line description; async mode explains itself and shows voted/voters per story; the
// story list adds up the accepted points; an ended session shows its final state.
func TestBrowserFacilitator(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	r := openRoom(t, ts, exe, 1280, 900, nil, "Login page", "Sign-up form")
	ann, bob, cat := r.ann, r.bob, r.cat

	// Controls a voter may not use are not there.
	for _, sel := range []string{"#open-settings", "#open-import", "#add-story", "#reveal", "#timer-form", ".story .tools"} {
		if js[bool](t, bob, `(() => { const e = document.querySelector("`+sel+`"); return !!e && e.offsetParent !== null; })()`) {
			t.Errorf("Bob, a voter, sees %s", sel)
		}
	}

	// A newcomer: the name field has the focus; a taken name is made distinct, and said so.
	dan := startBrowser(t, exe, "Dan", 1280, 900)
	browsertest.Do(t, dan.ctx, chromedp.Navigate(r.url), chromedp.WaitVisible(css(`#join-form input[name=name]`)))
	until(t, dan, "the focus on the name", `document.activeElement === document.querySelector("#join-name")`)
	browsertest.Do(t, dan.ctx, chromedp.SendKeys(css(`#join-name`), "bob\n"), chromedp.WaitVisible(css(`#room`)))
	until(t, dan, "the new name told", `[...document.querySelectorAll("#toasts .toast")].some(e => e.textContent.includes("already called bob: you joined as bob (2)"))`)
	until(t, ann, "bob (2) in the list", `[...document.querySelectorAll("#people .p-name")].some(e => e.textContent === "bob (2)")`)

	// Approval: Ann turns it on; Eve asks to join.
	js[bool](t, ann, `(() => { document.querySelector("#open-settings").click(); const f = document.querySelector("#settings-form"); f.require_approval.checked = true; document.querySelector("#settings-save").click(); return true; })()`)
	until(t, ann, "approval on", `Pokor.state.snap.session.settings.require_approval === true`)
	eve := startBrowser(t, exe, "Eve", 1280, 900)
	browsertest.Do(t, eve.ctx, chromedp.Navigate(r.url), chromedp.WaitVisible(css(`#join-name`)),
		chromedp.SendKeys(css(`#join-name`), "Eve\n"), chromedp.WaitVisible(css(`#waiting`)))
	for _, sel := range []string{"#export-menu", "#copy-link", "#open-settings", "#room"} {
		if js[bool](t, eve, `(() => { const e = document.querySelector("`+sel+`"); return !!e && e.offsetParent !== null; })()`) {
			t.Errorf("Eve, waiting for approval, sees %s", sel)
		}
	}
	until(t, ann, "the join request toast", `[...document.querySelectorAll("#toasts .join-request")].some(e => e.textContent.startsWith("Eve asks to join"))`)
	until(t, ann, "the count in the tab title", `document.title === "(1) Sprint 42 · Pokor"`)
	if title := js[string](t, bob, `document.title`); title != "Sprint 42 · Pokor" {
		t.Errorf("Bob's tab title: %q", title)
	}
	browsertest.Screenshot(t, ann.ctx, "room-join-request.png")
	js[bool](t, ann, `(() => { [...document.querySelectorAll("#toasts .join-request button")].find(b => b.textContent === "Admit").click(); return true; })()`)
	until(t, eve, "the room after admission", `!document.querySelector("#room").hidden && !!document.querySelector("#cards .card")`)
	until(t, ann, "the title without requests", `document.title === "Sprint 42 · Pokor"`)

	// Editing a story in place, with a description of several lines.
	browsertest.Do(t, ann.ctx, chromedp.Click(css(`#stories .story:first-child button[aria-label^="Edit story"]`)), chromedp.WaitVisible(css(`#stories .story-edit textarea`)))
	until(t, ann, "the focus at the end of the title", `(() => { const i = document.querySelector("#stories .story-edit input[name=title]");
		return document.activeElement === i && i.selectionStart === i.value.length; })()`)
	browsertest.Do(t, ann.ctx,
		chromedp.KeyEvent(" (SSO)"),
		chromedp.SendKeys(css(`#stories .story-edit textarea`), "As a user\nI log in with SSO"),
	)
	// A vote elsewhere re-renders the list: the form and what is typed in it stay.
	browsertest.Do(t, bob.ctx, chromedp.Click(css(`#cards .card[data-card="3"]`)))
	until(t, ann, "Bob's vote", `document.querySelectorAll("#people .p-voted").length === 1`)
	browsertest.Do(t, ann.ctx, chromedp.Click(css(`#stories .story-edit button[type=submit]`)))
	for _, b := range []browser{ann, cat} {
		until(t, b, "the edited story", `document.querySelector("#story-title").textContent === "Login page (SSO)" && document.querySelector("#story-desc").textContent === "As a user\nI log in with SSO"`)
	}

	// Accepting two stories: the list adds up their points.
	accept := func(value string) {
		t.Helper()
		for _, b := range []browser{ann, cat} {
			if js[bool](t, b, `!document.querySelector("#cards .card.selected")`) {
				browsertest.Do(t, b.ctx, chromedp.Click(css(`#cards .card[data-card="`+value+`"]`)), chromedp.WaitVisible(css(`#cards .card.selected`)))
			}
		}
		until(t, ann, "the votes", `document.querySelectorAll("#poker-table .seat.voted").length >= 2 && !document.querySelector("#reveal").disabled`)
		browsertest.Do(t, ann.ctx, chromedp.Click(css(`#reveal`)), chromedp.WaitVisible(css(`#accept`)),
			chromedp.SetValue(css(`#accept-value`), value), chromedp.Click(css(`#accept button[type=submit]`)))
	}
	accept("3")
	until(t, ann, "the next story", `document.querySelector("#story-title").textContent === "Sign-up form"`)
	accept("5")
	for _, b := range []browser{ann, bob} {
		until(t, b, "the total", `document.querySelector("#story-total").textContent === "8 points" && !document.querySelector("#story-total").hidden`)
	}

	// Async mode: a line says how it works; each story shows voted / voters.
	browsertest.Do(t, ann.ctx, chromedp.SendKeys(css(`#add-story input[name=title]`), "Password reset\n"))
	until(t, ann, "the third story", `document.querySelectorAll("#stories .story").length === 3`)
	js[bool](t, ann, `(() => { document.querySelector("#open-settings").click(); const f = document.querySelector("#settings-form"); f.async.checked = true; document.querySelector("#settings-save").click(); return true; })()`)
	for _, b := range []browser{ann, bob} {
		until(t, b, "the async note and progress", `!document.querySelector("#async-note").hidden && [...document.querySelectorAll("#stories .progress")].map(e => e.textContent).join() === "0/5 voted"`)
	}
	browsertest.Do(t, bob.ctx, chromedp.Click(css(`#stories .story:nth-child(3) .st-title`)), chromedp.WaitVisible(css(`#cards .card`)),
		chromedp.Click(css(`#cards .card[data-card="8"]`)))
	until(t, ann, "Bob's async vote counted", `document.querySelector("#stories .story:nth-child(3) .progress").textContent === "1/5 voted"`)
	browsertest.Screenshot(t, ann.ctx, "room-async.png")

	// The end: a clear final state for everyone, with nothing left to press.
	js[bool](t, ann, `(() => { window.confirm = () => true; document.querySelector("#open-settings").click(); document.querySelector("#end-session").click(); return true; })()`)
	for _, b := range []browser{ann, bob, eve} {
		until(t, b, "the final state", `!document.querySelector("#ended").hidden && document.body.classList.contains("session-ended")`)
		if got := js[string](t, b, `document.querySelector("#ended-summary").textContent`); got != "2 of 3 stories estimated, 8 points in all." {
			t.Errorf("%s's summary: %q", b.name, got)
		}
		for _, sel := range []string{"#vote-area", ".controls", "#waiting-for", "#timer", "#open-settings", "#add-story", "#copy-link", "#people .p-voted"} {
			if js[bool](t, b, `[...document.querySelectorAll("`+sel+`")].some(e => e.offsetParent !== null)`) {
				t.Errorf("%s still sees %s in an ended session", b.name, sel)
			}
		}
		if badge := js[string](t, b, `document.querySelector("#story-round").textContent`); strings.Contains(badge, "voting") {
			t.Errorf("%s's badge says %q in an ended session", b.name, badge)
		}
	}
	browsertest.Screenshot(t, ann.ctx, "room-ended.png")
}
