package bots_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/botstest"
	"github.com/pokor/pokor/bots/discord"
	"github.com/pokor/pokor/bots/mattermost"
	"github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/session"
)

func platforms() []bots.Platform {
	return []bots.Platform{slack.Platform, discord.Platform, mattermost.Platform}
}

// plainText undoes a platform's markup: links become "text (url)", bold and escapes go, so
// that what the three platforms say can be compared.
func plainText(platform, s string) string {
	if platform == "slack" {
		s = regexp.MustCompile(`<([^|>]+)\|([^>]*)>`).ReplaceAllString(s, "$2 ($1)")
		s = regexp.MustCompile(`\*([^*\n]+)\*`).ReplaceAllString(s, "$1")
		return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "%7C", "|").Replace(s)
	}
	s = regexp.MustCompile(`\[((?:\\.|[^\]])*)\]\(([^)]+)\)`).ReplaceAllString(s, "$1 ($2)")
	s = strings.ReplaceAll(s, "**", "")
	s = regexp.MustCompile(`\\(.)`).ReplaceAllString(s, "$1")
	return strings.NewReplacer("\u200b", "", "%20", " ", "%28", "(", "%29", ")").Replace(s)
}

// TestSameSummaryEverywhere: Slack, Discord and Mattermost say the same thing about a session:
// its title, each estimated story with its link, the points in all and who took part.
func TestSameSummaryEverywhere(t *testing.T) {
	sess := &session.Session{Title: "Sprint 42 <R&D> @channel"}
	stories := []*session.Story{
		{Title: "Log in with SSO", ExternalKey: "acme/api#1", URL: "https://github.com/acme/api/issues/1", Status: session.StoryEstimated, Estimate: "5"},
		{Title: "Export [CSV] | fast_path", URL: "https://acme.atlassian.net/browse/API-2?x=(1)", Status: session.StoryEstimated, Estimate: "8"},
		{Title: "Not estimated yet", Status: session.StoryOpen},
		{Title: "Typed in the room", Status: session.StoryEstimated, Estimate: "½"},
	}
	round := &session.RoundView{Votes: []session.Vote{{ParticipantID: "a", Card: "5"}, {ParticipantID: "b", Card: "8"}}}
	anonymous := &session.RoundView{Round: session.Round{Anonymous: true}, Votes: []session.Vote{{Card: "5"}, {Card: "8"}}}
	names := map[string]string{"a": "Ann_x", "b": "Bob"}
	notices := []session.Notice{
		{Kind: "estimated", Session: sess, Story: stories[0], Round: round, Names: names, URL: "http://pokor/s/1"},
		{Kind: "estimated", Session: sess, Story: stories[0], Round: anonymous, URL: "http://pokor/s/1"},
		{Kind: "closed", Session: sess, Stories: stories, People: []string{"Ann", "Bob", "Carol_x"}, URL: "http://pokor/s/1"},
	}
	wants := []string{
		"Sprint 42 <R&D> @channel: acme/api#1 Log in with SSO (https://github.com/acme/api/issues/1) estimated at 5.\nVotes: Ann_x 5, Bob 8",
		"Sprint 42 <R&D> @channel: acme/api#1 Log in with SSO (https://github.com/acme/api/issues/1) estimated at 5.\nVotes (anonymous): 5, 8",
		"Sprint 42 <R&D> @channel has ended: 3 of 4 stories estimated, 13.5 points in all.\n" +
			"• acme/api#1 Log in with SSO (https://github.com/acme/api/issues/1): 5\n" +
			"• Export [CSV] | fast_path (https://acme.atlassian.net/browse/API-2?x=(1)): 8\n" +
			"• “Typed in the room”: ½\n" +
			"Took part: Ann, Bob and Carol_x.",
	}
	for i, n := range notices {
		s := bots.Summarize(n)
		for _, p := range platforms() {
			t.Run(fmt.Sprint(i, n.Kind, "/", p.Name), func(t *testing.T) {
				got := s.Render(p.Markup)
				if plain := plainText(p.Name, got); plain != wants[i] {
					t.Errorf("%s says\n%s\nas text\n%s\nwant\n%s", p.Label, got, plain, wants[i])
				}
				if p.Name == "mattermost" && strings.Contains(got, "@channel") {
					t.Errorf("the Mattermost summary would notify the channel: %q", got)
				}
			})
		}
	}
}

