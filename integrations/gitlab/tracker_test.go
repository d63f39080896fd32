package gitlab

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestGrammarFromDescriptor: the /pokor text of every chat platform reaches GitLab through the
// descriptor-driven grammar.
func TestGrammarFromDescriptor(t *testing.T) {
	g := bots.NewGrammar([]session.Tracker{Tracker(func(string) string { return "" })})
	cmd, err := g.Parse(`Sprint 42 from gitlab acme/platform/api label:ready milestone:"v2 beta"`)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Title != "Sprint 42" || cmd.Source != "gitlab" || cmd.Query != `acme/platform/api label:ready milestone:"v2 beta"` {
		t.Fatalf("parsed %+v", cmd)
	}
	if _, err := parseQuery(cmd.Query, DefaultURL); err != nil {
		t.Fatalf("the query the grammar passes on does not parse: %v", err)
	}
	if help := g.Help(); !strings.Contains(help, "`/pokor Sprint 42 from gitlab acme/api label:ready` import GitLab issues") {
		t.Errorf("help = %q", help)
	}
}

// TestOpenGuardsTheInstance: a session may bring its own token, and its own instance only when
// it is public or allowed; an instance it names never receives the server's token.
func TestOpenGuardsTheInstance(t *testing.T) {
	f := newFakeGitLab(t, false)
	f.addProject("acme/api", 1)
	u, _ := url.Parse(f.srv.URL)
	env := map[string]string{"GITLAB_URL": "https://gitlab.example.com", "GITLAB_TOKEN": f.token}
	tr := Tracker(func(k string) string { return env[k] })

	for _, site := range []string{"http://gitlab.example.net", "https://10.1.2.3", f.srv.URL} {
		_, err := tr.Open(session.Credentials{FieldBaseURL: site, FieldToken: "x"})
		if session.ErrorCode(err) != session.CodeInvalid {
			t.Errorf("site %s: %v, want it refused", site, err)
		}
	}

	env["GITLAB_ALLOWED_HOSTS"] = "intranet.example, " + u.Hostname()
	c, err := tr.Open(session.Credentials{FieldBaseURL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WriteEstimate(context.Background(), "acme/api#1", session.WriteBack{Value: "3"})
	if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(err.Error(), "no GitLab token") {
		t.Fatalf("the server's token went to an instance a session named, or the error does not say: %v", err)
	}
	c, err = tr.Open(session.Credentials{FieldBaseURL: f.srv.URL + "/", FieldToken: f.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteEstimate(context.Background(), "acme/api#1", session.WriteBack{Value: "3"}); err != nil {
		t.Fatalf("with the session's own token: %v", err)
	}
}
