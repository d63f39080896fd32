package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// blockActions is Slack's documented block_actions payload, pressed by the user of form on a
// button of Pokor's private message, as the form body Slack posts.
func blockActions(t *testing.T, form url.Values, responseURL, actionID, value string) string {
	t.Helper()
	var p map[string]any
	readJSON(t, "testdata/block_actions_docs_example.json", &p)
	p["team"] = map[string]any{"id": form.Get("team_id"), "domain": form.Get("team_domain")}
	p["user"] = map[string]any{"id": form.Get("user_id"), "username": form.Get("user_name"), "team_id": form.Get("team_id")}
	p["channel"] = map[string]any{"id": form.Get("channel_id"), "name": form.Get("channel_name")}
	p["container"] = map[string]any{"type": "message", "message_ts": "1548261231.000200", "channel_id": form.Get("channel_id"), "is_ephemeral": true}
	p["response_url"] = responseURL
	action := map[string]any{"action_id": actionID, "block_id": "pokor_session", "type": "button", "action_ts": "1548426417.840180",
		"text": map[string]any{"type": "plain_text", "text": "Invite channel", "emoji": true}}
	if value != "" {
		action["value"] = value
	}
	p["actions"] = []any{action}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

func (e *env) interact(body string) (int, string) {
	e.t.Helper()
	status, out := e.send("/slack/interactions", body, e.signed(body))
	return status, string(out)
}

// TestInviteChannel: pressing Invite channel posts, in the channel, the room link voters join
// with; the organizer's link stays private.
func TestInviteChannel(t *testing.T) {
	e := newEnv(t)
	_, form, id := e.startSession("Sprint 42 & <friends>")
	hook := "actions/T0001/1/secret"
	e.secret(e.slack.hookURL(hook))
	if status, out := e.interact(blockActions(t, form, e.slack.hookURL(hook), actionInvite, id)); status != http.StatusOK {
		t.Fatalf("Invite channel: %d %s", status, out)
	}
	got := e.slack.waitHook(t, hook, func(hookPost) bool { return true })
	room := e.svc.RoomURL(id)
	m := got.Msg
	if m.ResponseType != "in_channel" || m.ReplaceOriginal {
		t.Errorf("response_type %q replace_original %v, want a new in_channel message", m.ResponseType, m.ReplaceOriginal)
	}
	for _, want := range []string{"<@U2147483697>", "*Sprint 42 &amp; &lt;friends&gt;*", "<" + room + "|join the session>"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the invitation %q does not contain %q", m.Text, want)
		}
	}
	if b, ok := m.button(actionJoinRoom); !ok || b.URL != room {
		t.Errorf("the Join to vote button links %q, want %q", b.URL, room)
	}
	if strings.Contains(got.Raw, "/enter?t=") {
		t.Errorf("the channel got a pre-signed link: %s", got.Raw)
	}
}

func TestInteractions(t *testing.T) {
	e := newEnv(t)
	_, form, id := e.startSession("Sprint 42")
	_, closedForm, closedID := e.startSession("Old sprint")
	org := e.organizer(closedID, closedForm)
	if _, err := e.svc.CloseSession(t.Context(), session.Actor{SessionID: closedID, ParticipantID: org.ID}); err != nil {
		t.Fatal(err)
	}
	otherTeam := url.Values{}
	for k, v := range form {
		otherTeam[k] = v
	}
	otherTeam.Set("team_id", "T0002")
	docs := string(readFile(t, "testdata/block_actions_docs_example.json"))

	// Acknowledged, nothing posted.
	quiet := []struct {
		name string
		body string
	}{
		{"documented payload", url.Values{"payload": {docs}}.Encode()},
		{"Join as organizer (a URL button)", blockActions(t, form, e.slack.hookURL("actions/quiet"), actionJoinOrganizer, "")},
		{"a view closed", url.Values{"payload": {`{"type":"view_closed","team":{"id":"T0001"},"user":{"id":"U1"}}`}}.Encode()},
	}
	for _, tt := range quiet {
		t.Run(tt.name, func(t *testing.T) {
			if status, out := e.interact(tt.body); status != http.StatusOK {
				t.Fatalf("%d %s, want 200", status, out)
			}
		})
	}
	if status, _ := e.interact("payload=%7Bnot+json"); status != http.StatusBadRequest {
		t.Errorf("a payload that is not JSON: %d, want 400", status)
	}

	// Answered privately.
	private := []struct {
		name      string
		form      url.Values
		sessionID string
		says      string
	}{
		{"session of another workspace", otherTeam, id, "no longer exists"},
		{"unknown session", form, "nosuchsession", "no longer exists"},
		{"ended session", form, closedID, "has ended"},
	}
	for i, tt := range private {
		t.Run(tt.name, func(t *testing.T) {
			hook := "actions/private/" + string(rune('a'+i))
			if status, out := e.interact(blockActions(t, tt.form, e.slack.hookURL(hook), actionInvite, tt.sessionID)); status != http.StatusOK {
				t.Fatalf("%d %s", status, out)
			}
			got := e.slack.waitHook(t, hook, func(hookPost) bool { return true })
			if got.Msg.ResponseType != "ephemeral" || !strings.Contains(got.Msg.Text, tt.says) {
				t.Fatalf("answer %+v, want an ephemeral %q", got.Msg, tt.says)
			}
		})
	}
	if n := e.slack.hookCount("actions/"); n != len(private) {
		t.Errorf("%d posts to Slack, want %d (one per private answer)", n, len(private))
	}
}
