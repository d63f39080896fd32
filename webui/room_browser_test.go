package webui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/webui/browsertest"
)

// The browser tests of the facilitator's room (issue #13): three people in real Chromium on a
// real server, one test per part of the room. Each browser's console is watched: the room must
// log no error and leave no exception or unhandled rejection on any path, failed actions
// included.

// browser is one participant's Chromium.
type browser struct {
	name string
	ctx  context.Context
}

// room is a session with Ann (organizer), Bob and Cat in it.
type room struct {
	ts            *testServer
	url           string
	ann, bob, cat browser
}

// watchConsole fails the test if the page logs an error or throws. allow names the messages that
// are expected (the browser's own report of a refused connection while the server restarts).
func watchConsole(t *testing.T, b browser, allow ...string) {
	t.Helper()
	msgs := chromedp.Console(b.ctx)
	var mu sync.Mutex
	var bad []string
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			allowed := false
			for _, a := range allow {
				allowed = allowed || strings.Contains(m.Text, a)
			}
			if !allowed {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s (%s %s:%d)", m, m.Source, m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range bad {
			t.Errorf("%s's console: %s", b.name, m)
		}
	})
}

// startBrowser starts one participant's Chromium at width × height (a phone is emulated as
// one, with touch and its device pixel ratio) and watches its console.
func startBrowser(t *testing.T, exe, name string, width, height int64, allow ...string) browser {
	t.Helper()
	b := browser{name: name, ctx: browsertest.Start(t, exe, int(width), int(height))}
	if width < 600 {
		browsertest.Do(t, b.ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	}
	watchConsole(t, b, allow...)
	return b
}

// media emulates CSS media features: prefers-color-scheme, prefers-reduced-motion.
func media(features map[string]string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := emulation.SetEmulatedMediaParams{}
		for k, v := range features {
			p.Features = append(p.Features, &emulation.MediaFeature{Name: k, Value: v})
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, p)
		return err
	})
}

// openRoom: Ann creates a session on the landing page and adds stories; Bob and Cat join from
// the room link. Each browser is width × height.
func openRoom(t *testing.T, ts *testServer, exe string, width, height int64, allow []string, stories ...string) *room {
	t.Helper()
	r := &room{ts: ts, ann: startBrowser(t, exe, "Ann", width, height, allow...), bob: startBrowser(t, exe, "Bob", width, height, allow...), cat: startBrowser(t, exe, "Cat", width, height, allow...)}
	browsertest.Do(t, r.ann.ctx,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Ann"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
	)
	for i, title := range stories {
		browsertest.Do(t, r.ann.ctx, chromedp.SendKeys(css(`#add-story input[name=title]`), title+"\n"))
		browsertest.Until(t, r.ann.ctx, "story "+title, fmt.Sprintf(`document.querySelectorAll("#stories .story").length === %d`, i+1))
	}
	if got := js[string](t, r.ann, `Pokor.state.snap.stories.map(s => s.title).join("|")`); got != strings.Join(stories, "|") {
		t.Fatalf("stories typed one after the other came out as %q", got)
	}
	r.url = browsertest.Get(t, r.ann.ctx, chromedp.Location())
	for _, p := range []browser{r.bob, r.cat} {
		joinAs(t, p, r.url, p.name)
	}
	browsertest.Until(t, r.ann.ctx, "three people", `document.querySelectorAll("#people .person").length === 3`)
	return r
}

// joinAs opens the room link and joins with name.
func joinAs(t *testing.T, b browser, url, name string) {
	t.Helper()
	browsertest.Do(t, b.ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(css(`#join-form input[name=name]`)),
		chromedp.SendKeys(css(`#join-form input[name=name]`), name),
		chromedp.Click(css(`#join-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#room`)),
	)
}

func (r *room) everyone() []browser { return []browser{r.ann, r.bob, r.cat} }

// js evaluates an expression in a browser.
func js[T any](t *testing.T, b browser, expr string) T {
	t.Helper()
	return browsertest.Get(t, b.ctx, chromedp.Evaluate[T](expr))
}

// until waits for a condition in a browser, naming the browser on failure.
func until(t *testing.T, b browser, what, expr string) {
	t.Helper()
	browsertest.Until(t, b.ctx, b.name+": "+what, expr)
}

// storyID returns the id of the story with title, as the organizer's page knows it.
func (r *room) storyID(t *testing.T, title string) string {
	t.Helper()
	return js[string](t, r.ann, fmt.Sprintf(`Pokor.state.snap.stories.find(s => s.title === %q).id`, title))
}

