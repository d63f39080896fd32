package redisbus

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pokor/pokor/session"
)

// Approvals keeps join requests in Redis, where every instance sees them:
//
//   - "<prefix>approval:<session>:<participant>" is the request itself, a key that expires with it;
//   - "<prefix>approvals:<session>" is the session's pending set, expiring with its newest request;
//   - "<prefix>approvals:due" orders every request by expiry (Unix ms), so that one instance, the
//     one whose ZREM takes it, turns each expired request away.
//
// Nothing outlives the TTL except the due entries, which the next sweep of any instance takes.
type Approvals struct {
	rdb    *redis.Client
	prefix string
	now    func() time.Time
}

var _ session.Approvals = (*Approvals)(nil)

// NewApprovals returns the registry under prefix on the Redis of rdb.
func NewApprovals(rdb *redis.Client, prefix string) *Approvals {
	return &Approvals{rdb: rdb, prefix: prefix, now: time.Now}
}

func (a *Approvals) reqKey(sid, pid string) string { return a.prefix + "approval:" + sid + ":" + pid }
func (a *Approvals) setKey(sid string) string      { return a.prefix + "approvals:" + sid }
func (a *Approvals) dueKey() string                { return a.prefix + "approvals:due" }

// due names a request in the due set; ids never hold a space.
func due(sid, pid string) string { return sid + " " + pid }

// Add records a request for ttl.
func (a *Approvals) Add(ctx context.Context, sid, pid string, ttl time.Duration) error {
	_, err := a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a.reqKey(sid, pid), "1", ttl)
		p.SAdd(ctx, a.setKey(sid), pid)
		p.PExpire(ctx, a.setKey(sid), ttl)
		p.ZAdd(ctx, a.dueKey(), redis.Z{Score: float64(a.now().Add(ttl).UnixMilli()), Member: due(sid, pid)})
		return nil
	})
	return err
}

// Remove takes a request out and reports whether it was alive.
func (a *Approvals) Remove(ctx context.Context, sid, pid string) (bool, error) {
	var del *redis.IntCmd
	_, err := a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, a.reqKey(sid, pid))
		p.SRem(ctx, a.setKey(sid), pid)
		p.ZRem(ctx, a.dueKey(), due(sid, pid))
		return nil
	})
	if err != nil {
		return false, err
	}
	return del.Val() == 1, nil
}

// Pending lists the live requests of a session.
func (a *Approvals) Pending(ctx context.Context, sid string) ([]string, error) {
	ids, err := a.rdb.SMembers(ctx, a.setKey(sid)).Result()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	cmds := make([]*redis.IntCmd, len(ids))
	if _, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(ctx, a.reqKey(sid, id))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []string
	for i, id := range ids {
		if cmds[i].Val() == 1 {
			out = append(out, id)
		}
	}
	return out, nil
}

// Expired takes out the requests that ran out; ZREM hands each to exactly one caller.
func (a *Approvals) Expired(ctx context.Context) (map[string][]string, error) {
	now := strconv.FormatInt(a.now().UnixMilli(), 10)
	names, err := a.rdb.ZRangeByScore(ctx, a.dueKey(), &redis.ZRangeBy{Min: "-inf", Max: now, Count: 500}).Result()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	rems := make([]*redis.IntCmd, len(names))
	if _, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			rems[i] = p.ZRem(ctx, a.dueKey(), n)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	_, err = a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			sid, pid, ok := strings.Cut(n, " ")
			if !ok || rems[i].Val() != 1 {
				continue
			}
			out[sid] = append(out[sid], pid)
			p.SRem(ctx, a.setKey(sid), pid)
			p.Del(ctx, a.reqKey(sid, pid))
		}
		return nil
	})
	return out, err
}

// ClearSession forgets every request of a session.
func (a *Approvals) ClearSession(ctx context.Context, sid string) ([]string, error) {
	ids, err := a.rdb.SMembers(ctx, a.setKey(sid)).Result()
	if err != nil {
		return nil, err
	}
	_, err = a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, a.setKey(sid))
		for _, id := range ids {
			p.Del(ctx, a.reqKey(sid, id))
			p.ZRem(ctx, a.dueKey(), due(sid, id))
		}
		return nil
	})
	return ids, err
}
