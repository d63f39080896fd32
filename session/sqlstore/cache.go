package sqlstore

import (
	"sync"
	"time"

	"github.com/pokor/pokor/session"
)

// rowCache keeps recently read sessions and participants. Every room action reads the acting
// participant and its session before it does anything (session.Service.actor); at 1,900 votes a
// second those two lookups cost more CPU than storing the votes (docs/performance.md), and on
// PostgreSQL they were two of a vote's round trips. Every write through the Store drops the rows
// it changed. When this process is the only writer (SQLite, or one instance on PostgreSQL) that
// keeps the cache exact; entries also expire after cacheTTL, so that a change made by another
// process on the same database (the `pokor import` command) shows within that time. Several
// instances on PostgreSQL share their writes through the event bus (ShareCache): each write is
// announced as a session.Forget, and every instance drops the rows before it delivers the events
// that follow it, so no instance serves a role or a setting older than the events its members
// have seen. While the bus is away, the cache is not used.
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

// forget drops what f names.
func (c *rowCache) forget(sessionID string, f session.Forget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if f.All {
		clear(c.sessions)
		clear(c.participants)
		return
	}
	if f.Session {
		delete(c.sessions, sessionID)
	}
	for _, id := range f.Participants {
		delete(c.participants, [2]string{sessionID, id})
	}
}

// ShareCache makes the row cache correct across instances that share the database: announce
// publishes a write's session.Forget to every instance (the event bus), live reports whether the
// other instances' announcements arrive here (the bus is subscribed). Hand Forget to the Hub
// (Hub.OnForget) so that the announcements this instance receives reach the cache. Call it
// before serving.
func (s *Store) ShareCache(announce func(sessionID string, f session.Forget), live func() bool) {
	s.announce, s.live = announce, live
}

// Forget drops the rows f names from the cache; the Hub calls it for every announcement,
// this instance's own included.
func (s *Store) Forget(sessionID string, f session.Forget) { s.cache.forget(sessionID, f) }

// cached reports whether reads may use the cache now: not while announcements from other
// instances may be missing. The first read after an outage empties the cache, since what it
// holds may have changed meanwhile.
func (s *Store) cached() bool {
	if s.live == nil {
		return true
	}
	if !s.live() {
		s.down.Store(true)
		return false
	}
	if s.down.Swap(false) {
		s.cache.forget("", session.Forget{All: true})
	}
	return true
}

// changed drops rows after a write to them, here and, through the bus, on every instance.
func (s *Store) changed(sessionID string, f session.Forget) {
	s.cache.forget(sessionID, f)
	if s.announce != nil {
		s.announce(sessionID, f)
	}
}
