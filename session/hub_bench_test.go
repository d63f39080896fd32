package session_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/pokor/pokor/session"
)

// countingSub is a connection that accepts every message, as a fast client does.
type countingSub struct{ n atomic.Int64 }

func (c *countingSub) Send([]byte) bool { c.n.Add(1); return true }
func (c *countingSub) Kick(string)      {}

// BenchmarkHubDeliver measures the fan-out of one event to a room: 1,000 rooms of 10 members,
// publishers in parallel, each event queued on the 10 members of one room. The figure to watch
// is ns/op (one event to a whole room) and allocs/op (zero: the bytes are shared). The target
// it serves, 1,900 votes a second reaching 19,000 members within 50 ms, is checked by
// `make bench` (docs/performance.md), not here.
func BenchmarkHubDeliver(b *testing.B) {
	for _, size := range []struct{ rooms, members int }{{1000, 10}} {
		b.Run(fmt.Sprintf("rooms=%d/members=%d", size.rooms, size.members), func(b *testing.B) {
			h := session.NewHub()
			ids := make([]string, size.rooms)
			subs := make([]*countingSub, 0, size.rooms*size.members)
			for r := range ids {
				ids[r] = fmt.Sprintf("room-%04d", r)
				for m := 0; m < size.members; m++ {
					s := &countingSub{}
					subs = append(subs, s)
					h.Join(ids[r], &session.Member{Sub: s, ParticipantID: fmt.Sprintf("p%d", m)})
				}
			}
			msg := []byte(`{"type":"voted","data":{"story_id":"s","round":1,"participant_id":"p1","voted":true}}`)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					h.Deliver(session.Envelope{SessionID: ids[int(i)%len(ids)], Msg: msg})
				}
			})
			b.StopTimer()
			var got int64
			for _, s := range subs {
				got += s.n.Load()
			}
			if want := int64(b.N) * int64(size.members); got < want {
				b.Fatalf("delivered %d messages, want %d", got, want)
			}
			b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
