package bots

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// Failure is the reply to a domain error, the same on every platform: what could not be done, the
// error's safe message and, by its code, what to do next. Each platform maps it once to its form
// of reply (an ephemeral message) and logs the internal errors.
func Failure(m Markup, what string, err error) string {
	text := m.Warn + " Could not " + what + ": " + m.Escape(strings.TrimSuffix(session.ErrorMessage(err), "."))
	switch session.ErrorCode(err) {
	case session.CodeUnavailable:
		text += ". Try again in a minute."
	case session.CodeConflict:
		text += ". Open the room to see where it stands."
	default:
		text += "."
	}
	return text
}

// Gone is the reply to a button of a session that no longer exists, or has ended.
func Gone(m Markup, ended bool) string {
	if ended {
		return m.Warn + " This session has ended. Run " + m.Code("/pokor") + " to start a new one."
	}
	return m.Warn + " This session no longer exists. Run " + m.Code("/pokor") + " to start a new one."
}

// ImportOutcome says what an import named by /pokor did, for the session titled title.
// interrupted is true when Pokor was stopping while it ran.
func ImportOutcome(m Markup, title string, cmd Command, res session.ImportResult, err error, interrupted bool) string {
	into := cmd.Source + " into " + m.Bold(m.Escape(title))
	switch n := res.Added + res.Updated; {
	case err != nil && interrupted:
		return m.Warn + " The import from " + into + " was interrupted because Pokor is restarting. Import again from the room."
	case err != nil:
		return Failure(m, "import stories from "+into, err) + " You can import from the room too."
	case n == 0:
		return "No stories from " + cmd.Source + " match " + m.Code(cmd.Query) + "; " + m.Bold(m.Escape(title)) + " is ready for stories added in the room."
	default:
		return "✅ Imported " + Plural(n, "story", "stories") + " from " + into + "."
	}
}
