package trackers

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/pokor/pokor/integrations/jira"
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

// A session may not point Jira at the server's own network: the metadata service, localhost,
// an intranet host. The admin can allow a host by name.
func TestSessionJiraSiteIsGuarded(t *testing.T) {
	r := New(Defaults{Jira: jira.Config{BaseURL: "https://acme.atlassian.net"}})
	for _, site := range []string{"https://127.0.0.1:8443", "https://169.254.169.254", "https://localhost", "http://jira.example.com", "not a url"} {
		_, err := r.List(context.Background(), "jira", session.Credentials{"base_url": site, "pat": "x"}, "project = API", "")
		if session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("site %s: %v, want an invalid-site error", site, err)
		}
	}
	_, err := r.List(context.Background(), "jira", session.Credentials{"base_url": "https://127.0.0.1:1", "pat": "x"}, "project = API", "")
	if !strings.Contains(session.ErrorMessage(err), "JIRA_ALLOWED_HOSTS") {
		t.Errorf("the refusal should say how to allow the host: %v", err)
	}
	allowed := New(Defaults{JiraAllowedHosts: []string{"127.0.0.1"}})
	if _, err := allowed.client("jira", session.Credentials{"base_url": "https://127.0.0.1:1", "pat": "x"}, opList); err != nil {
		t.Errorf("an allowed host is refused: %v", err)
	}
}
