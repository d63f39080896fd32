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

// MemberListener is implemented by subscribers that act on a change of who their participant is:
// the room WebSocket sends a fresh snapshot for the new role, or closes with a code and a reason
// the page shows. A subscriber without it is kicked when its participant is removed.
type MemberListener interface {
	MemberChanged(ch MemberChange)
}

// Member is a subscriber in a room with what the Hub needs to route events to it: who its
// participant is at this point of the room's stream of events. The flags are read without a lock
// by every delivery and written, rarely, under mu.
type Member struct {
	Sub           Subscriber
	ParticipantID string
	organizer     atomic.Bool
	pending       atomic.Bool
	removed       atomic.Bool

	mu sync.Mutex
	// changes counts the changes the Hub applied, so that a connection that reads the participant
	// while joining knows whether a newer change arrived meanwhile.
	changes uint64
}

// SetRole sets the routing flags: what the member may receive until the Hub applies a change.
func (m *Member) SetRole(organizer, pending bool) {
	m.mu.Lock()
	m.organizer.Store(organizer)
	m.pending.Store(pending)
	m.mu.Unlock()
}

// Mark returns a mark to pass to Settle after reading the participant.
func (m *Member) Mark() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changes
}

// Settle reconciles the routing flags with p, the participant as read after Mark returned mark.
// It reports true when the member has been routed as p since mark: no change arrived and the
// flags already said what p says, so what was queued for it meanwhile may be sent. Otherwise the
// caller drops what was queued and reads again: the flags now follow p, or the newer change.
func (m *Member) Settle(mark uint64, p *Participant) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.changes != mark {
		return false
	}
	org, pending, removed := routing(p)
	if m.organizer.Load() == org && m.pending.Load() == pending && m.removed.Load() == removed {
		return true
	}
	m.organizer.Store(org)
	m.pending.Store(pending)
	m.removed.Store(removed)
	return false
}

// routing returns the flags a participant is routed by.
func routing(p *Participant) (organizer, pending, removed bool) {
	return p.Role == RoleOrganizer && p.Status == StatusActive, p.Status == StatusPending, p.Status == StatusRemoved
}

// apply records a change the Hub received.
func (m *Member) apply(ch MemberChange) {
	m.mu.Lock()
	m.changes++
	m.organizer.Store(ch.Role == RoleOrganizer && !ch.Pending && !ch.Removed)
	m.pending.Store(ch.Pending)
	m.removed.Store(ch.Removed)
	m.mu.Unlock()
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
	forget   ForgetFunc

	conns, drops, delivered atomic.Int64
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{rooms: map[string]*room{}} }

// OnPresence registers the function told about presence changes; call it before serving.
func (h *Hub) OnPresence(f PresenceFunc) { h.presence = f }

// OnForget registers the function that drops changed rows from this instance's cache when a
// Forget arrives (Envelope.Forget); call it before serving.
func (h *Hub) OnForget(f ForgetFunc) { h.forget = f }

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

// Deliver applies the change an envelope carries, then queues its encoded event on the members of
// its room that may receive it at this point: what each member may see is decided by who it is
// when the event arrives, as the changes before it left it. Members waiting for admission receive
// only events addressed to them; removed members receive nothing.
func (h *Hub) Deliver(env Envelope) {
	if env.Forget != nil {
		if h.forget != nil {
			h.forget(env.SessionID, *env.Forget)
		}
		if env.Msg == nil && env.Change == nil {
			return
		}
	}
	h.mu.RLock()
	r := h.rooms[env.SessionID]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	if env.Change != nil {
		h.change(r, *env.Change)
	}
	if env.Msg == nil {
		return
	}
	var slow []*Member
	r.mu.RLock()
	for m := range r.members {
		switch {
		case m.removed.Load():
			continue
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

// change updates the routing flags of a participant's connections in a room and tells them: a
// removed participant's connections close, the others reload what their new role may see.
func (h *Hub) change(r *room, ch MemberChange) {
	var ms []*Member
	r.mu.RLock()
	for m := range r.members {
		if m.ParticipantID == ch.ParticipantID {
			m.apply(ch)
			ms = append(ms, m)
		}
	}
	r.mu.RUnlock()
	for _, m := range ms {
		if l, ok := m.Sub.(MemberListener); ok {
			l.MemberChanged(ch)
		} else if ch.Removed {
			m.Sub.Kick(ch.Reason)
		}
	}
}

// Rooms returns the sessions with members on this instance.
func (h *Hub) Rooms() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]string, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	return ids
}

// Reconcile compares the routing of a room's members on this instance with their participants as
// who returns them (nil: not found), and applies a change, here only, to each that differs. It is
// for when changes may not have crossed the bus (Redis away): it bounds how long a member is
// routed by a role it no longer has.
func (h *Hub) Reconcile(sessionID string, who func(participantID string) *Participant) {
	seen := map[string]bool{}
	var stale []*MemberChange
	h.Members(sessionID, func(m *Member) {
		if seen[m.ParticipantID] {
			return
		}
		seen[m.ParticipantID] = true
		p := who(m.ParticipantID)
		if p == nil {
			p = &Participant{ID: m.ParticipantID, Status: StatusRemoved}
		}
		org, pending, removed := routing(p)
		if m.organizer.Load() != org || m.pending.Load() != pending || m.removed.Load() != removed {
			stale = append(stale, memberChange(p, ReasonGone))
		}
	})
	for _, ch := range stale {
		h.Deliver(Envelope{SessionID: sessionID, Change: ch})
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
			if m.pending.Load() && !m.removed.Load() {
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
