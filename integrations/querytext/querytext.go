// Package querytext splits the import queries people type after "/pokor … from <tracker>" into
// words, the way the trackers that take filters (github, gitlab, azure) read them.
package querytext

import (
	"errors"
	"strings"
	"unicode"
)

// ErrOpenQuote is returned for a query whose last quote is not closed.
var ErrOpenQuote = errors.New("a quote is not closed")

// IsQuote reports whether r opens or closes a quoted value. Curly quotes count because chat
// clients on phones and Macs replace straight quotes as the user types.
func IsQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

// Split splits a query on white space, keeping quoted text ("v2 beta") together and dropping the
// quotes, so that both milestone:"v2 beta" and "milestone:v2 beta" read as one word.
func Split(s string) ([]string, error) {
	var (
		tokens  []string
		cur     strings.Builder
		inToken bool
		inQuote bool
	)
	for _, r := range s {
		switch {
		case IsQuote(r):
			inQuote = !inQuote
			inToken = true
		case unicode.IsSpace(r) && !inQuote:
			if inToken {
				tokens = append(tokens, cur.String())
				cur.Reset()
				inToken = false
			}
		default:
			cur.WriteRune(r)
			inToken = true
		}
	}
	if inQuote {
		return nil, ErrOpenQuote
	}
	if inToken {
		tokens = append(tokens, cur.String())
	}
	return tokens, nil
}
