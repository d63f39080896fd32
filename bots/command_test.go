package bots

import (
	"errors"
	"strings"
	"testing"
)

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
			got, err := Parse(tt.text)
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
			_, err := Parse(tt.text)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.want) {
				t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestFromOptions(t *testing.T) {
	got, err := FromOptions("Sprint 42", "GitHub", "acme/api label:ready")
	if err != nil || got != (Command{Title: "Sprint 42", Source: "github", Query: "acme/api label:ready"}) {
		t.Fatalf("FromOptions = %+v, %v", got, err)
	}
	if got, _ := FromOptions("help", "", ""); !got.Help {
		t.Fatalf("help not recognised")
	}
	for _, c := range [][3]string{{"x", "gitlab", "q"}, {"x", "", "orphan query"}, {"x", "jira", ""}} {
		if _, err := FromOptions(c[0], c[1], c[2]); err == nil {
			t.Errorf("FromOptions%v: want an error", c)
		}
	}
}
