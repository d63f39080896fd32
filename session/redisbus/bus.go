// Package redisbus lets several Pokor instances serve one room: it carries room events between
// them over Redis pub/sub, tells each instance who is connected on any of them, and keeps join
// requests where every instance sees them. It implements session.Bus, session.Presence and
// session.Approvals.
//
// Redis documentation: https://redis.io/docs/latest/develop/interact/pubsub/
package redisbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pokor/pokor/session"
)

// Timing. Redis answers in a millisecond; these bound how long an outage can hold up a request
// and how soon it is noticed.
const (
	// opTimeout bounds one Redis call made while serving a request.
	opTimeout = time.Second
	// listenPoll is how long the subscriber waits for a message before it pings Redis, and
	// silentFor how long Redis may say nothing before the subscription counts as lost.
	listenPoll = time.Second
	silentFor  = 3 * listenPoll
	// DefaultPresenceTTL is how long a presence entry lives without a heartbeat: the members of an
	// instance that died count as gone after this.
	DefaultPresenceTTL = 30 * time.Second
	// disconnectGrace is how long a participant whose last connection closed still counts as
	// connected. A reconnect (a restart, a resync, a flaky network) lands within it, so the room
	// neither sees it leave nor auto-reveals without it.
	disconnectGrace = 10 * time.Second
)

// Options configure a Bus.
type Options struct {
	// URL is the Redis URL (redis://[:password@]host:port/db, rediss:// for TLS).
	URL string
	// Prefix starts every key and channel, so that several deployments can share one Redis.
	Prefix string
	// Hub is this instance's hub, which the bus delivers events to.
	Hub    *session.Hub
	Logger *slog.Logger
	// Instance names this process in presence entries; a random id when empty.
	Instance string
	// PresenceTTL is DefaultPresenceTTL when zero.
	PresenceTTL time.Duration
}

// Bus is the Redis event bus of one instance. Run must be running for events to arrive.
type Bus struct {
	rdb      *redis.Client
	prefix   string
	channel  string
	hub      *session.Hub
	log      *slog.Logger
	instance string
	ttl      time.Duration
	grace    time.Duration

	// subscribed is true while the subscription is live: events from other instances arrive.
	subscribed atomic.Bool
	draining   atomic.Bool
	closed     atomic.Bool

	mu sync.Mutex
	// outage is set when Redis went away; when it returns, local members are told to reconnect.
	outage bool
	// lost holds the sessions whose events were delivered here only during an outage: their
	// members on other instances are told to reconnect when Redis returns.
	lost map[string]bool
	// local holds the participants connected here, by session, for presence heartbeats.
	local map[string]map[string]bool
	// seen is the last presence read from Redis per session, used while Redis is away.
	seen map[string]seenOnline
	// deliverer delivers what the subscription receives; Run starts and stops it.
	deliverer *deliverer
}

type seenOnline struct {
	ids map[string]bool
	at  time.Time
}

// wire is an envelope as it crosses Redis. Resync asks the other instances to send the members of
// the session a reconnect (they may have missed events); From names the instance that asks.
type wire struct {
	session.Envelope
	// Msg shadows Envelope.Msg: the event travels as the JSON it is, where a []byte would be
	// base64 (a third longer, and decoded again on every instance). An instance of an earlier
	// version still sends a base64 string, which receive accepts too.
	Msg    json.RawMessage `json:"m,omitempty"`
	Resync bool            `json:"r,omitempty"`
	From   string          `json:"f,omitempty"`
}

var (
	_ session.Bus      = (*Bus)(nil)
	_ session.Presence = (*Bus)(nil)
)

// ErrUnavailable is what Ready returns while Redis is away; /readyz shows its message.
var ErrUnavailable = errors.New("event bus unavailable")

// New returns a bus on the Redis at opts.URL. It does not connect: Run does.
func New(opts Options) (*Bus, error) {
	o, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("POKOR_REDIS_URL: %w", err)
	}
	// Fail fast and let the caller fall back to local delivery: a retried PUBLISH could arrive
	// twice, and a slow one holds up the request that sent it.
	o.MaxRetries = -1
	for _, d := range []*time.Duration{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout} {
		if *d == 0 {
			*d = 2 * time.Second
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	setLogger.Do(func() { redis.SetLogger(redisLogger{opts.Logger}) })
	if opts.Instance == "" {
		opts.Instance = instanceID()
	}
	if opts.PresenceTTL <= 0 {
		opts.PresenceTTL = DefaultPresenceTTL
	}
	return &Bus{
		rdb: redis.NewClient(o), prefix: opts.Prefix, channel: opts.Prefix + "events", hub: opts.Hub,
		log: opts.Logger, instance: opts.Instance, ttl: opts.PresenceTTL, grace: disconnectGrace,
		lost: map[string]bool{}, local: map[string]map[string]bool{}, seen: map[string]seenOnline{},
	}, nil
}

// instanceID is the host name with a random suffix: readable in Redis, unique per process.
func instanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ReplaceAll(host, "|", "-") + "-" + hex.EncodeToString(b[:])
}

// Instance returns the name of this instance in Redis.
func (b *Bus) Instance() string { return b.instance }

// Client returns the Redis client, for the approvals registry.
func (b *Bus) Client() *redis.Client { return b.rdb }

// Ready reports whether events reach the other instances.
func (b *Bus) Ready() error {
	if !b.subscribed.Load() {
		return ErrUnavailable
	}
	return nil
}

// Degraded implements session.DegradedBus: while Redis is away, changes made on other instances
// do not arrive here.
func (b *Bus) Degraded() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outage || !b.subscribed.Load()
}

