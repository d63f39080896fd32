// Package bots holds what the Slack and Discord bots share: the /pokor grammar and its help text.
// Each platform lives in its own sub-package and translates its requests into session calls.
package bots

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pokor/pokor/session"
)

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

// Grammar reads /pokor text for the trackers of a server and writes its help; the tracker part
// (the words after "from", their examples) comes from the trackers' descriptors.
type Grammar struct {
	trackers []session.Tracker
}

// NewGrammar returns the grammar for the trackers that import by query (CSV files do not).
func NewGrammar(trackers []session.Tracker) Grammar {
	var g Grammar
	for _, t := range trackers {
		if t.Open != nil {
			g.trackers = append(g.trackers, t)
		}
	}
	return g
}

// Help is the text shown for "/pokor help" and for text that does not parse, in English.
func (g Grammar) Help() string { return g.help(Markup{}) }

// help is the grammar explained in m's language, with *bold* as the markup's (HelpIn). The
// commands themselves stay as typed: "from", "help" and the tracker names are keywords. A
// tracker's query summary comes from its descriptor, in English.
func (g Grammar) help(m Markup) string {
	var b strings.Builder
	b.WriteString("*" + m.T("bot.help.title") + "*\n" +
		"`/pokor` " + m.T("bot.help.new") + "\n" +
		"`/pokor Sprint 42` " + m.T("bot.help.titled", "title", "Sprint 42") + "\n")
	for _, t := range g.trackers {
		fmt.Fprintf(&b, "`/pokor Sprint 42 from %s %s` %s\n", t.Name, t.Query.Example, t.Query.Summary)
	}
	b.WriteString("`/pokor help` " + m.T("bot.help.help") + "\n" + m.T("bot.help.outro"))
	return b.String()
}

// Names lists the tracker names for a sentence: "github, jira or notion".
func (g Grammar) Names() string { return g.names(Markup{}) }

// NamesIn lists the tracker names in m's language: "github, jira oder notion".
func (g Grammar) NamesIn(m Markup) string { return g.names(m) }

func (g Grammar) names(m Markup) string {
	names := make([]string, len(g.trackers))
	for i, t := range g.trackers {
		names[i] = t.Name
	}
	switch len(names) {
	case 0:
		return m.T("bot.trackers.none")
	case 1:
		return names[0]
	}
	return m.T("bot.list.or", "list", strings.Join(names[:len(names)-1], ", "), "last", names[len(names)-1])
}

// ParseError is a /pokor text that cannot be understood; its message says what to change. Msg is
// in English; Text writes it in a reply's language.
type ParseError struct {
	Msg string
	// key and pairs are the message in the catalogs; names asks for the tracker names as {names}.
	key   string
	pairs []string
	g     *Grammar
}

func (e *ParseError) Error() string { return e.Msg }

// Text is the message in m's language.
func (e *ParseError) Text(m Markup) string {
	if e.key == "" {
		return e.Msg
	}
	pairs := e.pairs
	if e.g != nil {
		pairs = append([]string{"names", e.g.names(m)}, pairs...)
	}
	return m.T(e.key, pairs...)
}

// parseError builds a ParseError from a catalog key; with g, {names} is g's tracker names.
func parseError(g *Grammar, key string, pairs ...string) *ParseError {
	e := &ParseError{key: key, pairs: pairs, g: g}
	e.Msg = e.Text(Markup{})
	return e
}

// Parse reads the text typed after /pokor.
func (g Grammar) Parse(text string) (Command, error) {
	text = strings.TrimSpace(strings.Join(strings.Fields(text), " "))
	low := strings.ToLower(text)
	if low == "help" || low == "?" || low == "-h" || low == "--help" {
		return Command{Help: true}, nil
	}
	title, source, query := text, "", ""
	// The last " from <source>" splits title and import, so a title may itself contain "from".
	words := strings.Split(text, " ")
	for i := len(words) - 2; i >= 0; i-- {
		if strings.EqualFold(words[i], "from") && g.tracker(words[i+1]) != nil {
			title = strings.Join(words[:i], " ")
			source = strings.ToLower(words[i+1])
			query = strings.Join(words[i+2:], " ")
			break
		}
	}
	return g.build(title, source, query)
}

// FromOptions builds a command from Discord's options (title, source, query).
func (g Grammar) FromOptions(title, source, query string) (Command, error) {
	title = strings.TrimSpace(title)
	if strings.EqualFold(title, "help") && source == "" && query == "" {
		return Command{Help: true}, nil
	}
	source = strings.ToLower(strings.TrimSpace(source))
	if source != "" && g.tracker(source) == nil {
		return Command{}, parseError(&g, "bot.parse.unknown_source", "source", strconv.Quote(source))
	}
	if source == "" && strings.TrimSpace(query) != "" {
		return Command{}, parseError(&g, "bot.parse.no_source")
	}
	return g.build(title, source, strings.TrimSpace(query))
}

func (g Grammar) build(title, source, query string) (Command, error) {
	if utf8.RuneCountInString(title) > MaxTitle {
		return Command{}, parseError(nil, "bot.parse.title_long", "length", strconv.Itoa(utf8.RuneCountInString(title)), "limit", strconv.Itoa(MaxTitle))
	}
	if source != "" && query == "" {
		t := g.tracker(source)
		return Command{}, parseError(nil, "bot.parse.no_query", "source", source, "example", "`/pokor Sprint 42 from "+t.Name+" "+t.Query.Example+"`")
	}
	return Command{Title: title, Source: source, Query: query}, nil
}

// tracker returns the tracker named name (in any case), nil when there is none.
func (g Grammar) tracker(name string) *session.Tracker {
	for i := range g.trackers {
		if strings.EqualFold(g.trackers[i].Name, name) {
			return &g.trackers[i]
		}
	}
	return nil
}
