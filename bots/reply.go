package bots

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// Failure is the reply to a domain error, the same on every platform, in m's language: what
// could not be done (key, a catalog text with {reason} and the given pairs), the error's safe
// message and, by its code, what to do next. Each platform maps it once to its form of reply (an
// ephemeral message) and logs the internal errors. The error's message comes from the domain, in
// English.
func Failure(m Markup, key string, err error, pairs ...string) string {
	reason := m.Escape(strings.TrimSuffix(session.ErrorMessage(err), "."))
	text := m.Warn + " " + m.T(key, append(pairs, "reason", reason)...)
	switch session.ErrorCode(err) {
	case session.CodeUnavailable:
		text += " " + m.T("bot.failure.unavailable")
	case session.CodeConflict:
		text += " " + m.T("bot.failure.conflict")
	}
	return text
}

// Gone is the reply to a button of a session that no longer exists, or has ended.
func Gone(m Markup, ended bool) string {
	if ended {
		return m.Warn + " " + m.T("bot.gone.ended", "command", m.Code("/pokor"))
	}
	return m.Warn + " " + m.T("bot.gone.missing", "command", m.Code("/pokor"))
}

// ImportOutcome says what an import named by /pokor did, for the session titled title, in m's
// language. interrupted is true when Pokor was stopping while it ran.
func ImportOutcome(m Markup, title string, cmd Command, res session.ImportResult, err error, interrupted bool) string {
	into := []string{"source", cmd.Source, "title", m.Bold(m.Escape(title))}
	switch n := res.Added + res.Updated; {
	case err != nil && interrupted:
		return m.Warn + " " + m.T("bot.import.interrupted", into...)
	case err != nil:
		return Failure(m, "bot.import.failed", err, into...) + " " + m.T("bot.import.room_too")
	case n == 0:
		return m.T("bot.import.none", append(into, "query", m.Code(cmd.Query))...)
	default:
		return "✅ " + m.N("bot.import.done", float64(n), into...)
	}
}