// LocalHub implements session.DegradedBus.
func (b *Bus) LocalHub() *session.Hub { return b.hub }

// Close stops the presence timers and closes the Redis client. Presence entries are left to
// expire, so that members reconnecting elsewhere never look gone.
func (b *Bus) Close() error {
	b.closed.Store(true)
	return b.rdb.Close()
}

var reconnectMsg, _ = session.Event{Type: session.EvReconnect, Data: map[string]string{"reason": "the event bus reconnected"}}.Encode()

// Publish sends an envelope to every instance, this one included: each delivers it to its own
// members, in the order Redis received it, which is the same order everywhere. When Redis cannot
// take it, the envelope is delivered to this instance's members only, and their room elsewhere is
// resynchronised when Redis returns.
func (b *Bus) Publish(ctx context.Context, env session.Envelope) error {
	payload, err := json.Marshal(wire{Envelope: env, Msg: env.Msg})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, opTimeout)
	err = b.rdb.Publish(pctx, b.channel, payload).Err()
	cancel()
	if err != nil {
		b.mu.Lock()
		b.lost[env.SessionID] = true
		b.mu.Unlock()
		b.outageBegins(err)
	}
	if err != nil || !b.subscribed.Load() {
		// Not coming back through the subscription: deliver here. (If the subscription returned
		// in between, a member may get the event twice; clients apply events idempotently.)
		b.hub.Deliver(env)
	}
	return nil
}

// Run keeps the subscription and the presence heartbeats going until ctx ends, reconnecting to
// Redis with backoff.
func (b *Bus) Run(ctx context.Context) {
	go b.heartbeat(ctx)
	b.deliverer = newDeliverer(b.deliver)
	defer b.deliverer.stop()
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if b.subscribed.Swap(false) {
			wait = 100 * time.Millisecond
		}
		b.outageBegins(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// listen subscribes and delivers events until the subscription fails.
func (b *Bus) listen(ctx context.Context) error {
	ps := b.rdb.Subscribe(ctx)
	defer ps.Close()
	// Closing the subscription is what interrupts a wait for the next message.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	if err := ps.Subscribe(ctx, b.channel); err != nil {
		return err
	}
	heard := time.Now()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, listenPoll)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			// Quiet: ask Redis for a sign of life; its answer arrives as a Pong.
			if time.Since(heard) > silentFor {
				return errors.New("redis stopped answering")
			}
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			continue
		}
		heard = time.Now()
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && !b.subscribed.Swap(true) {
				b.log.Info("event bus subscribed", "instance", b.instance)
			}
		case *redis.Message:
			b.receive([]byte(m.Payload))
		}
		if b.subscribed.Load() {
			b.outageEnds(ctx)
		}
	}
	return ctx.Err()
}

func (b *Bus) receive(payload []byte) {
	var w wire
	if err := json.Unmarshal(payload, &w); err != nil {
		b.log.Warn("event bus: undecodable message", "err", err)
		return
	}
	w.Envelope.Msg = nil
	if len(w.Msg) > 0 && w.Msg[0] == '"' {
		// From an instance of an earlier version: base64.
		if err := json.Unmarshal(w.Msg, &w.Envelope.Msg); err != nil {
			b.log.Warn("event bus: undecodable message", "err", err)
			return
		}
	} else if len(w.Msg) > 0 {
		w.Envelope.Msg = []byte(w.Msg)
	}
	b.deliverer.dispatch(w)
}

// deliver hands one received message to this instance's members; the deliverer calls it, for
// each room in the order Redis received its messages.
func (b *Bus) deliver(w wire) {
	if w.Resync {
		if w.From == b.instance {
			return // its own members were told already
		}
		b.hub.Members(w.SessionID, func(m *session.Member) {
			if !m.Sub.Send(reconnectMsg) {
				m.Sub.Kick("too slow: the send queue is full")
			}
		})
		return
	}
	b.hub.Deliver(w.Envelope)
}

// outageEnds runs once Redis answers on a live subscription after an outage. Members here reload
// (they may have missed events of other instances), and so do the members elsewhere of the rooms
// whose events were delivered only here.
func (b *Bus) outageEnds(ctx context.Context) {
	b.mu.Lock()
	outage, lost := b.outage, b.lost
	b.outage, b.lost = false, map[string]bool{}
	b.mu.Unlock()
	if !outage {
		return
	}
	b.log.Info("event bus: Redis is back; asking members to reconnect", "instance", b.instance, "rooms_to_resync", len(lost))
	b.refreshPresence(ctx)
	b.hub.Broadcast(reconnectMsg)
	for sid := range lost {
		payload, _ := json.Marshal(wire{Envelope: session.Envelope{SessionID: sid}, Resync: true, From: b.instance})
		pctx, cancel := context.WithTimeout(ctx, opTimeout)
		err := b.rdb.Publish(pctx, b.channel, payload).Err()
		cancel()
		if err != nil {
			b.mu.Lock()
			b.lost[sid] = true
			b.mu.Unlock()
			b.outageBegins(err)
		}
	}
}

// outageBegins records that Redis went away (a failed publish or subscription); err says why.
func (b *Bus) outageBegins(err error) {
	b.mu.Lock()
	first := !b.outage
	b.outage = true
	b.mu.Unlock()
	if first && !b.closed.Load() {
		b.log.Warn("event bus: Redis unavailable; serving this instance's members only", "instance", b.instance, "err", err)
	}
}

// setLogger installs the logger once: go-redis has one, for the whole process.
var setLogger sync.Once

// redisLogger sends go-redis's own messages (failed dials during an outage, one per attempt) to
// the debug log: the bus reports outages itself, once.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