// TestBrowserVoteForm: confidence and rationale changed after voting update the vote and never
// withdraw it; both are empty again on the next round; a card's key votes it and withdraws it
// again; on Fibonacci the key is the value (8 votes 8, 1 then 3 votes 13) and each card shows its
// key; the results count abstentions and one estimate is no consensus.
func TestBrowserVoteForm(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	r := openRoom(t, ts, exe, 1280, 900, nil, "Login page")
	sid := r.storyID(t, "Login page")
	ann, bob, cat := r.ann, r.bob, r.cat

	// The cards show their keys: the value where it can be typed, c for the coffee.
	if keys := js[string](t, bob, `[...document.querySelectorAll("#cards .card")].map(c => c.dataset.card + "=" + c.querySelector(".key").textContent).join(" ")`); keys != "0=0 1=1 2=2 3=3 5=5 8=8 13=13 21=21 34=34 55=55 89=89 ?=? ☕=c" {
		t.Errorf("card keys: %s", keys)
	}

	// Bob votes 5, then sets a confidence and a rationale: the vote stays, with them.
	browsertest.Do(t, bob.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)), chromedp.WaitVisible(css(`#cards .card.selected[data-card="5"]`)))
	until(t, ann, "Bob's ✓", `document.querySelectorAll("#people .p-voted").length === 1`)
	js[bool](t, bob, `(() => { const c = document.querySelector("#confidence"); c.value = "high"; c.dispatchEvent(new Event("change")); return true; })()`)
	browsertest.Do(t, bob.ctx, chromedp.SendKeys(css(`#rationale`), "like the signup page"), chromedp.KeyEvent("\t"))
	until(t, bob, "the vote with its rationale", `(Pokor.state.snap.my_votes[`+quote(sid)+`] || {}).rationale === "like the signup page"`)
	votes, err := ts.store.Votes(t.Context(), sid, 1)
	if err != nil || len(votes) != 1 || votes[0].Card != "5" || votes[0].Confidence != "high" || votes[0].Rationale != "like the signup page" {
		t.Fatalf("Bob's stored vote after changing confidence and rationale: %+v, %v", votes, err)
	}
	for _, b := range []browser{bob, ann} {
		if !js[bool](t, b, `document.querySelectorAll("#people .p-voted").length === 1`) {
			t.Errorf("%s: Bob's vote was withdrawn by changing its confidence or rationale", b.name)
		}
	}
	if !js[bool](t, bob, `!!document.querySelector('#cards .card.selected[data-card="5"]')`) {
		t.Error("Bob's card is no longer selected")
	}

	// Keys: 8 votes 8, 8 again withdraws, 1 then 3 votes 13, Backspace withdraws, ? votes ?.
	press := func(keys string) { browsertest.Do(t, cat.ctx, chromedp.KeyEvent(keys)) }
	selected := func(card string) string {
		if card == "" {
			return `!document.querySelector("#cards .card.selected") && !Pokor.state.snap.my_votes[` + quote(sid) + `]`
		}
		return `!!document.querySelector('#cards .card.selected[data-card="` + card + `"]') && (Pokor.state.snap.my_votes[` + quote(sid) + `] || {}).card === "` + card + `"`
	}
	press("8")
	until(t, cat, "8 voted by its key", selected("8"))
	press("8")
	until(t, cat, "8 withdrawn by its key", selected(""))
	press("13")
	until(t, cat, "13 voted by typing 1 and 3", selected("13"))
	press("\b")
	until(t, cat, "Backspace withdrawing", selected(""))
	press("?")
	until(t, cat, "? voted", selected("?"))
	press("c")
	until(t, cat, "☕ voted by c", selected("☕"))
	browsertest.Do(t, ann.ctx, chromedp.Click(css(`#cards .card[data-card="?"]`)), chromedp.WaitVisible(css(`#cards .card.selected[data-card="?"]`)))
	until(t, ann, "three votes", `document.querySelectorAll("#people .p-voted").length === 3`)

	// One estimate beside two abstentions: the results say so, without a consensus.
	browsertest.Do(t, ann.ctx, chromedp.Click(css(`#reveal`)), chromedp.WaitVisible(css(`#results #stats`)))
	stats := browsertest.Get(t, ann.ctx, chromedp.Text(css(`#stats`)))
	if !strings.Contains(stats, "1 estimated, 2 abstained") || !strings.Contains(stats, "no (needs two estimates)") || strings.Contains(stats, "🎉") {
		t.Errorf("stats of 5, ? and ☕: %q", stats)
	}
	if v := browsertest.Get(t, bob.ctx, chromedp.Text(css(`#votes`))); !strings.Contains(v, "high confidence") || !strings.Contains(v, "like the signup page") {
		t.Errorf("revealed votes: %q", v)
	}

	// A re-vote starts with an empty form: nothing carries over into the new round unseen.
	browsertest.Do(t, ann.ctx, chromedp.Click(css(`#revote`)))
	until(t, bob, "the new round", `!document.querySelector("#vote-area").hidden && Pokor.state.snap.stories[0].round === 2`)
	if v := js[string](t, bob, `document.querySelector("#confidence").value + "|" + document.querySelector("#rationale").value`); v != "|" {
		t.Errorf("confidence|rationale in the new round: %q", v)
	}
	browsertest.Do(t, bob.ctx, chromedp.Click(css(`#cards .card[data-card="3"]`)), chromedp.WaitVisible(css(`#cards .card.selected[data-card="3"]`)))
	if votes, _ := ts.store.Votes(t.Context(), sid, 2); len(votes) != 1 || votes[0].Confidence != "" || votes[0].Rationale != "" {
		t.Errorf("round 2 vote carries the old round's fields: %+v", votes)
	}
}

