package mattermost

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestGermanTeam: with POKOR_LANGUAGE=de (a slash command carries no locale), the answer, the
// button, the invitation and the channel's summaries are German, numbers included.
func TestGermanTeam(t *testing.T) {
	de, err := bots.ParseLanguage("de")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, true, func(c *Config) { c.Language = de })
	f := e.form("Sprint 42")
	m := e.command(f)
	if !strings.HasPrefix(m.Text, "**Sprint 42** ist bereit. [Zum Moderieren beitreten](") ||
		!strings.HasSuffix(m.Text, "**Kanal einladen** postet einen Link, mit dem alle hier beitreten können.") {
		t.Errorf("answer %q", m.Text)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Actions[0].Name != "Kanal einladen" || m.Attachments[0].Fallback != "Kanal einladen" {
		t.Errorf("button %s", mustJSON(m.Attachments))
	}
	if help := e.command(e.form("help")); !strings.Contains(help.Text, "`/pokor help` diese Hilfe") {
		t.Errorf("help %q", help.Text)
	}

	ctx := inviteContext(t, m)
	status, r := e.press(f, ctx)
	if status != http.StatusOK || r.EphemeralText != "Der Kanal ist zu **Sprint 42** eingeladen." {
		t.Fatalf("%d %+v", status, r)
	}
	id := ctx["session"].(string)
	room := e.svc.RoomURL(id)
	p := e.mm.waitPost(t, func(sentPost) bool { return true })
	if want := "@somename lädt alle ein, **Sprint 42** mit Planning Poker zu schätzen: [Tretet der Sitzung bei](" + room + ") und wählt eure Karten."; p.Post.Message != want {
		t.Errorf("invitation %q, want %q", p.Post.Message, want)
	}

	org := e.organizer(id, f)
	a := session.Actor{SessionID: id, ParticipantID: org.ID}
	stories, err := e.svc.AddStories(t.Context(), a, []session.StoryInput{{Title: "Login"}, {Title: "Export"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, value := range []string{"5", "½"} {
		if _, err := e.svc.Vote(t.Context(), a, stories[i].ID, session.VoteInput{Card: "1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reveal(t.Context(), a, stories[i].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Accept(t.Context(), a, stories[i].ID, value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CloseSession(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	p = e.mm.waitPost(t, func(p sentPost) bool { return strings.Contains(p.Post.Message, "ist beendet") })
	want := "**Sprint 42** ist beendet: 2 von 2 Storys geschätzt, insgesamt 5,5 Punkte.\n• „Login“: **5**\n• „Export“: **½**\nDabei waren: somename.\n[Raum öffnen](" + room + ")"
	if p.Post.Message != want {
		t.Errorf("summary\n%q\nwant\n%q", p.Post.Message, want)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
