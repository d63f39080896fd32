package jira

import (
	"context"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestMergeConfig(t *testing.T) {
	d := Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "server-token"}
	tests := []struct {
		name  string
		creds session.Credentials
		want  Config
		has   bool
	}{
		{"server defaults", nil,
			Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "server-token"}, true},
		{"the session's own account on the server's site", session.Credentials{"email": "ann@acme.example", "api_token": "ann-token"},
			Config{BaseURL: "https://acme.atlassian.net", Email: "ann@acme.example", APIToken: "ann-token"}, true},
		{"a token alone is not paired with the server's email", session.Credentials{"api_token": "pat-like"},
			Config{BaseURL: "https://acme.atlassian.net", APIToken: "pat-like"}, true},
		{"the same site written differently keeps the defaults", session.Credentials{"base_url": "https://ACME.atlassian.net/ "},
			Config{BaseURL: "https://ACME.atlassian.net/", Email: "bot@acme.example", APIToken: "server-token"}, true},
		{"another site never gets the server's credentials", session.Credentials{"base_url": "https://evil.example"},
			Config{BaseURL: "https://evil.example"}, false},
		{"another site with its own token", session.Credentials{"base_url": "https://jira.corp.example", "pat": "dc-pat"},
			Config{BaseURL: "https://jira.corp.example", PAT: "dc-pat"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, has := mergeConfig(d, tt.creds)
			if got.BaseURL != tt.want.BaseURL || got.Email != tt.want.Email || got.APIToken != tt.want.APIToken || got.PAT != tt.want.PAT || has != tt.has {
				t.Errorf("got %s (api token %q, pat %q) has=%v, want %s (api token %q, pat %q) has=%v",
					got, got.APIToken, got.PAT, has, tt.want, tt.want.APIToken, tt.want.PAT, tt.has)
			}
		})
	}
}

func TestTrackerOpen(t *testing.T) {
	env := map[string]string{}
	tr := Tracker(func(k string) string { return env[k] })
	_, err := tr.Open(nil)
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "JIRA_API_TOKEN") ||
		!strings.Contains(session.ErrorMessage(err), "Connection to Jira") {
		t.Errorf("Jira without credentials: %v", err)
	}
	// A site an organizer types must be public unless the admin allowed it.
	for _, site := range []string{"https://127.0.0.1:8443", "https://169.254.169.254", "http://jira.example.com"} {
		if _, err := tr.Open(session.Credentials{"base_url": site, "pat": "x"}); session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("site %s: %v, want an invalid-site error", site, err)
		}
	}
	env["JIRA_ALLOWED_HOSTS"] = "127.0.0.1, jira.intranet"
	if _, err := tr.Open(session.Credentials{"base_url": "https://127.0.0.1:1", "pat": "x"}); err != nil {
		t.Errorf("an allowed host is refused: %v", err)
	}
	// Every client shares the tracker's field decisions.
	env["JIRA_BASE_URL"], env["JIRA_API_TOKEN"] = "https://acme.atlassian.net", "t"
	a, _ := tr.Open(nil)
	b, _ := tr.Open(session.Credentials{"base_url": "https://127.0.0.1:1", "pat": "x"})
	if a.(*Client).decisions != b.(*Client).decisions {
		t.Error("two clients of one tracker do not share the field decisions")
	}
	if _, err := a.List(context.Background(), "", ""); session.ErrorCode(err) != session.CodeInvalid {
		t.Errorf("an empty query: %v", err)
	}
}
