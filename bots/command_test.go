package bots

import (
	"errors"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// grammar is the grammar of three trackers as their descriptors describe them.
var grammar = NewGrammar([]session.Tracker{
	{Name: "github", Query: session.QueryGrammar{Example: "acme/api label:ready"}, Open: open},
	{Name: "jira", Query: session.QueryGrammar{Example: "project = API"}, Open: open},
	{Name: "notion", Query: session.QueryGrammar{Example: "Backlog"}, Open: open},
	{Name: "csv"},
})

func open(session.Credentials) (session.TrackerClient, error) { return nil, nil }

func TestHelpListsTheTrackers(t *testing.T) {
	help := grammar.Help()
	for _, want := range []string{"from github acme/api label:ready", "from jira project = API", "from notion Backlog"} {
		if !strings.Contains(help, want) {
			t.Errorf("the help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "csv") {
		t.Error("the help offers CSV, which is imported from a file, not by /pokor")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"", Command{}},
		{"  ", Command{}},
		{"help", Command{Help: true}},
		{"HELP", Command{Help: true}},
		{"Sprint 42", Command{Title: "Sprint 42"}},
		{"  Sprint   42 ", Command{Title: "Sprint 42"}},
		{"Stories from Bob", Command{Title: "Stories from Bob"}},
		{"Sprint 42 from github acme/api label:ready milestone:\"v2\"", Command{Title: "Sprint 42", Source: "github", Query: "acme/api label:ready milestone:\"v2\""}},
		{"Sprint 42 from jira project = API AND sprint in openSprints()", Command{Title: "Sprint 42", Source: "jira", Query: "project = API AND sprint in openSprints()"}},
		{"Sprint 42 FROM Notion https://www.notion.so/x-0123", Command{Title: "Sprint 42", Source: "notion", Query: "https://www.notion.so/x-0123"}},
		{"from github acme/api", Command{Source: "github", Query: "acme/api"}},
		{"Ideas from github from jira API", Command{Title: "Ideas from github", Source: "jira", Query: "API"}},
		{"help me plan", Command{Title: "help me plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := grammar.Parse(tt.text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.text, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Sprint 42 from github", "say what to import from github"},
		{"x from jira", "say what to import from jira"},
		{strings.Repeat("a", 201), "the limit is 200"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := grammar.Parse(tt.text)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.want) {
				t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestFromOptions(t *testing.T) {
	got, err := grammar.FromOptions("Sprint 42", "GitHub", "acme/api label:ready")
	if err != nil || got != (Command{Title: "Sprint 42", Source: "github", Query: "acme/api label:ready"}) {
		t.Fatalf("FromOptions = %+v, %v", got, err)
	}
	if got, _ := grammar.FromOptions("help", "", ""); !got.Help {
		t.Fatalf("help not recognised")
	}
	for _, c := range [][3]string{{"x", "trello", "q"}, {"x", "", "orphan query"}, {"x", "jira", ""}} {
		if _, err := grammar.FromOptions(c[0], c[1], c[2]); err == nil {
			t.Errorf("FromOptions%v: want an error", c)
		}
	}
}
