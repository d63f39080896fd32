package session_test

import (
	"slices"
	"testing"

	"github.com/pokor/pokor/session"
)

// listener is a subscriber that also records the membership changes the Hub tells it of.
type listener struct {
	queue
	changes []session.MemberChange
}

func (l *listener) MemberChanged(ch session.MemberChange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, ch)
}

// TestHubMemberChanges: a change travels in the stream of events and reroutes every connection
// of its participant from that point on: demoted, promoted, removed.
func TestHubMemberChanges(t *testing.T) {
	h := session.NewHub()
	phone, laptop := &listener{queue: queue{unbound: true}}, &listener{queue: queue{unbound: true}}
	plain := &queue{unbound: true} // a subscriber that is not a MemberListener
	for _, sub := range []session.Subscriber{phone, laptop, plain} {
		m := &session.Member{Sub: sub, ParticipantID: "oscar"}
		m.SetRole(true, false)
		h.Join("s", m)
	}
	other, otherQ := newMember("ann", false, false)
	h.Join("s", other)
	deliver := func(msg string, orgOnly bool) {
		h.Deliver(session.Envelope{SessionID: "s", OrganizersOnly: orgOnly, Msg: []byte(msg)})
	}
	change := func(ch session.MemberChange) {
		h.Deliver(session.Envelope{SessionID: "s", Change: &ch})
	}

	deliver("org 1", true)
	change(session.MemberChange{ParticipantID: "oscar", Role: session.RoleVoter})
	deliver("org 2", true)
	deliver("all 1", false)
	change(session.MemberChange{ParticipantID: "oscar", Role: session.RoleOrganizer})
	deliver("org 3", true)
	change(session.MemberChange{ParticipantID: "oscar", Role: session.RoleOrganizer, Removed: true, Reason: "gone"})
	deliver("all 2", false)
	h.Deliver(session.Envelope{SessionID: "s", To: "oscar", Msg: []byte("to oscar")})

	want := []string{"org 1", "all 1", "org 3"}
	for name, q := range map[string]*queue{"phone": &phone.queue, "laptop": &laptop.queue, "plain": plain} {
		if got := q.received(); !slices.Equal(got, want) {
			t.Errorf("%s received %q, want %q", name, got, want)
		}
	}
	if got := otherQ.received(); !slices.Equal(got, []string{"all 1", "all 2"}) {
		t.Errorf("another member received %q", got)
	}
	for _, l := range []*listener{phone, laptop} {
		if len(l.changes) != 3 || !l.changes[2].Removed || l.changes[2].Reason != "gone" || len(l.kicked) != 0 {
			t.Errorf("a listener was told %+v, kicked %v", l.changes, l.kicked)
		}
	}
	if !slices.Equal(plain.kicked, []string{"gone"}) {
		t.Errorf("a plain subscriber of a removed member was kicked with %q", plain.kicked)
	}
}

// TestMemberSettle: a joining connection's flags follow the participant it read, unless a change
// arrived since it marked, which is newer.
func TestMemberSettle(t *testing.T) {
	h := session.NewHub()
	m := &session.Member{Sub: &queue{unbound: true}, ParticipantID: "p"}
	m.SetRole(false, false)
	h.Join("s", m)
	voter := &session.Participant{ID: "p", Role: session.RoleVoter, Status: session.StatusActive}
	org := &session.Participant{ID: "p", Role: session.RoleOrganizer, Status: session.StatusActive}

	if !m.Settle(m.Mark(), voter) {
		t.Error("Settle with the flags the member already has reported a difference")
	}
	if m.Settle(m.Mark(), org) {
		t.Error("Settle with a new role reported no difference")
	}
	if !m.Settle(m.Mark(), org) {
		t.Error("Settle did not take the new role")
	}
	mark := m.Mark()
	h.Deliver(session.Envelope{SessionID: "s", Change: &session.MemberChange{ParticipantID: "p", Role: session.RoleVoter}})
	if m.Settle(mark, org) {
		t.Error("Settle ignored a change that arrived after the mark")
	}
	h.Deliver(session.Envelope{SessionID: "s", OrganizersOnly: true, Msg: []byte("org")})
	if got := m.Sub.(*queue).received(); len(got) != 0 {
		t.Errorf("after the change to voter, the stale read did not win: %q", got)
	}
}

// TestHubReconcile: members whose participant changed unseen are rerouted; the others are left
// alone.
func TestHubReconcile(t *testing.T) {
	h := session.NewHub()
	join := func(id string, organizer bool) *listener {
		l := &listener{queue: queue{unbound: true}}
		m := &session.Member{Sub: l, ParticipantID: id}
		m.SetRole(organizer, false)
		h.Join("s", m)
		return l
	}
	same, demoted, gone := join("same", true), join("demoted", true), join("gone", false)
	stored := map[string]*session.Participant{
		"same":    {ID: "same", Role: session.RoleOrganizer, Status: session.StatusActive},
		"demoted": {ID: "demoted", Role: session.RoleVoter, Status: session.StatusActive},
	}
	h.Reconcile("s", func(id string) *session.Participant { return stored[id] })
	h.Deliver(session.Envelope{SessionID: "s", OrganizersOnly: true, Msg: []byte("org")})
	if len(same.changes) != 0 || !slices.Equal(same.received(), []string{"org"}) {
		t.Errorf("an unchanged organizer: changes %+v, received %q", same.changes, same.received())
	}
	if len(demoted.changes) != 1 || demoted.changes[0].Role != session.RoleVoter || len(demoted.received()) != 0 {
		t.Errorf("a demoted organizer: changes %+v, received %q", demoted.changes, demoted.received())
	}
	if len(gone.changes) != 1 || !gone.changes[0].Removed || gone.changes[0].Reason != session.ReasonGone {
		t.Errorf("a participant gone from the store: %+v", gone.changes)
	}
}
