package bots

import (
	"strings"

	"github.com/pokor/pokor/session"
)

// VotesLine describes the votes of the round an estimate came from, in plain text for a chat
// summary in m's language: "Votes: Ann 3, Bob 5", or "Votes (anonymous): 3, 5" when that round
// was revealed anonymously. It follows the round, never the session's setting of today. Empty
// when the notice carries no votes.
func VotesLine(m Markup, n session.Notice) string {
	parts, anonymous := votes(n)
	if len(parts) == 0 {
		return ""
	}
	return votesLine(m, parts, anonymous)
}

func votesLine(m Markup, parts []string, anonymous bool) string {
	if anonymous {
		return m.T("bot.votes.anonymous", "votes", strings.Join(parts, ", "))
	}
	return m.T("bot.votes", "votes", strings.Join(parts, ", "))
}

// votes are the votes of a notice's round, each "Name card", or the cards alone when the round
// was revealed anonymously.
func votes(n session.Notice) (parts []string, anonymous bool) {
	if n.Round == nil || len(n.Round.Votes) == 0 {
		return nil, false
	}
	parts = make([]string, 0, len(n.Round.Votes))
	for _, v := range n.Round.Votes {
		if n.Round.Anonymous || v.ParticipantID == "" {
			parts = append(parts, v.Card)
			continue
		}
		parts = append(parts, n.Names[v.ParticipantID]+" "+v.Card)
	}
	return parts, n.Round.Anonymous
}
