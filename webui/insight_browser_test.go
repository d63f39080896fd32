package webui

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserInsight, in real Chromium: an organizer puts a web session in a team from the room;
// during the vote nobody sees the team's similar past stories, after the reveal everybody does;
// then the team page, on a phone in dark mode, shows the team's history with its charts. Neither
// page reports a JavaScript error.
func TestBrowserInsight(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")

	// The team's history: an earlier session with three estimated stories.
	olga := ts.newClient("Olga")
	past, ta := teamSession(t, olga, "Sprint 41", "Payments")
	estimateStory(t, olga, past, "Password reset by email", "Send a reset link to the user's email address.", "5")
	estimateStory(t, olga, past, "Export invoices as PDF", "Accounting needs monthly invoices as PDF files.", "8")
	estimateStory(t, olga, past, "Login page", "Email and password.", "3")

	// Today's session, made on the API and opened in the browser with the organizer link.
	sid := olga.create(map[string]any{"title": "Sprint 42"})
	var sts []session.Story
	olga.do("POST", "/api/v1/sessions/"+sid+"/stories", map[string]any{"title": "Reset a forgotten password", "description": "Send the user a reset link."}, &sts)
	var link struct {
		URL string `json:"organizer_url"`
	}
	olga.do("GET", "/api/v1/sessions/"+sid+"/organizer-link", nil, &link)

	org := browsertest.Start(t, exe, 1280, 900)
	phone := browsertest.Start(t, exe, 390, 844)
	orgErrs, phoneErrs := browsertest.Errors(org), browsertest.Errors(phone)

	browsertest.Do(t, org,
		chromedp.Navigate(link.URL),
		chromedp.WaitVisible(css(`#team-box input[name=team]`)),
		chromedp.SendKeys(css(`#team-box input[name=team]`), ta.Team.TeamURL+"\n"),
		chromedp.WaitVisible(css(`#team-open`)),
	)
	if box := browsertest.Get(t, org, chromedp.Text(css(`#team-box`))); !strings.Contains(box, "Payments") {
		t.Errorf("the team box says %q", box)
	}

	roomURL := ts.http.URL + "/s/" + sid
	browsertest.Do(t, phone,
		browsertest.DarkMode(),
		chromedp.Navigate(roomURL),
		chromedp.WaitVisible(css(`#join-form input[name=name]`)),
		chromedp.SendKeys(css(`#join-form input[name=name]`), "Vic"),
		chromedp.Click(css(`#join-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#cards .card`)),
		chromedp.Click(css(`#cards .card[data-card="5"]`)),
		chromedp.WaitVisible(css(`#cards .card.selected`)),
	)
	browsertest.Do(t, org, chromedp.Click(css(`#cards .card[data-card="3"]`)), chromedp.WaitVisible(css(`#cards .card.selected`)))
	browsertest.Until(t, org, "Vic's vote", `(window.Pokor.state.snap.stories[0].voters || []).length === 2`)

	// Before the reveal: nothing of the similar stories on screen or in the page's state.
	const hidden = `!document.body.innerText.includes("Password reset by email") && !JSON.stringify(window.Pokor.state.snap).includes("Password reset by email") && !document.querySelector("#similar:not([hidden])")`
	if !browsertest.Get(t, org, chromedp.Evaluate[bool](hidden)) || !browsertest.Get(t, phone, chromedp.Evaluate[bool](hidden)) {
		t.Fatal("similar stories are shown before the reveal")
	}

	browsertest.Do(t, org, chromedp.Click(css(`#reveal`)))
	browsertest.Do(t, phone, chromedp.WaitVisible(css(`#similar li`)))
	browsertest.Do(t, org, chromedp.WaitVisible(css(`#similar li`)))
	first := browsertest.Get(t, phone, chromedp.Text(css(`#similar li`)))
	if !strings.Contains(first, "Password reset by email") || !strings.Contains(first, "5") || !strings.Contains(first, "Sprint 41") {
		t.Errorf("the first similar story reads %q", first)
	}
	browsertest.Screenshot(t, phone, "similar-stories-phone.png")

	// A re-vote hides them again.
	browsertest.Do(t, org, chromedp.Click(css(`#revote`)))
	browsertest.Until(t, phone, "the suggestions to go with the re-vote", `!document.querySelector("#similar:not([hidden])")`)

	// The team page on the phone, in dark mode.
	browsertest.Do(t, phone,
		chromedp.Navigate(ta.Team.TeamURL),
		chromedp.WaitVisible(css(`svg.chart`)),
	)
	if loc := browsertest.Get(t, phone, chromedp.Location()); loc != ts.http.URL+"/t/"+ta.Team.ID {
		t.Errorf("the team link left the phone at %s", loc)
	}
	for what, expr := range map[string]string{
		"dark mode":               `matchMedia("(prefers-color-scheme: dark)").matches && getComputedStyle(document.documentElement).backgroundColor === "rgb(16, 19, 26)"`,
		"no sideways scrolling":   `document.documentElement.scrollWidth <= window.innerWidth`,
		"four charts with bars":   `document.querySelectorAll("svg.chart").length === 4 && document.querySelectorAll("svg.chart rect.bar-fill").length > 0`,
		"bars in the accent":      `getComputedStyle(document.querySelector("rect.bar-fill")).fill === "rgb(99, 102, 241)"`,
		"three estimated stories": `document.getElementById("fig-estimated").textContent === "3"`,
		"the sessions":            `document.querySelector("#sessions").innerText.includes("Sprint 41")`,
		"stylesheet for the page": `getComputedStyle(document.querySelector(".figures")).display === "grid"`,
	} {
		if !browsertest.Get(t, phone, chromedp.Evaluate[bool](expr)) {
			t.Errorf("team page: %s does not hold (%s)", what, expr)
		}
	}
	browsertest.Screenshot(t, phone, "team-page-phone-dark.png")

	// Per-voter accuracy is off until the team turns it on, from the page.
	browsertest.Do(t, phone,
		chromedp.Click(css(`#team-form input[name=voter_accuracy]`)),
		chromedp.Click(css(`#team-form button[type=submit]`)),
	)
	browsertest.Until(t, phone, "the setting to be saved", `document.querySelector("#team-form input[name=voter_accuracy]").checked && performance.getEntriesByType("navigation").length > 0`)

	for name, errs := range map[string][]string{"room (organizer)": orgErrs(), "room and team page (phone)": phoneErrs()} {
		for _, e := range errs {
			t.Errorf("%s: JavaScript error: %s", name, e)
		}
	}
}
