package session

import (
	"sync"
	"sync/atomic"
)

// Subscriber is one room connection as the Hub sees it.
type Subscriber interface {
	// Send queues msg without blocking. It returns false when the connection's bounded queue is
	// full: the Hub then calls Kick, because waiting for a slow reader would slow the whole room.
	Send(msg []byte) bool
	// Kick closes the connection; the client reconnects and receives a fresh snapshot.
	Kick(reason string)
}

// Member is a subscriber in a room with what the Hub needs to route events to it.
type Member struct {
	Sub           Subscriber
	ParticipantID string
	organizer     atomic.Bool
	pending       atomic.Bool
}

// SetRole updates the routing flags after a role or admission change.
func (m *Member) SetRole(organizer, pending bool) {
	m.organizer.Store(organizer)
	m.pending.Store(pending)
}

type room struct {
	mu      sync.RWMutex
	members map[*Member]struct{}
	// online counts connections per participant, for presence and auto-reveal.
	online map[string]int
}

// PresenceFunc is called when a participant's first connection opens or its last one closes.
type PresenceFunc func(sessionID, participantID string, connected bool)

// Hub fans events out to the connections of each room on this instance. Delivery never blocks:
// each event is encoded once by the publisher and the same bytes are queued on every member.
type Hub struct {
	mu       sync.RWMutex
	rooms    map[string]*room
	presence PresenceFunc

	conns, drops, delivered atomic.Int64
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{rooms: map[string]*room{}} }

// OnPresence registers the function told about presence changes; call it before serving.
func (h *Hub) OnPresence(f PresenceFunc) { h.presence = f }

// Join adds a member to a session's room and returns the function that removes it.
func (h *Hub) Join(sessionID string, m *Member) (leave func()) {
	h.mu.Lock()
	r := h.rooms[sessionID]
	if r == nil {
		r = &room{members: map[*Member]struct{}{}, online: map[string]int{}}
		h.rooms[sessionID] = r
	}
	r.mu.Lock()
	h.mu.Unlock()
	r.members[m] = struct{}{}
	r.online[m.ParticipantID]++
	first := r.online[m.ParticipantID] == 1
	r.mu.Unlock()
	h.conns.Add(1)
	if first && h.presence != nil {
		h.presence(sessionID, m.ParticipantID, true)
	}
	var once sync.Once
	return func() { once.Do(func() { h.leave(sessionID, r, m) }) }
}

func (h *Hub) leave(sessionID string, r *room, m *Member) {
	h.mu.Lock()
	r.mu.Lock()
	delete(r.members, m)
	r.online[m.ParticipantID]--
	last := r.online[m.ParticipantID] == 0
	if last {
		delete(r.online, m.ParticipantID)
	}
	if len(r.members) == 0 && h.rooms[sessionID] == r {
		delete(h.rooms, sessionID)
	}
	r.mu.Unlock()
	h.mu.Unlock()
	h.conns.Add(-1)
	if last && h.presence != nil {
		h.presence(sessionID, m.ParticipantID, false)
	}
}

// Online returns the participants of a session with at least one open connection here.
func (h *Hub) Online(sessionID string) map[string]bool {
	h.mu.RLock()
	r := h.rooms[sessionID]
	h.mu.RUnlock()
	out := map[string]bool{}
	if r == nil {
		return out
	}
	r.mu.RLock()
	for id := range r.online {
		out[id] = true
	}
	r.mu.RUnlock()
	return out
}

// Members calls f for each member of a session's room on this instance.
func (h *Hub) Members(sessionID string, f func(*Member)) {
	h.mu.RLock()
	r := h.rooms[sessionID]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	r.mu.RLock()
	ms := make([]*Member, 0, len(r.members))
	for m := range r.members {
		ms = append(ms, m)
	}
	r.mu.RUnlock()
	for _, m := range ms {
		f(m)
	}
}

// Deliver queues an encoded event on the members of its room that may receive it. Members waiting
// for admission receive only events addressed to them.
func (h *Hub) Deliver(env Envelope) {
	h.mu.RLock()
	r := h.rooms[env.SessionID]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	var slow []*Member
	r.mu.RLock()
	for m := range r.members {
		switch {
		case env.To != "" && m.ParticipantID != env.To:
			continue
		case env.To == "" && m.pending.Load():
			continue
		case env.OrganizersOnly && !m.organizer.Load():
			continue
		}
		if m.Sub.Send(env.Msg) {
			h.delivered.Add(1)
		} else {
			slow = append(slow, m)
		}
	}
	r.mu.RUnlock()
	for _, m := range slow {
		h.drops.Add(1)
		m.Sub.Kick("too slow: the send queue is full")
	}
}

// Broadcast queues msg on every connection of every room (shutdown notices).
func (h *Hub) Broadcast(msg []byte) {
	h.mu.RLock()
	ids := make([]string, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	h.mu.RUnlock()
	for _, id := range ids {
		h.Deliver(Envelope{SessionID: id, Msg: msg})
		h.Members(id, func(m *Member) {
			if m.pending.Load() {
				m.Sub.Send(msg)
			}
		})
	}
}

// KickAll closes every connection of every room, after what is queued on it is sent.
func (h *Hub) KickAll(reason string) {
	h.mu.RLock()
	ids := make([]string, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	h.mu.RUnlock()
	for _, id := range ids {
		h.Members(id, func(m *Member) { m.Sub.Kick(reason) })
	}
}

// HubStats are counters for metrics.
type HubStats struct {
	Connections, Rooms, Drops, Delivered int64
}

// Stats returns the hub's current counters.
func (h *Hub) Stats() HubStats {
	h.mu.RLock()
	rooms := len(h.rooms)
	h.mu.RUnlock()
	return HubStats{Connections: h.conns.Load(), Rooms: int64(rooms), Drops: h.drops.Load(), Delivered: h.delivered.Load()}
}
