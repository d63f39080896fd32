package webui

import (
	"context"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui/browsertest"
	"github.com/pokor/pokor/webui/i18n"
)

func getPage(t *testing.T, url, acceptLanguage, cookie string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	if cookie != "" {
		req.Header.Set("Cookie", i18n.Cookie+"="+cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestPagesInTheBrowsersLanguage: the landing and error pages speak the language of
// Accept-Language, or the one picked (?lang=, remembered in a cookie).
func TestPagesInTheBrowsersLanguage(t *testing.T) {
	ts := newTestServer(t, "")
	tests := []struct {
		path, accept, cookie string
		want                 []string
	}{
		{"/", "", "", []string{`<html lang="en">`, "New session", "Create session", "Modified Fibonacci", `"landing.create.failed":"Could not create the session."`}},
		{"/", "de-DE,de;q=0.9,en;q=0.5", "", []string{`<html lang="de">`, "Neue Sitzung", "Sitzung anlegen", "Modifiziertes Fibonacci", "Deine Daten bleiben auf diesem Server.", `<option value="de" lang="de" selected>Deutsch</option>`}},
		{"/", "de", "en", []string{`<html lang="en">`, "New session"}},
		{"/s/nosuchsession", "de", "", []string{`<html lang="de">`, "Sitzung nicht gefunden", "Neue Sitzung anlegen"}},
		{"/s/nosuchsession", "fr", "", []string{`<html lang="en">`, "Session not found"}},
	}
	for _, tt := range tests {
		res, body := getPage(t, ts.http.URL+tt.path, tt.accept, tt.cookie)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s (Accept-Language %q, cookie %q) lacks %q", tt.path, tt.accept, tt.cookie, w)
			}
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
			t.Errorf("GET %s: Vary %q", tt.path, res.Header.Get("Vary"))
		}
	}
	// ?lang= picks and remembers.
	res, body := getPage(t, ts.http.URL+"/?lang=de", "en", "")
	if !strings.Contains(body, "Neue Sitzung") {
		t.Error("?lang=de did not pick German")
	}
	var remembered string
	for _, c := range res.Cookies() {
		if c.Name == i18n.Cookie {
			remembered = c.Value
		}
	}
	if remembered != "de" {
		t.Errorf("?lang=de remembered %q", remembered)
	}
}

// TestBrowserGerman: a German-speaking organizer picks German in the page, sees the landing page
// in German after every reload, and creates a session from it.
func TestBrowserGerman(t *testing.T) {
	exe := browsertest.Chromium(t)
	ts := newTestServer(t, "")
	anna := browsertest.Start(t, exe, 1280, 900)
	browsertest.Do(t, anna,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.WaitVisible(css(`#language`)),
	)
	if h := browsertest.Get(t, anna, chromedp.Text(css(`#create h2`))); h != "New session" {
		t.Fatalf("heading %q", h)
	}
	// As a person picking from the menu: the value changes, then "change" fires.
	browsertest.Get(t, anna, chromedp.Evaluate[bool](`(() => {
		const menu = document.getElementById("language");
		menu.value = "de";
		menu.dispatchEvent(new Event("change"));
		return true;
	})()`))
	// The page reloads itself; until it has, the old document may be gone under a query.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(anna, 2*time.Second)
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#create h2") ? document.documentElement.lang : ""`))
		cancel()
		if err == nil && lang == "de" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not turn German: %q %v", lang, err)
		}
	}
	browsertest.Do(t, anna, chromedp.Reload(), chromedp.WaitVisible(css(`#create h2`)))
	if h := browsertest.Get(t, anna, chromedp.Text(css(`#create h2`))); h != "Neue Sitzung" {
		t.Fatalf("after a reload the heading is %q", h)
	}
	browsertest.Screenshot(t, anna, "landing-de.png")
	if n := browsertest.Get(t, anna, chromedp.Evaluate[string](`Pokor.plural("room.votes", 1234.5)`)); n != "1.234,5 Stimmen" {
		t.Errorf("a number in German: %q", n)
	}
	browsertest.Do(t, anna,
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.SendKeys(css(`#create input[name=name]`), "Anna"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
	)
}

