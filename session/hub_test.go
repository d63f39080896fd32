package session_test

import (
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
)

// queue is a subscriber with a bounded queue, as a WebSocket connection has.
type queue struct {
	mu      sync.Mutex
	msgs    [][]byte
	size    int
	kicked  []string
	unbound bool
}

func (q *queue) Send(msg []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.unbound && len(q.msgs) >= q.size {
		return false
	}
	q.msgs = append(q.msgs, msg)
	return true
}

func (q *queue) Kick(reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.kicked = append(q.kicked, reason)
}

func (q *queue) received() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, len(q.msgs))
	for i, m := range q.msgs {
		out[i] = string(m)
	}
	return out
}

func newMember(id string, organizer, pending bool) (*session.Member, *queue) {
	q := &queue{unbound: true}
	m := &session.Member{Sub: q, ParticipantID: id}
	m.SetRole(organizer, pending)
	return m, q
}

func TestHubRouting(t *testing.T) {
	h := session.NewHub()
	org, orgQ := newMember("org", true, false)
	voter, voterQ := newMember("voter", false, false)
	voter2, voter2Q := newMember("voter", false, false) // a second device of the same voter
	waiting, waitingQ := newMember("waiting", false, true)
	elsewhere, elsewhereQ := newMember("other", true, false)
	for _, m := range []*session.Member{org, voter, voter2, waiting} {
		h.Join("s1", m)
	}
	h.Join("s2", elsewhere)

	h.Deliver(session.Envelope{SessionID: "s1", Msg: []byte("all")})
	h.Deliver(session.Envelope{SessionID: "s1", OrganizersOnly: true, Msg: []byte("organizers")})
	h.Deliver(session.Envelope{SessionID: "s1", To: "voter", Msg: []byte("to voter")})
	h.Deliver(session.Envelope{SessionID: "s1", To: "waiting", Msg: []byte("to waiting")})
	h.Deliver(session.Envelope{SessionID: "nobody", Msg: []byte("no room")})

	tests := []struct {
		name string
		q    *queue
		want []string
	}{
		{"organizer", orgQ, []string{"all", "organizers"}},
		{"voter", voterQ, []string{"all", "to voter"}},
		{"voter's second device", voter2Q, []string{"all", "to voter"}},
		{"waiting for admission", waitingQ, []string{"to waiting"}},
		{"other session", elsewhereQ, nil},
	}
	for _, tt := range tests {
		got := tt.q.received()
		if len(got) != len(tt.want) {
			t.Errorf("%s received %q, want %q", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s received %q, want %q", tt.name, got, tt.want)
			}
		}
	}

	// Admission changes routing.
	waiting.SetRole(false, false)
	h.Deliver(session.Envelope{SessionID: "s1", Msg: []byte("after admission")})
	if got := waitingQ.received(); got[len(got)-1] != "after admission" {
		t.Errorf("an admitted member received %q", got)
	}
}

func TestHubEncodesOnce(t *testing.T) {
	h := session.NewHub()
	var qs []*queue
	for _, id := range []string{"a", "b", "c"} {
		m, q := newMember(id, false, false)
		h.Join("s", m)
		qs = append(qs, q)
	}
	msg := []byte(`{"type":"voted"}`)
	h.Deliver(session.Envelope{SessionID: "s", Msg: msg})
	for _, q := range qs {
		q.mu.Lock()
		if len(q.msgs) != 1 || &q.msgs[0][0] != &msg[0] {
			t.Error("a member did not receive the very bytes published")
		}
		q.mu.Unlock()
	}
}

func TestHubCutsSlowConsumers(t *testing.T) {
	h := session.NewHub()
	slowQ := &queue{size: 2}
	slow := &session.Member{Sub: slowQ, ParticipantID: "slow"}
	fast, fastQ := newMember("fast", false, false)
	h.Join("s", slow)
	h.Join("s", fast)
	for range 5 {
		h.Deliver(session.Envelope{SessionID: "s", Msg: []byte("x")})
	}
	if got := len(fastQ.received()); got != 5 {
		t.Errorf("the fast member received %d of 5 events: a slow one held it back", got)
	}
	slowQ.mu.Lock()
	kicked := len(slowQ.kicked)
	slowQ.mu.Unlock()
	if kicked == 0 {
		t.Error("a member whose queue is full was not cut loose")
	}
	if st := h.Stats(); st.Drops != int64(kicked) || st.Delivered != 7 || st.Connections != 2 || st.Rooms != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestHubPresence(t *testing.T) {
	h := session.NewHub()
	type change struct {
		id        string
		connected bool
	}
	var changes []change
	h.OnPresence(func(sessionID, id string, connected bool) {
		if sessionID != "s" {
			t.Errorf("presence for session %q", sessionID)
		}
		changes = append(changes, change{id, connected})
	})
	phone, _ := newMember("ann", false, false)
	laptop, _ := newMember("ann", false, false)
	leavePhone := h.Join("s", phone)
	leaveLaptop := h.Join("s", laptop)
	if !h.Online("s")["ann"] {
		t.Error("Ann is not online")
	}
	leavePhone()
	leavePhone() // leaving twice is harmless
	if !h.Online("s")["ann"] {
		t.Error("Ann went offline while her laptop is still connected")
	}
	leaveLaptop()
	if h.Online("s")["ann"] {
		t.Error("Ann is online with no connection")
	}
	want := []change{{"ann", true}, {"ann", false}}
	if len(changes) != 2 || changes[0] != want[0] || changes[1] != want[1] {
		t.Errorf("presence changes = %v, want %v (first connection and last only)", changes, want)
	}
	if st := h.Stats(); st.Connections != 0 || st.Rooms != 0 {
		t.Errorf("after everyone left: %+v", st)
	}
}
