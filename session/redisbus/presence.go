package redisbus

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pokor/pokor/session"
)

// Presence lives in one sorted set per session, "<prefix>presence:<session>", whose members are
// "<instance>|<participant>" scored by the time (Unix ms) the entry expires. Each instance
// refreshes its own entries (heartbeat); the entries of an instance that died run out after the
// TTL, without anyone having to clean up after it.

func (b *Bus) presenceKey(sessionID string) string { return b.prefix + "presence:" + sessionID }

func (b *Bus) member(participantID string) string { return b.instance + "|" + participantID }

func msAt(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// TrackPresence returns the function the Hub tells when a participant's first connection here
// opens or its last one closes. It records the change in Redis and tells next (the Service) when
// the participant connects, or has left every instance: a participant still connected elsewhere
// has not left, and one that reconnects within a grace period never looked gone.
func (b *Bus) TrackPresence(next session.PresenceFunc) session.PresenceFunc {
	return func(sessionID, participantID string, connected bool) {
		b.mu.Lock()
		if connected {
			if b.local[sessionID] == nil {
				b.local[sessionID] = map[string]bool{}
			}
			b.local[sessionID][participantID] = true
		} else {
			delete(b.local[sessionID], participantID)
			if len(b.local[sessionID]) == 0 {
				delete(b.local, sessionID)
			}
		}
		b.mu.Unlock()
		if b.draining.Load() {
			// Shutting down: the members are reconnecting to other instances. The entries stay
			// until they expire, so that nobody looks gone meanwhile.
			return
		}
		until := time.Now().Add(b.ttl)
		if !connected {
			until = time.Now().Add(b.grace)
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		b.setPresence(ctx, sessionID, map[string]time.Time{participantID: until})
		cancel()
		if connected {
			next(sessionID, participantID, true)
			return
		}
		time.AfterFunc(b.grace+50*time.Millisecond, func() {
			if b.closed.Load() || b.draining.Load() || b.Online(sessionID)[participantID] {
				return
			}
			next(sessionID, participantID, false)
		})
	}
}

// setPresence writes this instance's entries of a session with their expiry times and drops the
// session's expired entries.
func (b *Bus) setPresence(ctx context.Context, sessionID string, until map[string]time.Time) {
	key := b.presenceKey(sessionID)
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		zs := make([]redis.Z, 0, len(until))
		for id, t := range until {
			zs = append(zs, redis.Z{Score: float64(t.UnixMilli()), Member: b.member(id)})
		}
		p.ZAdd(ctx, key, zs...)
		p.ZRemRangeByScore(ctx, key, "-inf", "("+msAt(time.Now()))
		p.PExpire(ctx, key, 2*b.ttl)
		return nil
	})
	if err != nil {
		b.log.Debug("presence: writing to Redis", "session", sessionID, "err", err)
	}
}

// Online returns the participants of a session connected to any instance. While Redis is away it
// answers with what it last read, plus the participants connected here.
func (b *Bus) Online(sessionID string) map[string]bool {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	members, err := b.rdb.ZRangeByScore(ctx, b.presenceKey(sessionID), &redis.ZRangeBy{Min: msAt(time.Now()), Max: "+inf"}).Result()
	out := map[string]bool{}
	for id := range b.hub.Online(sessionID) {
		out[id] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		for id := range b.seen[sessionID].ids {
			out[id] = true
		}
		return out
	}
	ids := map[string]bool{}
	for _, m := range members {
		if i := strings.LastIndexByte(m, '|'); i >= 0 {
			ids[m[i+1:]] = true
		}
	}
	b.seen[sessionID] = seenOnline{ids: ids, at: time.Now()}
	for id := range ids {
		out[id] = true
	}
	return out
}

// heartbeat refreshes this instance's presence entries until ctx ends.
func (b *Bus) heartbeat(ctx context.Context) {
	t := time.NewTicker(b.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if b.draining.Load() {
			continue
		}
		b.refreshPresence(ctx)
		b.mu.Lock()
		for sid, s := range b.seen {
			if time.Since(s.at) > 10*time.Minute {
				delete(b.seen, sid)
			}
		}
		b.mu.Unlock()
	}
}

// refreshPresence rewrites the entries of every participant connected here.
func (b *Bus) refreshPresence(ctx context.Context) {
	b.mu.Lock()
	until := time.Now().Add(b.ttl)
	bySession := make(map[string]map[string]time.Time, len(b.local))
	for sid, ids := range b.local {
		m := make(map[string]time.Time, len(ids))
		for id := range ids {
			m[id] = until
		}
		bySession[sid] = m
	}
	b.mu.Unlock()
	for sid, m := range bySession {
		if len(m) == 0 {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, opTimeout)
		b.setPresence(pctx, sid, m)
		cancel()
	}
}

// Drain is called when the instance begins to shut down: from then on, connections closing here
// are members moving to another instance, not people leaving. Their presence entries stay until
// they expire, and nobody is reported gone.
func (b *Bus) Drain() { b.draining.Store(true) }
