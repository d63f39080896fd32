// Package bots holds what the Slack and Discord bots share: the /pokor grammar and its help text.
// Each platform lives in its own sub-package and translates its requests into session calls.
package bots

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sources are the trackers /pokor can import from.
var Sources = []string{"github", "jira", "notion"}

// MaxTitle is the longest session title, as in the session package.
const MaxTitle = 200

// Command is a parsed /pokor request, the same whether it came from Slack text or Discord options.
type Command struct {
	// Help asks for the grammar.
	Help bool
	// Title of the new session; empty means the default title.
	Title string
	// Source and Query name stories to import: "github" and "acme/api label:ready".
	Source string
	Query  string
}

// Grammar is the help text shown for "/pokor help" and for text that does not parse.
const Grammar = "*Start a planning-poker session*\n" +
	"`/pokor` new session with a default title\n" +
	"`/pokor Sprint 42` new session \"Sprint 42\"\n" +
	"`/pokor Sprint 42 from github acme/api label:ready milestone:\"v2\"` import GitHub issues\n" +
	"`/pokor Sprint 42 from jira project = API AND sprint in openSprints()` import by JQL (or a project key, or `board:42`)\n" +
	"`/pokor Sprint 42 from notion <database id or URL>` import a Notion database\n" +
	"`/pokor help` this help\n" +
	"You get a private *Join as organizer* link, and a button to invite the channel."

// ParseError is a /pokor text that cannot be understood; its message says what to change.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

// Parse reads the text typed after /pokor.
func Parse(text string) (Command, error) {
	text = strings.TrimSpace(strings.Join(strings.Fields(text), " "))
	low := strings.ToLower(text)
	if low == "help" || low == "?" || low == "-h" || low == "--help" {
		return Command{Help: true}, nil
	}
	title, source, query := text, "", ""
	// The last " from <source>" splits title and import, so a title may itself contain "from".
	words := strings.Split(text, " ")
	for i := len(words) - 2; i >= 0; i-- {
		if strings.EqualFold(words[i], "from") && isSource(words[i+1]) {
			title = strings.Join(words[:i], " ")
			source = strings.ToLower(words[i+1])
			query = strings.Join(words[i+2:], " ")
			break
		}
	}
	return build(title, source, query)
}

// FromOptions builds a command from Discord's options (title, source, query).
func FromOptions(title, source, query string) (Command, error) {
	title = strings.TrimSpace(title)
	if strings.EqualFold(title, "help") && source == "" && query == "" {
		return Command{Help: true}, nil
	}
	source = strings.ToLower(strings.TrimSpace(source))
	if source != "" && !isSource(source) {
		return Command{}, &ParseError{Msg: fmt.Sprintf("unknown source %q: use %s", source, strings.Join(Sources, ", "))}
	}
	if source == "" && strings.TrimSpace(query) != "" {
		return Command{}, &ParseError{Msg: "a query needs a source: pick github, jira or notion"}
	}
	return build(title, source, strings.TrimSpace(query))
}

func build(title, source, query string) (Command, error) {
	if utf8.RuneCountInString(title) > MaxTitle {
		return Command{}, &ParseError{Msg: fmt.Sprintf("the title is %d characters long; the limit is %d", utf8.RuneCountInString(title), MaxTitle)}
	}
	if source != "" && query == "" {
		return Command{}, &ParseError{Msg: fmt.Sprintf("say what to import from %s, for example: %s", source, example(source))}
	}
	return Command{Title: title, Source: source, Query: query}, nil
}

func example(source string) string {
	switch source {
	case "github":
		return "`/pokor Sprint 42 from github acme/api label:ready`"
	case "jira":
		return "`/pokor Sprint 42 from jira project = API AND sprint in openSprints()`"
	}
	return "`/pokor Sprint 42 from notion https://www.notion.so/acme/Backlog-0123456789abcdef0123456789abcdef`"
}

func isSource(w string) bool {
	for _, s := range Sources {
		if strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}
