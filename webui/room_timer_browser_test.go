package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
)

// timeLeft reads the remaining seconds a browser shows on the timer ("1:58" → 118).
func timeLeft(t *testing.T, b browser) int {
	t.Helper()
	text := js[string](t, b, `document.querySelector("#timer").hidden ? "" : document.querySelector("#timer-left").textContent`)
	m, s, ok := strings.Cut(text, ":")
	mm, err1 := strconv.Atoi(m)
	ss, err2 := strconv.Atoi(s)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("%s's timer shows %q", b.name, text)
	}
	return mm*60 + ss
}

// sameTimeLeft checks that every browser shows the timer of seconds, within [lo, hi] seconds
// left and within two seconds of each other once the time taken to read them is allowed for.
func sameTimeLeft(t *testing.T, seconds, lo, hi int, bs ...browser) {
	t.Helper()
	for _, b := range bs {
		until(t, b, "the timer", fmt.Sprintf(`(Pokor.state.snap.timer || {}).seconds === %d && !document.querySelector("#timer").hidden && /^\d+:\d\d$/.test(document.querySelector("#timer-left").textContent)`, seconds))
	}
	var min, max = math.MaxFloat64, 0.0
	start := time.Now()
	for _, b := range bs {
		n := timeLeft(t, b)
		if n < lo || n > hi {
			t.Errorf("%s's timer shows %d s left, want %d to %d", b.name, n, lo, hi)
		}
		// What the first browser read would show now.
		at := float64(n) + time.Since(start).Seconds()
		min, max = math.Min(min, at), math.Max(max, at)
	}
	if max-min > 2 {
		t.Errorf("the timers differ by %.1f s", max-min)
	}
}

// startTimer picks a length in the organizer's timer form and starts it.
func startTimer(t *testing.T, b browser, preset, custom string, reveal bool) {
	t.Helper()
	js[bool](t, b, fmt.Sprintf(`(() => { const p = document.querySelector("#timer-preset"); p.value = %q; p.dispatchEvent(new Event("change"));
		document.querySelector("#timer-custom").value = %q; document.querySelector("#timer-reveal").checked = %v;
		// Clicked from the page: a toast may lie over the button at this window size.
		document.querySelector("#timer-start").click(); return true; })()`, preset, custom, reveal))
}

// TestBrowserTimer: the organizer starts a countdown; every member sees the same remaining time,
// after a reload and after a server restart too (the deadline is stored); at zero a timer
// without reveal signals everyone, and one with reveal reveals the round, once. A length out of
// range is refused with a message and no console error.
func TestBrowserTimer(t *testing.T) {
	exe := browsertest.Chromium(t)
	dir := t.TempDir()
	ts := startTestServer(t, dir, serverOptions{})
	// While the server restarts, Chromium reports the refused reconnection itself.
	r := openRoom(t, ts, exe, 1280, 900, []string{"WebSocket connection to"}, "Login page")
	sid, sessID := r.storyID(t, "Login page"), js[string](t, r.ann, `Pokor.sid`)
	browsertest.Do(t, r.bob.ctx, chromedp.Click(css(`#cards .card[data-card="5"]`)))
	for _, b := range []browser{r.bob, r.cat} {
		if !js[bool](t, b, `document.querySelector("#timer-form").hidden || document.querySelector("#timer-form").offsetParent === null`) {
			t.Errorf("%s, a voter, sees the timer controls", b.name)
		}
	}

	startTimer(t, r.ann, "120", "", false)
	sameTimeLeft(t, 120, 110, 120, r.everyone()...)
	deadline := js[string](t, r.ann, `Pokor.state.snap.timer.deadline`)
	browsertest.Screenshot(t, r.ann.ctx, "room-timer.png")

	// A reload: the snapshot brings the same deadline.
	browsertest.Do(t, r.bob.ctx, chromedp.Reload(), chromedp.WaitVisible(css(`#room`)))
	sameTimeLeft(t, 120, 100, 120, r.everyone()...)
	if d := js[string](t, r.bob, `Pokor.state.snap.timer.deadline`); d != deadline {
		t.Errorf("after a reload Bob counts down to %s, Ann to %s", d, deadline)
	}

	// A server restart on the same database and port: the clients reconnect by themselves and
	// count down to the same stored deadline.
	addr := ts.http.Listener.Addr().String()
	ts.close()
	ts = startTestServer(t, dir, serverOptions{addr: addr})
	for _, b := range r.everyone() {
		until(t, b, "reconnected", `document.querySelector("#conn").textContent === "live" && !!Pokor.state.snap.timer`)
		if d := js[string](t, b, `Pokor.state.snap.timer.deadline`); d != deadline {
			t.Errorf("after the restart %s counts down to %s, want %s", b.name, d, deadline)
		}
	}
	sameTimeLeft(t, 120, 90, 120, r.everyone()...)

	// A length out of range: the server says why; nothing is thrown.
	startTimer(t, r.ann, "custom", "0:02", false)
	until(t, r.ann, "the refusal", `[...document.querySelectorAll("#toasts .toast.error")].some(e => e.textContent.includes("5 seconds"))`)

	// A timer without reveal: at zero everyone is told, and the round goes on.
	startTimer(t, r.ann, "custom", "0:05", false)
	sameTimeLeft(t, 5, 0, 5, r.everyone()...)
	for _, b := range r.everyone() {
		until(t, b, "time is up", `document.querySelector("#timer").classList.contains("ringing") && [...document.querySelectorAll("#toasts .toast")].some(e => e.textContent.startsWith("Time is up"))`)
	}
	if st, err := ts.store.Story(t.Context(), sessID, sid); err != nil || st.RoundState != session.RoundVoting {
		t.Errorf("after a timer without reveal the round is %+v, %v", st, err)
	}

	// A timer with reveal: at zero the round is revealed for everyone, once.
	startTimer(t, r.ann, "custom", "6", true)
	until(t, r.cat, "the timer that reveals", `Pokor.state.snap.timer && Pokor.state.snap.timer.reveal && document.querySelector("#timer-note").textContent === "reveals at zero"`)
	for _, b := range r.everyone() {
		until(t, b, "the reveal at zero", `!document.querySelector("#results").hidden && document.querySelectorAll("#poker-table .seat.flipped").length === 1`)
	}
	time.Sleep(500 * time.Millisecond)
	rounds, err := ts.store.Rounds(t.Context(), sid)
	if err != nil || len(rounds) != 1 || rounds[0].State != session.RoundRevealed {
		t.Errorf("rounds after the timer: %+v, %v", rounds, err)
	}
	tm, err := ts.store.Timer(t.Context(), sessID)
	if err != nil || tm.State != session.TimerExpired || !tm.Reveal {
		t.Errorf("stored timer: %+v, %v", tm, err)
	}
}
