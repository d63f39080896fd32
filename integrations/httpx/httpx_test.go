package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.9": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false,
	} {
		if got := public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// A site typed for a session may not reach the server's own network (the metadata service,
// localhost, an intranet host); the admin can allow a host by name.
func TestPublicSite(t *testing.T) {
	for _, site := range []string{"https://127.0.0.1:8443", "https://169.254.169.254", "https://localhost", "http://jira.example.com", "not a url"} {
		if _, err := PublicSite("jira", site, nil, "JIRA_ALLOWED_HOSTS"); session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("site %s: %v, want an invalid-site error", site, err)
		}
	}
	_, err := PublicSite("jira", "https://127.0.0.1:1", nil, "JIRA_ALLOWED_HOSTS")
	if !strings.Contains(session.ErrorMessage(err), "JIRA_ALLOWED_HOSTS") || !strings.HasPrefix(session.ErrorMessage(err), "jira: ") {
		t.Errorf("the refusal should name the tracker and say how to allow the host: %v", err)
	}
	if hc, err := PublicSite("jira", "https://127.0.0.1:1", []string{"127.0.0.1"}, "JIRA_ALLOWED_HOSTS"); err != nil || hc != nil {
		t.Errorf("an allowed host: %v, %v; want the default client", hc, err)
	}
}

func TestCodeAndRetry(t *testing.T) {
	for status, want := range map[int]session.Code{
		400: session.CodeInvalid, 422: session.CodeInvalid, 401: session.CodeForbidden, 403: session.CodeForbidden,
		404: session.CodeNotFound, 410: session.CodeNotFound, 409: session.CodeUnavailable, 429: session.CodeUnavailable,
		500: session.CodeUnavailable, 503: session.CodeUnavailable,
	} {
		if got := Code(status); got != want {
			t.Errorf("Code(%d) = %s, want %s", status, got, want)
		}
	}
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"30": 30 * time.Second, "-1": 0, now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat): 0,
	} {
		if got, ok := RetryAfter(http.Header{"Retry-After": {v}}, now); !ok || got != want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := RetryAfter(http.Header{"Retry-After": {"soon"}}, now); ok {
		t.Error("an unreadable Retry-After was read")
	}
	e := RateLimited("github", 200*time.Millisecond, "slow down")
	if retry, after := session.Retryable(e); !retry || after != time.Second {
		t.Errorf("a rate limit of 200ms: retry %v after %v; want after 1s", retry, after)
	}
	if retry, _ := session.Retryable(Errorf("jira", session.CodeInvalid, "bad")); retry {
		t.Error("an invalid request is retried")
	}
	if retry, _ := session.Retryable(errors.New("connection reset")); !retry {
		t.Error("a plain network error is not retried")
	}
}

func TestAPI(t *testing.T) {
	var gotAuth, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/jira")
	hc := NewClient(nil, HeaderFor(base.Host, http.Header{"Authorization": {"Bearer t"}}))
	api := &API{Provider: "jira", Base: base, HTTP: hc}
	r, err := api.Do(context.Background(), "GET", "rest/api/2/myself", nil, nil, "read who I am")
	if err != nil || !r.OK() {
		t.Fatalf("Do: %v, %+v", err, r)
	}
	var out struct{ OK bool }
	if err := api.Decode(r, &out, "read who I am"); err != nil || !out.OK || gotAuth != "Bearer t" || gotPath != "/jira/rest/api/2/myself" {
		t.Fatalf("decode %v %+v, auth %q, path %q", err, out, gotAuth, gotPath)
	}
	srv.Close()
	_, err = api.Do(context.Background(), "GET", "rest/api/2/myself", nil, nil, "read who I am")
	if session.ErrorCode(err) != session.CodeUnavailable || !strings.HasPrefix(session.ErrorMessage(err), "jira: could not read who I am: cannot reach") {
		t.Errorf("a closed server: %v", err)
	}
}
