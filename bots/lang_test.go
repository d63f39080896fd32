package bots_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/bots/botstest"
	"github.com/pokor/pokor/bots/discord"
	"github.com/pokor/pokor/bots/mattermost"
	"github.com/pokor/pokor/bots/slack"
	"github.com/pokor/pokor/session"
)

func german(t *testing.T) bots.Markup {
	t.Helper()
	de, err := bots.ParseLanguage("de")
	if err != nil {
		t.Fatal(err)
	}
	return mattermost.Markup.In(de)
}

// TestGermanReplies: the shared replies in German, with German numbers and plurals.
func TestGermanReplies(t *testing.T) {
	de := german(t)
	sess := &session.Session{Title: "Sprint 42"}
	stories := []*session.Story{
		{Title: "Login", Status: session.StoryEstimated, Estimate: "5"},
		{Title: "Export", Status: session.StoryEstimated, Estimate: "0.5"},
		{Title: "Offen", Status: session.StoryOpen},
	}
	tests := []struct{ name, got, want string }{
		{"closed", bots.Summarize(session.Notice{Kind: "closed", Session: sess, Stories: stories, People: []string{"Ann", "Bob", "Carol"}}).Render(de),
			"**Sprint 42** ist beendet: 2 von 3 Storys geschätzt, insgesamt 5,5 Punkte.\n• „Login“: **5**\n• „Export“: **0.5**\nDabei waren: Ann, Bob und Carol."},
		{"one story, one point", bots.Summarize(session.Notice{Kind: "closed", Session: sess, Stories: []*session.Story{{Title: "A", Status: session.StoryEstimated, Estimate: "1"}}}).Render(de),
			"**Sprint 42** ist beendet: 1 von 1 Story geschätzt, insgesamt 1 Punkt.\n• „A“: **1**"},
		{"estimated", bots.Summarize(session.Notice{Kind: "estimated", Session: sess, Story: stories[0],
			Round: &session.RoundView{Round: session.Round{Anonymous: true}, Votes: []session.Vote{{Card: "5"}, {Card: "8"}}}}).Render(de),
			"**Sprint 42**: „Login“ auf **5** geschätzt.\nStimmen (anonym): 5, 8"},
		{"failure", bots.Failure(de, "bot.failure.start", session.Errorf(session.CodeUnavailable, "the database is down")),
			"⚠️ Die Sitzung konnte nicht gestartet werden: the database is down. Versuch es in einer Minute noch einmal."},
		{"gone", bots.Gone(de, true), "⚠️ Diese Sitzung ist beendet. Führe `/pokor` aus, um eine neue zu starten."},
		{"imported one", bots.ImportOutcome(de, "Sprint 42", bots.Command{Source: "github", Query: "acme/api"}, session.ImportResult{Added: 1}, nil, false),
			"✅ 1 Story aus github in **Sprint 42** importiert."},
		{"imported many", bots.ImportOutcome(de, "Sprint 42", bots.Command{Source: "github", Query: "acme/api"}, session.ImportResult{Added: 1200}, nil, false),
			"✅ 1.200 Storys aus github in **Sprint 42** importiert."},
		{"import failed", bots.ImportOutcome(de, "Sprint 42", bots.Command{Source: "github", Query: "x"}, session.ImportResult{}, session.Errorf(session.CodeNotFound, "no such repository"), false),
			"⚠️ Storys aus github konnten nicht in **Sprint 42** importiert werden: no such repository. Du kannst auch im Raum importieren."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, tt.got, tt.want)
		}
	}
}

// TestGermanHelp: the help explains the grammar in German; the commands stay as typed.
func TestGermanHelp(t *testing.T) {
	g := bots.NewGrammar((&botstest.Trackers{}).Trackers())
	de := german(t)
	h := g.HelpIn(de, "")
	for _, want := range []string{"**Eine Planning-Poker-Sitzung starten**", "`/pokor` neue Sitzung mit Standardtitel",
		"`/pokor Sprint 42 from github acme/api label:ready`", "`/pokor help` diese Hilfe", "**Zum Moderieren beitreten**"} {
		if !strings.Contains(h, want) {
			t.Errorf("German help lacks %q:\n%s", want, h)
		}
	}
	_, err := g.FromOptions("Sprint", "gitlab", "x")
	var pe *bots.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("unknown source: %v", err)
	}
	if got, want := pe.Text(de), `unbekannte Quelle "gitlab": nimm github, jira oder notion`; got != want {
		t.Errorf("German parse error %q, want %q", got, want)
	}
	if got, want := pe.Error(), `unknown source "gitlab": use github, jira or notion`; got != want {
		t.Errorf("English parse error %q, want %q", got, want)
	}
}

