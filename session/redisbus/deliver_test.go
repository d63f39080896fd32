package redisbus

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sessiontest"
)

// TestDelivererKeepsEachRoomsOrder: rooms are delivered in parallel, each in the order received,
// and a message of no room waits for everything received before it.
func TestDelivererKeepsEachRoomsOrder(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]int{}
	var order []string
	d := newDeliverer(func(w wire) {
		mu.Lock()
		defer mu.Unlock()
		if w.SessionID == "" {
			order = append(order, "all")
			return
		}
		n, _ := strconv.Atoi(w.To)
		got[w.SessionID] = append(got[w.SessionID], n)
		order = append(order, w.SessionID)
	})
	const rooms, events = 40, 200
	for k := range events {
		for r := range rooms {
			d.dispatch(wire{Envelope: session.Envelope{SessionID: fmt.Sprint("room-", r), To: strconv.Itoa(k)}})
		}
	}
	d.dispatch(wire{Envelope: session.Envelope{Forget: &session.Forget{All: true}}})
	d.stop()
	for r := range rooms {
		seq := got[fmt.Sprint("room-", r)]
		if len(seq) != events || !slices.IsSorted(seq) {
			t.Fatalf("room-%d: %d events, in order %v", r, len(seq), slices.IsSorted(seq))
		}
	}
	if len(order) != rooms*events+1 || order[len(order)-1] != "all" {
		t.Errorf("the instance-wide message was delivered before what preceded it")
	}
}

// TestEarlierWireFormat: an instance of an earlier version sends the event base64-encoded; it
// reaches the members as the same JSON.
func TestEarlierWireFormat(t *testing.T) {
	redisURL, prefix := sessiontest.Redis(t)
	a := startBus(t, redisURL, prefix)
	waitReady(t, a)
	ra, _ := a.join("room", "ann")
	old := fmt.Sprintf(`{"s":"room","m":%q}`, base64.StdEncoding.EncodeToString(msg(7)))
	if err := a.bus.rdb.Publish(t.Context(), a.bus.channel, old).Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.bus.Publish(t.Context(), session.Envelope{SessionID: "room", Msg: msg(8)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both events", func() bool { return len(ra.all()) == 2 })
	if want := []string{string(msg(7)), string(msg(8))}; !slices.Equal(ra.all(), want) {
		t.Errorf("got %q, want %q", ra.all(), want)
	}
}
