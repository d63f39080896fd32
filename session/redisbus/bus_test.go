package redisbus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/approvalstest"
	"github.com/pokor/pokor/session/sessiontest"
)

// recorder is a room connection that keeps what it is sent.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) Send(msg []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, bytes.Clone(msg))
	return true
}

func (r *recorder) Kick(string) {}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = string(m)
	}
	return out
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// instance is one Pokor instance as far as the bus is concerned: a hub and its bus.
type instance struct {
	hub  *session.Hub
	bus  *Bus
	stop context.CancelFunc
	done chan struct{}
}

func startBus(t *testing.T, redisURL, prefix string, opts ...func(*Bus)) *instance {
	t.Helper()
	hub := session.NewHub()
	b, err := New(Options{URL: redisURL, Prefix: prefix, Hub: hub, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{hub: hub, bus: b, stop: cancel, done: make(chan struct{})}
	go func() { defer close(in.done); b.Run(ctx) }()
	t.Cleanup(func() { in.close() })
	return in
}

func (in *instance) close() {
	in.stop()
	<-in.done
	in.bus.Close()
}

func (in *instance) join(sessionID, participantID string) (*recorder, func()) {
	r := &recorder{}
	return r, in.hub.Join(sessionID, &session.Member{Sub: r, ParticipantID: participantID})
}

func waitReady(t *testing.T, ins ...*instance) {
	t.Helper()
	waitFor(t, "the event bus to subscribe", func() bool {
		for _, in := range ins {
			if in.bus.Ready() != nil {
				return false
			}
		}
		return true
	})
}

func msg(n int) []byte { return fmt.Appendf(nil, `{"type":"emoji","data":{"n":%d}}`, n) }

func TestEventsCrossInstances(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	a, b := startBus(t, redisURL, prefix), startBus(t, redisURL, prefix)
	other := startBus(t, redisURL, "other-"+prefix) // another deployment on the same Redis
	waitReady(t, a, b, other)
	ra, _ := a.join("room", "ann")
	rb, _ := b.join("room", "bob")
	rOther, _ := other.join("room", "ann")
	rElse, _ := b.join("elsewhere", "eve")

	// Both instances publish into the room at once; each publisher's events stay in its order,
	// and every member sees the same interleaving.
	const n = 200
	var wg sync.WaitGroup
	for i, in := range []*instance{a, b} {
		wg.Go(func() {
			for k := range n {
				if err := in.bus.Publish(t.Context(), session.Envelope{SessionID: "room", Msg: msg(i*1000 + k)}); err != nil {
					t.Errorf("Publish: %v", err)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, "every event on both instances", func() bool { return len(ra.all()) == 2*n && len(rb.all()) == 2*n })
	if !slices.Equal(ra.all(), rb.all()) {
		t.Error("the members on the two instances saw the room's events in different orders")
	}
	for i := range 2 {
		var seq []int
		for _, m := range ra.all() {
			var ev struct{ Data struct{ N int } }
			_ = json.Unmarshal([]byte(m), &ev)
			if ev.Data.N/1000 == i {
				seq = append(seq, ev.Data.N%1000)
			}
		}
		if !slices.IsSorted(seq) || len(seq) != n {
			t.Errorf("instance %d's events arrived out of order or incomplete: %v", i, seq)
		}
	}
	if len(rElse.all()) != 0 {
		t.Errorf("a member of another room got %d events", len(rElse.all()))
	}
	if len(rOther.all()) != 0 {
		t.Errorf("a deployment with another prefix got %d events", len(rOther.all()))
	}

	// Routing still applies on the receiving side.
	org := &recorder{}
	leave := b.hub.Join("room", &session.Member{Sub: org, ParticipantID: "olga"})
	defer leave()
	b.hub.Members("room", func(m *session.Member) {
		if m.ParticipantID == "olga" {
			m.SetRole(true, false)
		}
	})
	_ = a.bus.Publish(t.Context(), session.Envelope{SessionID: "room", OrganizersOnly: true, Msg: msg(9001)})
	_ = a.bus.Publish(t.Context(), session.Envelope{SessionID: "room", To: "bob", Msg: msg(9002)})
	waitFor(t, "routed events", func() bool { return len(org.all()) == 1 && len(rb.all()) == 2*n+1 })
	if !bytes.Contains([]byte(org.all()[0]), []byte("9001")) || !bytes.Contains([]byte(rb.all()[2*n]), []byte("9002")) {
		t.Errorf("organizer got %v, bob's last event %s", org.all(), rb.all()[2*n])
	}
	if len(ra.all()) != 2*n {
		t.Errorf("ann got events meant for organizers or for bob")
	}
}

func countType(r *recorder, typ string) int {
	n := 0
	for _, m := range r.all() {
		var ev struct{ Type string }
		if json.Unmarshal([]byte(m), &ev) == nil && ev.Type == typ {
			n++
		}
	}
	return n
}

// TestRedisOutage takes Redis away from one instance: it says it is not ready, keeps delivering
// its own room events to its own members, and when Redis returns its members, and the members
// elsewhere of the rooms it served alone, are told to reconnect for a fresh snapshot.
func TestRedisOutage(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	px, viaProxy := sessiontest.RedisRelay(t, redisURL)
	a := startBus(t, viaProxy, prefix)
	b := startBus(t, redisURL, prefix)
	waitReady(t, a, b)
	ra, _ := a.join("room", "ann")
	rb, _ := b.join("room", "bob")
	rQuiet, _ := b.join("quiet", "quinn") // a room nothing happened in during the outage
	rQuietA, _ := a.join("quiet", "quentin")

	px.Cut()
	waitFor(t, "the instance to notice Redis is gone", func() bool { return a.bus.Ready() != nil })
	if err := a.bus.Ready(); err == nil || err.Error() != "event bus unavailable" {
		t.Errorf("Ready during the outage = %v", err)
	}
	if err := a.bus.Publish(t.Context(), session.Envelope{SessionID: "room", Msg: msg(1)}); err != nil {
		t.Errorf("Publish during the outage: %v (want local delivery, no error)", err)
	}
	if got := ra.all(); len(got) != 1 || got[0] != string(msg(1)) {
		t.Errorf("the local member got %v during the outage", got)
	}
	if b.bus.Ready() != nil {
		t.Error("the other instance, still connected, says it is not ready")
	}

	px.Restore()
	waitFor(t, "the instance to resubscribe", func() bool { return a.bus.Ready() == nil })
	waitFor(t, "the local members to be told to reconnect", func() bool { return countType(ra, "reconnect") == 1 && countType(rQuietA, "reconnect") == 1 })
	waitFor(t, "the members elsewhere of the room served alone to be told", func() bool { return countType(rb, "reconnect") == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := countType(rQuiet, "reconnect"); n != 0 {
		t.Errorf("a member elsewhere of a room that missed nothing was told to reconnect %d times", n)
	}
	if len(rb.all()) != 1 {
		t.Errorf("the member elsewhere got %v; the event of the outage is in its fresh snapshot, not replayed", rb.all())
	}

	// Events flow both ways again.
	_ = a.bus.Publish(t.Context(), session.Envelope{SessionID: "room", Msg: msg(2)})
	_ = b.bus.Publish(t.Context(), session.Envelope{SessionID: "room", Msg: msg(3)})
	waitFor(t, "events after the outage", func() bool { return len(ra.all()) == 4 && len(rb.all()) == 3 })
}

// TestRedisDownAtStart: an instance whose Redis is not there yet starts unready and catches up.
func TestRedisDownAtStart(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	px, viaProxy := sessiontest.RedisRelay(t, redisURL)
	px.Cut()
	a := startBus(t, viaProxy, prefix)
	time.Sleep(300 * time.Millisecond)
	if a.bus.Ready() == nil {
		t.Fatal("ready without Redis")
	}
	px.Restore()
	waitReady(t, a)
}

func TestPresence(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	short := func(b *Bus) { b.ttl, b.grace = 900*time.Millisecond, 300*time.Millisecond }
	a, b := startBus(t, redisURL, prefix, short), startBus(t, redisURL, prefix, short)
	waitReady(t, a, b)
	type change struct {
		id        string
		connected bool
	}
	var mu sync.Mutex
	var told []change
	next := func(_, id string, connected bool) {
		mu.Lock()
		told = append(told, change{id, connected})
		mu.Unlock()
	}
	changes := func() []change {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(told)
	}
	a.hub.OnPresence(a.bus.TrackPresence(next))
	b.hub.OnPresence(b.bus.TrackPresence(next))

	_, leaveAnn := a.join("room", "ann")
	_, leaveBob := b.join("room", "bob")
	for _, in := range []*instance{a, b} {
		if got := in.bus.Online("room"); !got["ann"] || !got["bob"] || len(got) != 2 {
			t.Errorf("Online on %s = %v, want ann and bob", in.bus.Instance(), got)
		}
	}
	if got := changes(); !slices.Equal(got, []change{{"ann", true}, {"bob", true}}) {
		t.Errorf("told %v", got)
	}

	// Ann moves from a to b: a short gap, no departure.
	leaveAnn()
	time.Sleep(100 * time.Millisecond)
	_, leaveAnn = b.join("room", "ann")
	time.Sleep(500 * time.Millisecond)
	if got := changes(); slices.Contains(got, change{"ann", false}) {
		t.Errorf("a participant who reconnected within the grace period was reported gone: %v", got)
	}

	// Bob leaves for good: reported once the grace period is over.
	leaveBob()
	if !a.bus.Online("room")["bob"] {
		t.Error("a participant who just left is already gone (no grace period)")
	}
	waitFor(t, "bob's departure", func() bool { return slices.Contains(changes(), change{"bob", false}) })
	if a.bus.Online("room")["bob"] {
		t.Error("bob still online after leaving")
	}

	// Ann's instance dies without a word: her entry runs out after the TTL.
	b.stop()
	<-b.done
	b.bus.Close()
	if !a.bus.Online("room")["ann"] {
		t.Error("ann went offline before her instance's entry ran out")
	}
	waitFor(t, "a dead instance's entries to expire", func() bool { return !a.bus.Online("room")["ann"] })
	_ = leaveAnn
}

// TestPresenceDrain: the connections an instance closes on shutdown are members moving elsewhere.
func TestPresenceDrain(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	short := func(b *Bus) { b.ttl, b.grace = 2*time.Second, 200*time.Millisecond }
	a, b := startBus(t, redisURL, prefix, short), startBus(t, redisURL, prefix, short)
	waitReady(t, a, b)
	var gone sync.Map
	a.hub.OnPresence(a.bus.TrackPresence(func(_, id string, connected bool) {
		if !connected {
			gone.Store(id, true)
		}
	}))
	_, leave := a.join("room", "ann")
	a.bus.Drain()
	leave()
	time.Sleep(500 * time.Millisecond)
	if _, ok := gone.Load("ann"); ok {
		t.Error("a member of a draining instance was reported gone")
	}
	if !b.bus.Online("room")["ann"] {
		t.Error("a member of a draining instance looks offline before reconnecting elsewhere")
	}
}

func TestRedisApprovals(t *testing.T) {
	redisURL, _ := sessiontest.Redis(t)
	approvalstest.Run(t, func(t *testing.T) (session.Approvals, func(time.Duration)) {
		_, prefix := sessiontest.Redis(t)
		b, err := New(Options{URL: redisURL, Prefix: prefix, Hub: session.NewHub()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return NewApprovals(b.Client(), prefix), time.Sleep
	}, 400*time.Millisecond)
}

func TestNewBadURL(t *testing.T) {
	if _, err := New(Options{URL: "http://localhost:6379"}); err == nil {
		t.Error("New accepted a URL that is not redis://")
	}
}
