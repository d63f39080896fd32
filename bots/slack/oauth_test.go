package slack

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// browser is a client with a cookie jar that stops at redirects, as a test wants to read them.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// startInstall opens /slack/install in c and returns the state Slack is sent.
func (e *env) startInstall(c *http.Client) string {
	e.t.Helper()
	resp, _ := get(e.t, c, e.pokor.URL+"/slack/install")
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("/slack/install: %d, want a redirect to Slack", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != "https://slack.com/oauth/v2/authorize" || q.Get("client_id") != clientID ||
		q.Get("scope") != "commands,chat:write" || q.Get("redirect_uri") != e.pokor.URL+"/slack/oauth/callback" || q.Get("state") == "" {
		e.t.Fatalf("/slack/install redirects to %s", loc)
	}
	return q.Get("state")
}

func (e *env) callbackURL(q url.Values) string {
	return e.pokor.URL + "/slack/oauth/callback?" + q.Encode()
}

// TestInstall: the install redirects to Slack with a signed state; the callback exchanges the
// code with the fake oauth.v2.access and stores the workspace with its token sealed.
func TestInstall(t *testing.T) {
	e := newEnv(t)
	c := browser()
	state := e.startInstall(c)
	resp, body := get(t, c, e.callbackURL(url.Values{"code": {installCode}, "state": {state}}))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Pokor is installed in Slack Softball Team") {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "xoxb-") {
		t.Error("the page shows the bot token")
	}
	name, sealed, err := e.store.SlackInstallation(t.Context(), installedTeam)
	if err != nil || name != "Slack Softball Team" {
		t.Fatalf("installation = %q, %v", name, err)
	}
	if strings.Contains(sealed, "xoxb-") {
		t.Errorf("the token is stored in clear: %q", sealed)
	}
	if token, err := e.keys.Open(sealed); err != nil || token != installedToken {
		t.Errorf("the stored token opens to %q, %v", token, err)
	}

	// The state is spent: the cookie is gone, so the same link does nothing a second time.
	if resp, _ := get(t, c, e.callbackURL(url.Values{"code": {installCode}, "state": {state}})); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the same callback again: %d, want 403", resp.StatusCode)
	}
}

func TestInstallRefused(t *testing.T) {
	tests := []struct {
		name   string
		query  func(state string) url.Values
		before func(e *env, c *http.Client) *http.Client // returns the browser that opens the callback
		status int
		says   string
	}{
		{"altered state", func(s string) url.Values { return url.Values{"code": {installCode}, "state": {"x" + s}} }, nil, http.StatusForbidden, "not valid"},
		{"no state", func(string) url.Values { return url.Values{"code": {installCode}} }, nil, http.StatusForbidden, "not valid"},
		{"state from another browser", func(s string) url.Values { return url.Values{"code": {installCode}, "state": {s}} },
			func(*env, *http.Client) *http.Client { return browser() }, http.StatusForbidden, "another browser"},
		{"expired state", func(s string) url.Values { return url.Values{"code": {installCode}, "state": {s}} },
			func(e *env, c *http.Client) *http.Client { e.clock.Advance(11 * time.Minute); return c }, http.StatusForbidden, "expired"},
		{"code refused by Slack", func(s string) url.Values { return url.Values{"code": {"used-code"}, "state": {s}} }, nil, http.StatusBadGateway, "invalid_code"},
		{"cancelled on Slack", func(s string) url.Values { return url.Values{"error": {"access_denied"}, "state": {s}} }, nil, http.StatusOK, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := browser()
			state := e.startInstall(c)
			if tt.before != nil {
				c = tt.before(e, c)
			}
			resp, body := get(t, c, e.callbackURL(tt.query(state)))
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.says) {
				t.Fatalf("got %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.says, body)
			}
			if _, _, err := e.store.SlackInstallation(t.Context(), installedTeam); session.ErrorCode(err) != session.CodeNotFound {
				t.Errorf("an installation was stored: %v", err)
			}
		})
	}
}

func TestInstallNotConfigured(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientID, c.ClientSecret = "", "" })
	for _, path := range []string{"/slack/install", "/slack/oauth/callback?code=x&state=y"} {
		resp, body := get(t, browser(), e.pokor.URL+path)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		cfg  Config
		says string
	}{
		{"no signing secret", Config{Service: e.svc}, "SLACK_SIGNING_SECRET"},
		{"no service", Config{SigningSecret: "s"}, "service"},
		{"client id alone", Config{SigningSecret: "s", Service: e.svc, ClientID: "1"}, "SLACK_CLIENT_SECRET"},
		{"install without a store", Config{SigningSecret: "s", Service: e.svc, ClientID: "1", ClientSecret: "2"}, "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("New: %v, want an error about %s", err, tt.says)
			}
		})
	}
}