// TestRoomInTheBrowsersLanguage: the room and its join form speak the request's language, with
// the language menu; without a preference they stay English.
func TestRoomInTheBrowsersLanguage(t *testing.T) {
	ts := newTestServer(t, "")
	sid := ts.newClient("Ann").create(map[string]any{"title": "Sprint 42"})
	tests := []struct {
		accept, cookie string
		want           []string
	}{
		{"", "", []string{`<html lang="en">`, `<h2 id="join-heading">Join “Sprint 42”</h2>`, "Your name", "Join as", "Reveal votes", `<option value="en" lang="en" selected>English</option>`}},
		{"de-DE,de;q=0.9,en;q=0.5", "", []string{`<html lang="de">`, `<h2 id="join-heading">„Sprint 42“ beitreten</h2>`, "Dein Name", "Beitreten als", "Stimmen aufdecken",
			`placeholder="Story hinzufügen …"`, `aria-label="Verteilung der Stimmen"`, `<option value="de" lang="de" selected>Deutsch</option>`, `"room.reveal":"Stimmen aufdecken"`}},
		{"en-US", "de", []string{`<html lang="de">`, "Beitreten als"}},
		{"de", "en", []string{`<html lang="en">`, "Join as"}},
	}
	for _, tt := range tests {
		_, body := getPage(t, ts.http.URL+"/s/"+sid, tt.accept, tt.cookie)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("the room (Accept-Language %q, cookie %q) lacks %q", tt.accept, tt.cookie, w)
			}
		}
	}
}

// englishWords are words of the room's English texts that are not German words too: one of
// them in the German room is a text that does not come from the catalog.
var englishWords = regexp.MustCompile(`(?i)\b(?:the|and|you|your|of|with|for|not|it|is|are|to|this|that|who|when|here|has|have|can|new|each|every|` +
	`someone|click|type|next|shown|vote|votes|voted|voters?|round|join|organizers?|reveal|revealed|` +
	`estimates?|estimated|people|add|remove|copy|waiting|session|settings|stories|results|history|cancel|save|spectator|confidence|` +
	`rationale|cards|nudge|everyone|length|average|spread|consensus|still|connected)\b`)

// TestRoomHasNoEnglishLeft: the German room's markup holds no English text of its own: every
// text, title, label and placeholder comes from the catalog. What is not the room's own text is
// left out: its scripts and catalog, the languages listed in their own names, and the import
// dialog, which is translated with trackers.js. The English room is the control.
func TestRoomHasNoEnglishLeft(t *testing.T) {
	ts := newTestServer(t, "")
	sid := ts.newClient("Ann").create(map[string]any{"title": "Sprint 42"})
	others := regexp.MustCompile(`(?s)<script.*?</script>|<dialog id="import".*?</dialog>|<option [^>]*lang="en"[^>]*>[^<]*</option>`)
	texts := regexp.MustCompile(`>([^<]+)<|\b(?:title|aria-label|placeholder)="([^"]*)"`)
	english := func(accept string) []string {
		_, body := getPage(t, ts.http.URL+"/s/"+sid, accept, "")
		var found []string
		for _, m := range texts.FindAllStringSubmatch(others.ReplaceAllString(body, ""), -1) {
			text := html.UnescapeString(m[1] + m[2])
			if w := englishWords.FindString(text); w != "" {
				found = append(found, w+" in "+strings.TrimSpace(text))
			}
		}
		return found
	}
	if found := english("de"); len(found) > 0 {
		t.Errorf("the German room has English texts:\n%s", strings.Join(found, "\n"))
	}
	if found := english("en"); len(found) < 30 {
		t.Errorf("the English room has only %d English texts: the check finds nothing", len(found))
	}
}

// TestRoomScriptsUseKeys: the room's scripts name each catalog key in full, so that the catalog
// tests (webui/i18n) see every key they use.
func TestRoomScriptsUseKeys(t *testing.T) {
	computed := regexp.MustCompile(`\b(?:Pokor|PokorI18n|L)\.(?:t|plural)\([^"]`)
	for _, name := range []string{"room.js", "trust.js", "announce.js"} {
		b, err := os.ReadFile(filepath.Join("static", name))
		if err != nil {
			t.Fatal(err)
		}
		if m := computed.Find(b); m != nil {
			t.Errorf("%s computes a catalog key: %s", name, m)
		}
		if n := len(regexp.MustCompile(`\bL\.(?:t|plural)\("room\.`).FindAll(b, -1)); n == 0 {
			t.Errorf("%s takes no text from the catalog", name)
		}
	}
}

// TestRoomCloseReasons: the room shows the session package's close reasons in the page's
// language by recognizing them word for word (room.js, closeReasons); English says them as the
// server does.
func TestRoomCloseReasons(t *testing.T) {
	js, err := os.ReadFile(filepath.Join("static", "room.js"))
	if err != nil {
		t.Fatal(err)
	}
	langs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for key, reason := range map[string]string{"room.closed.removed": session.ReasonRemoved, "room.closed.left": session.ReasonLeft, "room.closed.gone": session.ReasonGone} {
		if want := strconv.Quote(reason) + `: L.t("` + key + `")`; !strings.Contains(string(js), want) {
			t.Errorf("room.js does not translate %s: it lacks %s", key, want)
		}
		if got := langs.Reference().T(key); got != reason {
			t.Errorf("en.json %s = %q, the server says %q", key, got, reason)
		}
	}
}
