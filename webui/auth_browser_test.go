package webui

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pokor/pokor/webui/browsertest"
)

// TestBrowserOrganizerSignIn: with OIDC on, the start page offers to sign in; the organizer signs
// in at the (fake) provider and comes back signed in, with the provider's name filled in; signed
// in, she creates a session, and a participant joins it from the room link without any account.
func TestBrowserOrganizerSignIn(t *testing.T) {
	exe := browsertest.Chromium(t)
	fp := newFakeOIDC(t)
	fp.claims = map[string]any{"email": "olga@example.com", "email_verified": true}
	ts := newTestServerWith(t, "", func(c *Config) {
		c.OIDC = &OIDC{Issuer: fp.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret, AllowedDomains: []string{"example.com"}, Sealer: ts0keys(t)}
	})
	olga := browsertest.Start(t, exe, 1280, 900)
	browsertest.Do(t, olga,
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.WaitVisible(css(`#sign-in a.button`)),
		chromedp.Click(css(`#sign-in a.button`)),
		chromedp.WaitVisible(css(`form.signed-in`)),
		chromedp.WaitVisible(css(`#create input[name=title]`)),
	)
	if who := browsertest.Get(t, olga, chromedp.Text(css(`form.signed-in`))); !strings.Contains(who, "olga@example.com") {
		t.Errorf("signed in as %q", who)
	}
	if name := browsertest.Get(t, olga, chromedp.Value(css(`#create input[name=name]`))); name != "Olga Organizer" {
		t.Errorf("the name is prefilled with %q, want the provider's", name)
	}
	browsertest.Screenshot(t, olga, "organizer-signed-in.png")
	// After the trip to the provider's origin and back, chromedp loses track of the tab's next
	// navigation; the organizer goes on in a fresh browser holding the same sign-in cookie.
	var cookie *network.Cookie
	browsertest.Do(t, olga, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		for _, c := range res.Cookies {
			if c.Name == signInCookie {
				cookie = c
			}
		}
		return chromedp.Void{}, err
	})
	if cookie == nil || !cookie.HTTPOnly {
		t.Fatalf("the sign-in cookie: %+v", cookie)
	}
	again, bob := browsertest.Start(t, exe, 1280, 900), browsertest.Start(t, exe, 1280, 900)
	browsertest.Do(t, again,
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			httpOnly := true
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: cookie.Name, Value: cookie.Value, URL: ts.http.URL + "/", HTTPOnly: &httpOnly})
			return chromedp.Void{}, err
		},
		chromedp.Navigate(ts.http.URL+"/"),
		chromedp.WaitVisible(css(`form.signed-in`)),
		chromedp.SendKeys(css(`#create input[name=title]`), "Sprint 42"),
		chromedp.Click(css(`#create button[type=submit]`)),
		chromedp.WaitVisible(css(`#add-story input[name=title]`)),
		chromedp.SendKeys(css(`#add-story input[name=title]`), "Login page\n"),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	roomURL := browsertest.Get(t, again, chromedp.Location())
	browsertest.Do(t, bob,
		chromedp.Navigate(roomURL),
		chromedp.WaitVisible(css(`#join-form input[name=name]`)),
		chromedp.SendKeys(css(`#join-form input[name=name]`), "Bob"),
		chromedp.Click(css(`#join-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#cards .card`)),
	)
	browsertest.Do(t, again, chromedp.WaitVisible(css(`#people li:nth-child(2)`)))
}
