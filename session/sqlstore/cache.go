package sqlstore

import (
	"sync"
	"time"

	"github.com/pokor/pokor/session"
)

// rowCache keeps recently read sessions and participants, on SQLite only. Every room action
// reads the acting participant and its session before it does anything (session.Service.actor);
// at 1,900 votes a second those two lookups cost more CPU than storing the votes
// (docs/performance.md). With SQLite this process is the only writer that matters, so every
// write through the Store drops the row it changed, and the cache stays exact. Entries also
// expire after cacheTTL, so that a change made by another process on the same file (the `pokor
// import` command) shows within that time. PostgreSQL serves several instances, which would each
// need to hear of the others' writes, so it is not cached.
type rowCache struct {
	mu sync.Mutex
	// gen is bumped by every invalidation. A read that started before one does not fill the
	// cache: it may have read the row before the write that invalidated it.
	gen          uint64
	sessions     map[string]cached[session.Session]
	participants map[[2]string]cached[session.Participant]
	nextSweep    time.Time
}

type cached[T any] struct {
	v       T
	expires time.Time
}

const (
	cacheTTL = time.Minute
	// cacheMax bounds each map; past it, expired entries are swept and, if that is not enough,
	// everything is dropped.
	cacheMax = 200_000
)

func newRowCache() *rowCache {
	return &rowCache{sessions: map[string]cached[session.Session]{}, participants: map[[2]string]cached[session.Participant]{}}
}

// generation returns the counter to pass to the put methods.
func (c *rowCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// session returns a copy of a cached session.
func (c *rowCache) session(id string) (*session.Session, bool) {
	c.mu.Lock()
	e, ok := c.sessions[id]
	c.mu.Unlock()
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return copySession(&e.v), true
}

func (c *rowCache) putSession(gen uint64, s *session.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.sweepLocked(len(c.sessions))
	c.sessions[s.ID] = cached[session.Session]{v: *copySession(s), expires: time.Now().Add(cacheTTL)}
}

// participant returns a copy of a cached participant.
func (c *rowCache) participant(sessionID, id string) (*session.Participant, bool) {
	c.mu.Lock()
	e, ok := c.participants[[2]string{sessionID, id}]
	c.mu.Unlock()
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	p := e.v
	return &p, true
}

func (c *rowCache) putParticipant(gen uint64, p *session.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.sweepLocked(len(c.participants))
	c.participants[[2]string{p.SessionID, p.ID}] = cached[session.Participant]{v: *p, expires: time.Now().Add(cacheTTL)}
}

// forgetSession drops a session after a write to it.
func (c *rowCache) forgetSession(id string) {
	c.mu.Lock()
	c.gen++
	delete(c.sessions, id)
	c.mu.Unlock()
}

// forgetParticipant drops a participant after a write to it.
func (c *rowCache) forgetParticipant(sessionID, id string) {
	c.mu.Lock()
	c.gen++
	delete(c.participants, [2]string{sessionID, id})
	c.mu.Unlock()
}

// forgetAll drops everything, after a write that may touch any row.
func (c *rowCache) forgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.sessions)
	clear(c.participants)
	c.mu.Unlock()
}

// sweepLocked removes expired entries once per cacheTTL, or when a map reaches cacheMax.
func (c *rowCache) sweepLocked(size int) {
	now := time.Now()
	if size < cacheMax && now.Before(c.nextSweep) {
		return
	}
	c.nextSweep = now.Add(cacheTTL)
	for k, e := range c.sessions {
		if now.After(e.expires) {
			delete(c.sessions, k)
		}
	}
	for k, e := range c.participants {
		if now.After(e.expires) {
			delete(c.participants, k)
		}
	}
	if len(c.sessions) >= cacheMax || len(c.participants) >= cacheMax {
		clear(c.sessions)
		clear(c.participants)
	}
}

// copySession returns a copy that shares nothing the caller may change with s.
func copySession(s *session.Session) *session.Session {
	c := *s
	c.Deck.Cards = append([]string(nil), s.Deck.Cards...)
	if s.ClosedAt != nil {
		t := *s.ClosedAt
		c.ClosedAt = &t
	}
	return &c
}
