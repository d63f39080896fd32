package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// fakeNudger records the reminders sent through chat, and fails for chat ids it is told to.
type fakeNudger struct {
	mu   sync.Mutex
	got  []session.Nudge
	fail map[string]bool
	done chan struct{}
}

func (f *fakeNudger) Nudge(_ context.Context, n session.Nudge) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, n)
	f.done <- struct{}{}
	if f.fail[n.Participant.ChatID] {
		return errors.New("slack: the bot cannot message this user")
	}
	return nil
}

// TestNudgeVoters: an organizer reminds whoever has not voted: in the room (an event for them
// alone) and, for people who came from a chat, through the bot; a failed chat message is shown
// to the organizers; reminders are spaced out.
func TestNudgeVoters(t *testing.T) {
	keys := mustKeys(t, testSecret)
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "pokor.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	nudger := &fakeNudger{fail: map[string]bool{"slack:T1:UFAIL": true}, done: make(chan struct{}, 8)}
	clk := &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	e := &env{store: &countingStore{Store: st}, hub: session.NewHub(), keys: keys, clock: clk}
	e.svc = session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Presence: e.hub, Keys: keys,
		BaseURL: "https://poker.example.com", Logger: slog.New(slog.DiscardHandler), Now: clk.Now, Nudger: nudger})

	sess, org := e.create(t, session.CreateInput{Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}})
	story := e.addStories(t, org, "Remind me")[0]
	ann := e.join(t, sess.ID, "Ann", "")
	link := func(chatID, name string) member {
		p, tok, err := e.svc.JoinWithLink(t.Context(), keys.SignLink(session.Link{SessionID: sess.ID, Role: session.RoleVoter, ChatID: chatID, Name: name, Expires: clk.Now().Add(time.Hour).Unix()}))
		if err != nil {
			t.Fatal(err)
		}
		return member{session.Actor{SessionID: sess.ID, ParticipantID: p.ID}, p, tok}
	}
	bob := link("slack:T1:U2", "Bob")
	link("slack:T1:UFAIL", "Cat")
	spec := e.join(t, sess.ID, "Sam", session.RoleSpectator)
	e.vote(t, ann, story.ID, card("3"))
	orgRec, _ := e.connect(t, org)
	annRec, _ := e.connect(t, ann)
	bobRec, _ := e.connect(t, bob)

	if _, err := e.svc.NudgeVoters(t.Context(), ann.Actor, "", bob.ID); session.ErrorCode(err) != session.CodeForbidden {
		t.Errorf("a voter nudged: %v", err)
	}
	for who, m := range map[string]member{"has voted": ann, "spectator": spec} {
		if _, err := e.svc.NudgeVoters(t.Context(), org.Actor, "", m.ID); session.ErrorCode(err) != session.CodeConflict {
			t.Errorf("nudging someone who %s: %v", who, err)
		}
	}

	res, err := e.svc.NudgeVoters(t.Context(), org.Actor, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range res.Nudged {
		got[n.Name] = n.Chat
	}
	if len(got) != 2 || got["Bob"] != "slack" || got["Cat"] != "slack" {
		t.Fatalf("nudged %+v, want Bob and Cat through slack", res.Nudged)
	}
	for range 2 {
		select {
		case <-nudger.done:
		case <-time.After(5 * time.Second):
			t.Fatal("the chat reminders were not sent")
		}
	}
	nudger.mu.Lock()
	for _, n := range nudger.got {
		if n.Story.ID != story.ID || n.From != "Olga" || n.URL != "https://poker.example.com/s/"+sess.ID || n.Session.Origin.Channel != "C1" {
			t.Errorf("chat reminder %+v", n)
		}
	}
	nudger.mu.Unlock()
	if evs := bobRec.events(t, session.EvNudge); len(evs) != 1 || !strings.Contains(string(evs[0]), `"from_name":"Olga"`) {
		t.Errorf("Bob's nudge events: %s", evs)
	}
	if evs := annRec.events(t, session.EvNudge); len(evs) != 0 {
		t.Errorf("Ann, who voted, was nudged: %s", evs)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		notices := orgRec.events(t, session.EvNotice)
		if len(notices) == 1 {
			var n struct{ Message string }
			_ = json.Unmarshal(notices[0], &n)
			if !strings.Contains(n.Message, "Could not remind Cat on slack") {
				t.Errorf("notice %q", n.Message)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("organizers were not told of the failed reminder (%d notices)", len(notices))
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Too soon for another reminder; after a while it goes again.
	if _, err := e.svc.NudgeVoters(t.Context(), org.Actor, "", bob.ID); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("a second reminder at once: %v", err)
	}
	clk.Add(time.Minute)
	if res, err := e.svc.NudgeVoters(t.Context(), org.Actor, "", bob.ID); err != nil || len(res.Nudged) != 1 {
		t.Errorf("a reminder a minute later: %+v, %v", res, err)
	}
}

// TestDuplicateNames: a second "Ann" joins as "Ann (2)", whatever the case, and a rename to a
// taken name is made distinct too.
func TestDuplicateNames(t *testing.T) {
	e := newEnv(t)
	sess, _ := e.create(t, session.CreateInput{Organizer: "Ann"})
	if got := e.join(t, sess.ID, "ann", "").Name; got != "ann (2)" {
		t.Errorf("second Ann is %q", got)
	}
	if got := e.join(t, sess.ID, "Ann", "").Name; got != "Ann (3)" {
		t.Errorf("third Ann is %q", got)
	}
	long := strings.Repeat("x", session.MaxNameLen)
	e.join(t, sess.ID, long, "")
	if got := e.join(t, sess.ID, long, "").Name; got != strings.Repeat("x", session.MaxNameLen-4)+" (2)" {
		t.Errorf("a long duplicate is %q", got)
	}
	bob := e.join(t, sess.ID, "Bob", "")
	name := "ANN"
	p, err := e.svc.UpdateParticipant(t.Context(), bob.Actor, bob.ID, session.ParticipantInput{Name: &name})
	if err != nil || p.Name != "ANN (4)" {
		t.Errorf("renamed to %q, %v", p.Name, err)
	}
	same := "ANN (4)"
	if p, err := e.svc.UpdateParticipant(t.Context(), bob.Actor, bob.ID, session.ParticipantInput{Name: &same}); err != nil || p.Name != same {
		t.Errorf("keeping one's own name gives %q, %v", p.Name, err)
	}
}
