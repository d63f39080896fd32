package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/pokor/pokor/session"
)

// Limits protect a public instance from one client taking more than its share. The zero value
// limits nothing (tests, embedded use); cmd/pokor fills it from POKOR_RATE_* and POKOR_MAX_*.
type Limits struct {
	// Sessions, Joins: session creations and joins per client address.
	Sessions, Joins Rate
	// Messages: room actions (API calls and WebSocket messages) per participant. A participant,
	// not an address, so that an office behind one NAT is not throttled as one client; the joins
	// limit bounds how many participants one address can make.
	Messages Rate
	// MaxConnections and MaxRooms cap the room WebSockets one address holds open at once, and the
	// distinct rooms they are in; 0 is no cap.
	MaxConnections, MaxRooms int
	// TrustedProxies lists the addresses or CIDR ranges of reverse proxies whose X-Forwarded-For
	// names the client. Empty: the peer address is the client, and X-Forwarded-For is ignored
	// (anyone could send one).
	TrustedProxies []string
}

// Rate is a token bucket: N events per Per, in bursts of up to N. The zero Rate is unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/s", "N/m" or "N/h" ("30/m": thirty a minute, at most thirty at once); "0"
// or "off" is unlimited.
func ParseRate(v string) (Rate, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" || v == "off" {
		return Rate{}, nil
	}
	n, unit, ok := strings.Cut(v, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("%q is not a rate like 30/m (a count, a slash, s, m or h), or off", v)
	}
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	if per == 0 {
		return Rate{}, fmt.Errorf("%q: the period must be s, m or h", v)
	}
	return Rate{N: count, Per: per}, nil
}

func (r Rate) String() string {
	if r.N == 0 {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.N, map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per])
}

// keyedLimiter holds one golang.org/x/time/rate limiter per key (an address, a participant).
// Limiters unused for longer than it takes them to refill are dropped: they would allow a full
// burst anyway, and a public server sees many addresses.
type keyedLimiter struct {
	name  string
	limit rate.Limit
	burst int
	mu    sync.Mutex
	keys  map[string]*keyed
	sweep time.Time
	idle  time.Duration
}

type keyed struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyedLimiter(name string, r Rate) *keyedLimiter {
	if r.N == 0 {
		return nil
	}
	return &keyedLimiter{
		name: name, limit: rate.Limit(float64(r.N) / r.Per.Seconds()), burst: r.N,
		keys: map[string]*keyed{}, idle: r.Per + time.Minute,
	}
}

// allow takes one token for key; when there is none it says how long until there is one.
func (l *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > l.idle {
		for k, e := range l.keys {
			if now.Sub(e.seen) > l.idle {
				delete(l.keys, k)
			}
		}
		l.sweep = now
	}
	e := l.keys[key]
	if e == nil {
		e = &keyed{lim: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// guard enforces Limits and counts what it refuses.
type guard struct {
	sessions, joins, messages *keyedLimiter
	maxConns, maxRooms        int
	refused                   *prometheus.CounterVec

	mu      sync.Mutex
	clients map[string]*clientConns
}

// clientConns is what one address holds open: connections per room.
type clientConns struct {
	total int
	rooms map[string]int
}

func newGuard(l Limits, reg *prometheus.Registry) *guard {
	g := &guard{
		sessions: newKeyedLimiter("sessions", l.Sessions),
		joins:    newKeyedLimiter("joins", l.Joins),
		messages: newKeyedLimiter("messages", l.Messages),
		maxConns: l.MaxConnections, maxRooms: l.MaxRooms,
		clients: map[string]*clientConns{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pokor_rate_limited_total",
			Help: "Requests refused by an abuse limit (sessions, joins, messages, connections, rooms).",
		}, []string{"limit"}),
	}
	reg.MustRegister(g.refused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pokor_clients_connected", Help: "Client addresses holding room connections."},
			func() float64 {
				g.mu.Lock()
				defer g.mu.Unlock()
				return float64(len(g.clients))
			}))
	for _, name := range []string{"sessions", "joins", "messages", "connections", "rooms"} {
		g.refused.WithLabelValues(name) // exported from the start, at 0
	}
	return g
}

// rateLimited is the error of a refused request; its message says when to try again.
func rateLimited(what string, retry time.Duration) *session.Error {
	secs := retrySeconds(retry)
	return &session.Error{Code: session.CodeRateLimited, Message: fmt.Sprintf("too many %s from you: try again in %d s", what, secs)}
}

func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// check takes a token of l for key; when refused it answers 429 with Retry-After and returns false.
func (g *guard) check(c *gin.Context, l *keyedLimiter, key, what string) bool {
	ok, retry := l.allow(key, time.Now())
	if ok {
		return true
	}
	g.refused.WithLabelValues(l.name).Inc()
	c.Header("Retry-After", strconv.Itoa(retrySeconds(retry)))
	writeError(c, rateLimited(what, retry))
	return false
}

// message takes a message token of a participant; it returns the error to answer with.
func (g *guard) message(a session.Actor) (error, time.Duration) {
	ok, retry := g.messages.allow(a.SessionID+"/"+a.ParticipantID, time.Now())
	if ok {
		return nil, 0
	}
	g.refused.WithLabelValues("messages").Inc()
	return rateLimited("messages", retry), retry
}

// connect counts a room connection of an address, or refuses it over a cap; release undoes it.
func (g *guard) connect(addr, room string) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cl := g.clients[addr]
	if cl == nil {
		cl = &clientConns{rooms: map[string]int{}}
	}
	switch {
	case g.maxConns > 0 && cl.total >= g.maxConns:
		g.refused.WithLabelValues("connections").Inc()
		return nil, &session.Error{Code: session.CodeRateLimited, Message: fmt.Sprintf("too many open connections from your address (the limit is %d); close some tabs", g.maxConns)}
	case g.maxRooms > 0 && cl.rooms[room] == 0 && len(cl.rooms) >= g.maxRooms:
		g.refused.WithLabelValues("rooms").Inc()
		return nil, &session.Error{Code: session.CodeRateLimited, Message: fmt.Sprintf("your address is in too many rooms at once (the limit is %d); leave some first", g.maxRooms)}
	}
	g.clients[addr] = cl
	cl.total++
	cl.rooms[room]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			cl.total--
			if cl.rooms[room]--; cl.rooms[room] == 0 {
				delete(cl.rooms, room)
			}
			if cl.total == 0 {
				delete(g.clients, addr)
			}
		})
	}, nil
}

// writeRateLimited answers a refused request with 429 and Retry-After.
func writeRateLimited(c *gin.Context, err error, retry time.Duration) {
	c.Header("Retry-After", strconv.Itoa(retrySeconds(retry)))
	writeError(c, err)
}