func TestLanguage(t *testing.T) {
	de, _ := bots.ParseLanguage("de")
	tests := []struct {
		tag  string
		fall string
		want string
	}{
		{"de", "", "de"}, {"de-AT", "", "de"}, {"en-US", "de", "en"}, {"en-GB", "", "en"},
		{"es-ES", "", "en"}, {"es-ES", "de", "de"}, {"", "de", "de"}, {"", "", "en"}, {"not a tag!", "", "en"},
	}
	for _, tt := range tests {
		fall := de
		if tt.fall == "" {
			fall = nil
		}
		if got := bots.Language(tt.tag, fall).Tag; got != tt.want {
			t.Errorf("Language(%q, %q) = %s, want %s", tt.tag, tt.fall, got, tt.want)
		}
	}
	_, err := bots.ParseLanguage("fr")
	if err == nil || !strings.Contains(err.Error(), `"fr"`) || !strings.Contains(err.Error(), "en, de") {
		t.Errorf("ParseLanguage(fr): %v", err)
	}
}

// recorder is a bot that keeps what it was asked to post.
type recorder struct{ posts []bots.Message }

func (r *recorder) Mount(gin.IRouter) {}
func (r *recorder) PostChannel(_ context.Context, _ session.Origin, m bots.Message) error {
	r.posts = append(r.posts, m)
	return nil
}
func (r *recorder) PostPerson(_ context.Context, _ session.Origin, _ string, m bots.Message) error {
	r.posts = append(r.posts, m)
	return nil
}
func (r *recorder) Close() error { return nil }

// TestChatsSpeakTheSessionsLanguage: a summary and a reminder speak the language the session's
// command was answered in (Origin.Language), else the server's default.
func TestChatsSpeakTheSessionsLanguage(t *testing.T) {
	de, _ := bots.ParseLanguage("de")
	rec := &recorder{}
	chats := bots.Chats{"discord": {Platform: discord.Platform, Bot: rec}, "slack": {Platform: slack.Platform, Bot: rec, Language: de}}
	story := &session.Story{Title: "Login", Status: session.StoryEstimated, Estimate: "3"}
	ctx := context.Background()
	for _, tt := range []struct {
		origin       session.Origin
		text, button string
	}{
		{session.Origin{Platform: "discord", Language: "de"}, "„Login“ auf **3** geschätzt", "Raum öffnen"},
		{session.Origin{Platform: "discord"}, "“Login” estimated at **3**", "Open the room"},
		{session.Origin{Platform: "slack"}, "„Login“ auf *3* geschätzt", "Raum öffnen"},
		{session.Origin{Platform: "slack", Language: "en"}, "“Login” estimated at *3*", "Open the room"},
	} {
		rec.posts = nil
		sess := &session.Session{Title: "S", Origin: tt.origin}
		if err := chats.Notify(ctx, session.Notice{Kind: "estimated", Session: sess, Story: story, URL: "http://pokor/s/1"}); err != nil {
			t.Fatal(err)
		}
		if len(rec.posts) != 1 || !strings.Contains(rec.posts[0].Text, tt.text) || rec.posts[0].Link.Label != tt.button {
			t.Errorf("%+v: posted %+v, want %q and %q", tt.origin, rec.posts, tt.text, tt.button)
		}
	}
	rec.posts = nil
	sess := &session.Session{Title: "S", Origin: session.Origin{Platform: "discord", Language: "de"}}
	if err := chats.Remind(ctx, sess, story, "discord:G:U", "Ann", "http://pokor/s/1"); err != nil {
		t.Fatal(err)
	}
	if len(rec.posts) != 1 || rec.posts[0].Text != "⏳ Ann wartet in **S** auf deine Stimme zu „Login“." || rec.posts[0].Link.Label != "Jetzt abstimmen" {
		t.Errorf("German reminder: %+v", rec.posts)
	}
}
