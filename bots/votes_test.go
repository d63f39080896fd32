package bots

import (
	"testing"

	"github.com/pokor/pokor/session"
)

func TestVotesLine(t *testing.T) {
	votes := func(ids ...string) []session.Vote {
		out := make([]session.Vote, len(ids))
		for i, id := range ids {
			out[i] = session.Vote{ParticipantID: id, Card: []string{"3", "5"}[i%2]}
		}
		return out
	}
	tests := []struct {
		name string
		n    session.Notice
		want string
	}{
		{"no round", session.Notice{}, ""},
		{"no votes", session.Notice{Round: &session.RoundView{}}, ""},
		{"named", session.Notice{Round: &session.RoundView{Votes: votes("a", "b")}, Names: map[string]string{"a": "Ann", "b": "Bob"}}, "Votes: Ann 3, Bob 5"},
		{"anonymous", session.Notice{Round: &session.RoundView{Round: session.Round{Anonymous: true}, Votes: votes("", "")}}, "Votes (anonymous): 3, 5"},
		// Names never show for an anonymous round, even if a caller left them in.
		{"anonymous with names", session.Notice{Round: &session.RoundView{Round: session.Round{Anonymous: true}, Votes: votes("a")}, Names: map[string]string{"a": "Ann"}}, "Votes (anonymous): 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VotesLine(Markup{}, tt.n); got != tt.want {
				t.Errorf("VotesLine = %q, want %q", got, tt.want)
			}
		})
	}
}
