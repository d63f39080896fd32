package notion

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// QuerySyntax describes what List accepts, for help texts and error messages.
//
// A query names a database and, optionally, conditions on its select, status or multi-select
// properties, all of which must hold:
//
//	query     = database { "[" condition "]" }
//	database  = ID | URL | title
//	condition = property ( "=" | ":" ) value
//
// The database is its ID (32 hex digits, with or without dashes), a Notion URL
// (https://www.notion.so/acme/Backlog-<32 hex>?v=…), or its title as shown in Notion,
// matched without regard to case. A property or value holding "]", "=", ":" or surrounding
// spaces is written in double quotes, with \" and \\ inside; a title holding "[" is quoted
// too. "=" and ":" mean the same: a select or status equals the value, a multi-select
// contains it. Values are matched against the property's options without regard to case.
//
//	8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d
//	https://www.notion.so/acme/Sprint-Backlog-8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d?v=1234 [Status=Ready]
//	Sprint Backlog [Sprint:"Sprint 42"] [Team = Web]
const QuerySyntax = `<database ID, URL or title> [Property=Value] ... (e.g. Backlog [Status=Ready] [Sprint:"Sprint 42"])`

// query is a parsed List query.
type query struct {
	database   string // as given: ID, URL or title
	conditions []condition
}

// condition is one [Property=Value] of a query.
type condition struct {
	property string
	value    string
}

// parseQuery parses the grammar documented on QuerySyntax.
func parseQuery(s string) (query, error) {
	p := &scanner{s: s}
	var q query
	p.skipSpace()
	switch {
	case p.peek() == '"':
		ref, err := p.quoted()
		if err != nil {
			return q, err
		}
		q.database = ref
	default:
		end := strings.IndexByte(p.s[p.i:], '[')
		if end < 0 {
			end = len(p.s) - p.i
		}
		q.database = strings.TrimSpace(p.s[p.i : p.i+end])
		p.i += end
	}
	if q.database == "" {
		return q, invalidQuery("name a database by its ID, URL or title")
	}
	for {
		p.skipSpace()
		if p.done() {
			return q, nil
		}
		if p.peek() != '[' {
			return q, invalidQuery("expected [Property=Value] after the database, found %q", p.s[p.i:])
		}
		p.i++
		c, err := p.condition()
		if err != nil {
			return q, err
		}
		q.conditions = append(q.conditions, c)
	}
}

// scanner walks a query string byte by byte; the grammar's delimiters are all ASCII, so
// titles and values in any script pass through untouched.
type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }

func (p *scanner) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *scanner) skipSpace() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// condition parses `property ( "=" | ":" ) value "]"`, the opening bracket already consumed.
func (p *scanner) condition() (condition, error) {
	var c condition
	name, err := p.word("=:")
	if err != nil {
		return c, err
	}
	if name == "" {
		return c, invalidQuery("a condition needs a property name: [Status=Ready]")
	}
	if b := p.peek(); b != '=' && b != ':' {
		return c, invalidQuery("expected = or : after %q in [%s…]", name, name)
	}
	p.i++
	value, err := p.word("]")
	if err != nil {
		return c, err
	}
	if value == "" {
		return c, invalidQuery("[%s=…] needs a value", name)
	}
	if p.peek() != ']' {
		return c, invalidQuery("missing ] after [%s=%s", name, value)
	}
	p.i++
	return condition{property: name, value: value}, nil
}

// word reads a quoted string or bare text up to one of stops (or "]"), trimmed.
func (p *scanner) word(stops string) (string, error) {
	p.skipSpace()
	if p.peek() == '"' {
		w, err := p.quoted()
		p.skipSpace()
		return w, err
	}
	start := p.i
	for !p.done() && !strings.ContainsRune(stops+"]", rune(p.s[p.i])) {
		p.i++
	}
	return strings.TrimSpace(p.s[start:p.i]), nil
}

// quoted reads a double-quoted string with \" and \\ escapes.
func (p *scanner) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if !p.done() {
				c = p.s[p.i]
				p.i++
			}
		}
		b.WriteByte(c)
	}
	return "", invalidQuery("a quoted text is missing its closing \"")
}

func invalidQuery(format string, args ...any) *session.Error {
	return httpx.Errorf(provider, session.CodeInvalid,
		"query: %s; write %s", fmt.Sprintf(format, args...), QuerySyntax)
}

// parseID extracts a Notion object ID from an ID with or without dashes or from a Notion URL,
// and returns it in the dashed form Notion's API answers with. It reports false for anything
// else (a database title).
func parseID(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if id, ok := canonicalID(ref); ok {
		return id, true
	}
	if !strings.Contains(ref, "/") {
		return "", false
	}
	if !strings.Contains(ref, "://") {
		ref = "https://" + ref // "www.notion.so/acme/…" pasted without the scheme
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return "", false
	}
	// The ID is the tail of the last path segment ("Sprint-Backlog-<32 hex>"); the ?v= query
	// parameter is a view ID and must not be taken for the database.
	segments := strings.Split(strings.Trim(u.Path, "/"), "/")
	last := strings.ReplaceAll(segments[len(segments)-1], "-", "")
	if len(last) < 32 {
		return "", false
	}
	return canonicalID(last[len(last)-32:])
}

// canonicalID returns s as a dashed lower-case UUID when s is 32 hex digits, dashed or not.
func canonicalID(s string) (string, bool) {
	compact := strings.ToLower(s)
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		compact = strings.ReplaceAll(compact, "-", "")
	}
	if len(compact) != 32 {
		return "", false
	}
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return compact[0:8] + "-" + compact[8:12] + "-" + compact[12:16] + "-" + compact[16:20] + "-" + compact[20:], true
}
