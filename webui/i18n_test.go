package webui

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
