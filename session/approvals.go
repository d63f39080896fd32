package session

import (
	"context"
	"sync"
	"time"
)

// DefaultApprovalTTL is how long a join request waits for an organizer's answer before the joiner
// is turned away: long enough to finish a discussion, short enough that nobody waits for nothing.
const DefaultApprovalTTL = 15 * time.Minute

// approvalSweep is how often RunApprovals turns away the joiners whose requests ran out.
const approvalSweep = 15 * time.Second

// reconcileEvery is how often, while the bus is degraded, RunApprovals reconciles the routing of
// this instance's members with the store: the longest a change made elsewhere goes unseen here.
const reconcileEvery = 2 * time.Second

// Approvals keeps the join requests waiting for an organizer (sessions that require approval).
// The waiting participant is a StatusPending row of the store, so that its cookie identifies it;
// the request itself lives here, with a time to live. The in-memory registry serves one instance;
// package redisbus keeps requests in Redis, so that every instance sees them. A request lost with
// its registry (a restart without Redis) counts as expired: the joiner asks again.
type Approvals interface {
	// Add records that participantID asks to join sessionID, for ttl.
	Add(ctx context.Context, sessionID, participantID string, ttl time.Duration) error
	// Remove takes a request out and reports whether it was still alive (not answered on another
	// instance, not expired).
	Remove(ctx context.Context, sessionID, participantID string) (bool, error)
	// Pending lists the participants whose requests to join sessionID are alive.
	Pending(ctx context.Context, sessionID string) ([]string, error)
	// Expired takes out the requests that ran out and returns them, session id → participant ids.
	// Each expired request is returned once, to one caller, however many instances ask.
	Expired(ctx context.Context) (map[string][]string, error)
	// ClearSession forgets every request of a session and returns the participants that had one.
	ClearSession(ctx context.Context, sessionID string) ([]string, error)
}

// MemoryApprovals is the Approvals registry of a single instance.
type MemoryApprovals struct {
	now func() time.Time
	mu  sync.Mutex
	// reqs holds, per session, the expiry of each participant's request.
	reqs map[string]map[string]time.Time
}

var _ Approvals = (*MemoryApprovals)(nil)

// NewMemoryApprovals returns an empty registry on the clock now (time.Now when nil).
func NewMemoryApprovals(now func() time.Time) *MemoryApprovals {
	if now == nil {
		now = time.Now
	}
	return &MemoryApprovals{now: now, reqs: map[string]map[string]time.Time{}}
}

// Add records a request until ttl passes.
func (m *MemoryApprovals) Add(_ context.Context, sessionID, participantID string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reqs[sessionID] == nil {
		m.reqs[sessionID] = map[string]time.Time{}
	}
	m.reqs[sessionID][participantID] = m.now().Add(ttl)
	return nil
}

// Remove takes a request out; false when there was none or it had expired.
func (m *MemoryApprovals) Remove(_ context.Context, sessionID, participantID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.reqs[sessionID][participantID]
	if !ok {
		return false, nil
	}
	m.forget(sessionID, participantID)
	return m.now().Before(until), nil
}