// TestSummaryBounds: a long session lists MaxListed stories and counts the rest, within each
// platform's limit.
func TestSummaryBounds(t *testing.T) {
	var stories []*session.Story
	var people []string
	for i := range 300 {
		stories = append(stories, &session.Story{Title: strings.Repeat("word ", 30), URL: fmt.Sprintf("https://t/%d", i), Status: session.StoryEstimated, Estimate: "M"})
		people = append(people, fmt.Sprintf("Person %d", i))
	}
	s := bots.Summarize(session.Notice{Kind: "closed", Session: &session.Session{Title: "Big"}, Stories: stories, People: people})
	if s.HasPoints {
		t.Error("T-shirt sizes added up")
	}
	for _, p := range platforms() {
		got := s.Render(p.Markup)
		if n := len([]rune(got)); n > p.Markup.Limit {
			t.Errorf("%s: %d characters, the limit is %d", p.Name, n, p.Markup.Limit)
		}
		if strings.Count(got, "• ") > bots.MaxListed || !strings.Contains(got, "more in the session.") || !strings.Contains(got, "and 280 more.") {
			t.Errorf("%s:\n%s", p.Name, got)
		}
		if strings.Contains(got, "points") {
			t.Errorf("%s: points of T-shirt sizes", p.Name)
		}
	}
}

func TestFailure(t *testing.T) {
	m := mattermost.Markup
	tests := []struct {
		err  error
		want string
	}{
		{session.Errorf(session.CodeNotFound, "session not found"), "⚠️ Could not load the session: session not found."},
		{session.Errorf(session.CodeUnavailable, "jira is down"), "⚠️ Could not load the session: jira is down. Try again in a minute."},
		{session.Errorf(session.CodeInvalid, "the title is *too* long."), `⚠️ Could not load the session: the title is \*too\* long.`},
		{errors.New("disk on fire at /var/secret"), "⚠️ Could not load the session: something went wrong on our side; please try again."},
	}
	for _, tt := range tests {
		if got := bots.Failure(m, "bot.failure.load", tt.err); got != tt.want {
			t.Errorf("Failure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	g := bots.NewGrammar((&botstest.Trackers{}).Trackers())
	for _, p := range platforms() {
		h := g.HelpIn(p.Markup, "")
		bold := p.Markup.Bold("Join as organizer")
		if !strings.Contains(h, bold) || !strings.Contains(h, "`/pokor Sprint 42`") {
			t.Errorf("%s help:\n%s", p.Name, h)
		}
	}
	if h := g.HelpIn(slack.Markup, "say what"); !strings.HasPrefix(h, ":warning: say what\n\n") {
		t.Errorf("help with a problem: %q", h)
	}
}

// TestDescriptors: every platform says what it reads, serves and how it verifies and answers.
func TestDescriptors(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range platforms() {
		if p.Name == "" || p.Label == "" || p.Docs == "" || p.Verify == "" || p.Answer == "" || p.New == nil || len(p.Endpoints) == 0 || len(p.Settings) == 0 {
			t.Errorf("%+v is incomplete", p)
		}
		for _, s := range p.Settings {
			if seen[s.Env] || !strings.HasPrefix(s.Env, strings.ToUpper(p.Name)+"_") || s.Help == "" {
				t.Errorf("%s: setting %+v", p.Name, s)
			}
			seen[s.Env] = true
		}
		if p.Enabled(func(string) string { return "" }) {
			t.Errorf("%s is enabled by an empty configuration", p.Name)
		}
	}
}
