package slack

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
)

// TestGermanWorkspace: with POKOR_LANGUAGE=de (Slack sends no locale with a command), the
// answer, its buttons, the help, the invitation, the import's outcome and the channel's
// summaries are German.
func TestGermanWorkspace(t *testing.T) {
	de, err := bots.ParseLanguage("de")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.Language, c.BotToken = de, envBotToken })

	m, form, id := e.startSession("Sprint 42")
	join, _ := m.button(actionJoinOrganizer)
	invite, _ := m.button(actionInvite)
	if !strings.Contains(string(join.Text), `"Zum Moderieren beitreten"`) || !strings.Contains(string(invite.Text), `"Kanal einladen"`) {
		t.Errorf("buttons %s and %s", join.Text, invite.Text)
	}
	if len(m.Blocks) < 2 || m.Blocks[1].Text == nil || !strings.HasPrefix(m.Blocks[1].Text.Text,
		"Deine Planning-Poker-Sitzung ist bereit. *Zum Moderieren beitreten* öffnet sie mit dir als Moderation") {
		t.Errorf("blocks %+v", m.Blocks)
	}
	if m.Text != "Deine Planning-Poker-Sitzung „Sprint 42“ ist bereit: Tritt zum Moderieren bei und lade dann den Kanal ein." {
		t.Errorf("notification text %q", m.Text)
	}

	help := e.command(e.commandForm("help"))
	if !strings.Contains(help.Text, "*Eine Planning-Poker-Sitzung starten*") || !strings.Contains(help.Text, "`/pokor help` diese Hilfe") {
		t.Errorf("help %q", help.Text)
	}
	mistake := e.command(e.commandForm("Sprint 42 from github"))
	if !strings.HasPrefix(mistake.Text, ":warning: sag, was aus github importiert werden soll, zum Beispiel: `/pokor Sprint 42 from github acme/api label:ready`") {
		t.Errorf("a mistake %q", mistake.Text)
	}

	hook := "actions/T0001/1/secret"
	e.secret(e.slack.hookURL(hook))
	if status, out := e.interact(blockActions(t, form, e.slack.hookURL(hook), actionInvite, id)); status != http.StatusOK {
		t.Fatalf("Invite channel: %d %s", status, out)
	}
	inv := e.slack.waitHook(t, hook, func(hookPost) bool { return true }).Msg
	if want := "<@U2147483697> lädt alle ein, *Sprint 42* mit Planning Poker zu schätzen: <" + e.svc.RoomURL(id) + "|Tretet der Sitzung bei> und wählt eure Karten."; inv.Text != want {
		t.Errorf("invitation %q, want %q", inv.Text, want)
	}

	imp := e.commandForm("Sprint 43 from github acme/missing")
	if m := e.command(imp); !strings.Contains(mustJSON(t, m), "Storys werden aus github importiert") {
		t.Errorf("the answer does not say the import runs: %+v", m)
	}
	out := e.slack.waitHook(t, strings.TrimPrefix(imp.Get("response_url"), e.slack.srv.URL+"/hooks/"), func(hookPost) bool { return true })
	if !strings.HasPrefix(out.Msg.Text, ":warning: Storys aus github konnten nicht in *Sprint 43* importiert werden: github: repository acme/missing") ||
		!strings.HasSuffix(out.Msg.Text, "Du kannst auch im Raum importieren.") {
		t.Errorf("import outcome %q", out.Msg.Text)
	}

	a := e.estimate(id, e.organizer(id, form), "Log in with SSO")
	p := e.slack.waitChat(t, func(p chatPost) bool { return strings.Contains(p.Text, "geschätzt") })
	if !strings.HasPrefix(p.Text, "*Sprint 42*: „Log in with SSO“ auf *5* geschätzt.\nStimmen: ") || !strings.Contains(p.Blocks, "Raum öffnen") {
		t.Errorf("summary %q (blocks %s)", p.Text, p.Blocks)
	}
	if _, err := e.svc.CloseSession(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	p = e.slack.waitChat(t, func(p chatPost) bool { return strings.Contains(p.Text, "ist beendet") })
	if !strings.HasPrefix(p.Text, "*Sprint 42* ist beendet: 1 von 1 Story geschätzt, insgesamt 5 Punkte.\n• „Log in with SSO“: *5*\nDabei waren: ") {
		t.Errorf("end summary %q", p.Text)
	}
}