// Pending lists the live requests of a session.
func (m *MemoryApprovals) Pending(_ context.Context, sessionID string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []string
	for id, until := range m.reqs[sessionID] {
		if now.Before(until) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Expired takes out and returns the requests that ran out.
func (m *MemoryApprovals) Expired(context.Context) (map[string][]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := map[string][]string{}
	for sid, reqs := range m.reqs {
		for id, until := range reqs {
			if !now.Before(until) {
				out[sid] = append(out[sid], id)
				m.forget(sid, id)
			}
		}
	}
	return out, nil
}

// ClearSession forgets the requests of a session.
func (m *MemoryApprovals) ClearSession(_ context.Context, sessionID string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id := range m.reqs[sessionID] {
		out = append(out, id)
	}
	delete(m.reqs, sessionID)
	return out, nil
}

func (m *MemoryApprovals) forget(sessionID, participantID string) {
	delete(m.reqs[sessionID], participantID)
	if len(m.reqs[sessionID]) == 0 {
		delete(m.reqs, sessionID)
	}
}

// Why a waiting joiner was turned away, as the admission event says.
const (
	turnedAwayDenied  = "denied"
	turnedAwayExpired = "expired"
	turnedAwayClosed  = "closed"
)

// turnedAwayReasons are the close reasons the page of a turned-away joiner shows.
var turnedAwayReasons = map[string]string{
	turnedAwayDenied:  "An organizer did not let you in. Ask them if this is a mistake.",
	turnedAwayExpired: "Nobody answered your request to join in time; open the room link to ask again.",
	turnedAwayClosed:  "The session ended before you were admitted.",
}

// turnAway removes a participant still waiting for admission and tells it why. It does nothing
// when the participant is no longer waiting (admitted or turned away meanwhile).
func (s *Service) turnAway(ctx context.Context, sessionID, participantID, reason string) (*Participant, error) {
	p, err := s.cfg.Store.Participant(ctx, sessionID, participantID)
	if err != nil {
		return nil, err
	}
	if p.Status != StatusPending {
		return p, nil
	}
	if err := s.cfg.Store.RemoveParticipant(ctx, sessionID, participantID); err != nil {
		return nil, internal("turning the participant away", err)
	}
	p.Status = StatusRemoved
	s.publish(ctx, Event{Type: EvAdmission, SessionID: sessionID, To: participantID, Data: map[string]any{"admitted": false, "reason": reason}})
	s.publishChange(ctx, p, turnedAwayReasons[reason])
	s.publish(ctx, Event{Type: EvParticipantRm, SessionID: sessionID, OrganizersOnly: true, Data: map[string]string{"id": participantID}})
	return p, nil
}

// ExpireApprovals turns away the joiners whose requests ran out before an organizer answered.
func (s *Service) ExpireApprovals(ctx context.Context) error {
	expired, err := s.approvals.Expired(ctx)
	if err != nil {
		return err
	}
	for sid, ids := range expired {
		for _, id := range ids {
			if _, err := s.turnAway(ctx, sid, id, turnedAwayExpired); err != nil && ErrorCode(err) != CodeNotFound {
				s.log.Warn("turning away an expired join request", "session", sid, "err", err)
			}
		}
	}
	return nil
}

// RunApprovals turns away expired join requests until ctx ends. While the bus is degraded it also
// reconciles the routing of this instance's members with the store (ReconcileMembers).
func (s *Service) RunApprovals(ctx context.Context) {
	t := time.NewTicker(approvalSweep)
	defer t.Stop()
	r := time.NewTicker(reconcileEvery)
	defer r.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.C:
			if b, ok := s.cfg.Bus.(DegradedBus); ok && b.Degraded() {
				s.ReconcileMembers(ctx, b.LocalHub())
			}
			continue
		case <-t.C:
		}
		if err := s.ExpireApprovals(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("expiring join requests", "err", err)
		}
	}
}

// ReconcileMembers re-reads the participants of every room with members on h and reroutes those
// whose role or membership changed without h hearing of it: removed ones are disconnected, the
// others reload their snapshot.
func (s *Service) ReconcileMembers(ctx context.Context, h *Hub) {
	for _, sid := range h.Rooms() {
		ps, err := s.cfg.Store.Participants(ctx, sid)
		if err != nil {
			s.log.Warn("reconciling room members", "session", sid, "err", err)
			continue
		}
		byID := make(map[string]*Participant, len(ps))
		for _, p := range ps {
			byID[p.ID] = p
		}
		h.Reconcile(sid, func(id string) *Participant { return byID[id] })
	}
}

// clearApprovals turns away everyone still waiting to join a closed session: those with a request
// in the registry and those whose request was lost.
func (s *Service) clearApprovals(ctx context.Context, sessionID string) {
	ids, err := s.approvals.ClearSession(ctx, sessionID)
	if err != nil {
		s.log.Warn("clearing join requests", "session", sessionID, "err", err)
	}
	if ps, err := s.cfg.Store.Participants(ctx, sessionID); err == nil {
		for _, p := range ps {
			if p.Status == StatusPending {
				ids = append(ids, p.ID)
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := s.turnAway(ctx, sessionID, id, turnedAwayClosed); err != nil && ErrorCode(err) != CodeNotFound {
			s.log.Warn("turning away a waiting joiner", "session", sessionID, "err", err)
		}
	}
}