// TestBrowserTable: everyone sits at the table; a card lies face down once its owner voted,
// with no value in the page, and all cards flip together at reveal; with reduced motion the
// flip is instant. Screenshots of the table on desktop and phone, light and dark.
func TestBrowserTable(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	r := openRoom(t, ts, exe, 1280, 900, nil, "Login page", "Sign-up form")
	browsertest.Do(t, r.cat.ctx, media(map[string]string{"prefers-reduced-motion": "reduce"}))

	for _, b := range r.everyone() {
		until(t, b, "three seats", `document.querySelectorAll("#poker-table .seat").length === 3`)
	}
	if me := js[string](t, r.bob, `document.querySelector("#poker-table .seat.me .seat-name").textContent`); me != "Bob (you)" {
		t.Errorf("Bob's own seat: %q", me)
	}
	cards := map[browser]string{r.ann: "5", r.bob: "8", r.cat: "5"}
	for _, b := range r.everyone() {
		browsertest.Do(t, b.ctx, chromedp.Click(css(`#cards .card[data-card="`+cards[b]+`"]`)))
	}
	for _, b := range r.everyone() {
		until(t, b, "three cards face down", `document.querySelectorAll("#poker-table .seat.voted").length === 3 && document.querySelectorAll("#poker-table .seat.flipped").length === 0`)
		if fronts := js[string](t, b, `[...document.querySelectorAll("#poker-table .pcard-front")].map(f => f.textContent).join("")`); fronts != "" {
			t.Errorf("%s's table shows values before reveal: %q", b.name, fronts)
		}
		if c := js[string](t, b, `document.querySelector("#table-center").textContent`); c != "3/3 voted" {
			t.Errorf("%s's table center: %q", b.name, c)
		}
	}
	browsertest.Do(t, r.ann.ctx, media(map[string]string{"prefers-color-scheme": "light"}))
	browsertest.Screenshot(t, r.ann.ctx, "room-desktop-light-voting.png")

	// At reveal every card flips, together: in one render, on every screen.
	browsertest.Do(t, r.ann.ctx, chromedp.Click(css(`#reveal`)))
	for _, b := range r.everyone() {
		until(t, b, "three cards flipped", `document.querySelectorAll("#poker-table .seat.flipped").length === 3`)
		want := map[string]string{"Ann": "5", "Bob": "8", "Cat": "5"}
		got := js[map[string]string](t, b, `Object.fromEntries([...document.querySelectorAll("#poker-table .seat")].map(s => [s.querySelector(".seat-name").textContent.replace(" (you)", ""), s.querySelector(".pcard-front").textContent]))`)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s's table after reveal: %v, want %v", b.name, got, want)
		}
	}
	if d := js[string](t, r.bob, `getComputedStyle(document.querySelector(".pcard-inner")).transitionDuration`); d != "0.6s" {
		t.Errorf("the flip lasts %q, want 0.6s", d)
	}
	if d := js[string](t, r.cat, `getComputedStyle(document.querySelector(".pcard-inner")).transitionDuration`); d != "0s" {
		t.Errorf("with reduced motion the flip lasts %q, want 0s", d)
	}
	time.Sleep(700 * time.Millisecond) // the flip's end, for the pictures
	browsertest.Screenshot(t, r.ann.ctx, "room-desktop-light.png")
	browsertest.Do(t, r.ann.ctx, media(map[string]string{"prefers-color-scheme": "dark"}))
	browsertest.Screenshot(t, r.ann.ctx, "room-desktop-dark.png")

	// On a phone, the table comes first and still seats everyone.
	phone := startBrowser(t, exe, "Dan", 390, 844)
	joinAs(t, phone, r.url, "Dan")
	until(t, phone, "four seats", `document.querySelectorAll("#poker-table .seat").length === 4`)
	browsertest.Do(t, r.ann.ctx, chromedp.Click(css(`#revote`)))
	until(t, phone, "the new round", `!document.querySelector("#vote-area").hidden`)
	browsertest.Do(t, r.bob.ctx, chromedp.Click(css(`#cards .card[data-card="3"]`)))
	browsertest.Do(t, phone.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)))
	until(t, phone, "two voted", `document.querySelectorAll("#poker-table .seat.voted").length === 2`)
	startTimer(t, r.ann, "300", "", true)
	until(t, phone, "the timer", `!document.querySelector("#timer").hidden`)
	if w := js[float64](t, phone, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("the phone page scrolls sideways by %v px", w)
	}
	if overlap := js[bool](t, phone, `(() => { const s = [...document.querySelectorAll("#poker-table .seat")].map(e => e.getBoundingClientRect());
		return s.some((a, i) => s.some((b, j) => i < j && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)); })()`); overlap {
		t.Error("seats overlap on the phone")
	}
	browsertest.Do(t, phone.ctx, media(map[string]string{"prefers-color-scheme": "light"}))
	browsertest.Screenshot(t, phone.ctx, "room-phone-light.png")
	browsertest.Do(t, phone.ctx, media(map[string]string{"prefers-color-scheme": "dark"}))
	browsertest.Screenshot(t, phone.ctx, "room-phone-dark.png")
}
