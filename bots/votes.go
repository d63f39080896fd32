package bots

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// VotesLine describes the votes of the round an estimate came from, in plain text for a chat
// summary: "Votes: Ann 3, Bob 5", or "Votes (anonymous): 3, 5" when that round was revealed
// anonymously. It follows the round, never the session's setting of today. Empty when the notice
// carries no votes.
func VotesLine(n session.Notice) string {
	if n.Round == nil || len(n.Round.Votes) == 0 {
		return ""
	}
	parts := make([]string, 0, len(n.Round.Votes))
	for _, v := range n.Round.Votes {
		if n.Round.Anonymous || v.ParticipantID == "" {
			parts = append(parts, v.Card)
			continue
		}
		parts = append(parts, n.Names[v.ParticipantID]+" "+v.Card)
	}
	if n.Round.Anonymous {
		return "Votes (anonymous): " + strings.Join(parts, ", ")
	}
	return "Votes: " + strings.Join(parts, ", ")
}
