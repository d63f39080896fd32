// Package sessiontest gives a test its own PostgreSQL database and Redis key prefix on the servers
// every test run on the machine shares. Outside CI a test skips, saying why, when a server is
// unreachable; with CI=true it fails instead, so that CI never passes on skipped tests.
package sessiontest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/redis/go-redis/v9"
)

// DefaultPostgresURL is the machine's PostgreSQL (trust auth); POKOR_TEST_POSTGRES_URL overrides it.
// Its database is used only to create and drop the tests' own databases.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultRedisURL is the machine's Redis; POKOR_TEST_REDIS_URL overrides it.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// CI reports whether tests run in CI, where a missing service is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required with CI=true: %v", what, err)
	}
	t.Skipf("skipping: %s is unreachable (%v); set CI=true to make this a failure", what, err)
}

// Suffix returns a random name part, unique per call.
func Suffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PostgresAdminURL returns the URL of the database tests create theirs from.
func PostgresAdminURL() string {
	if u := os.Getenv("POKOR_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Postgres creates an empty database (pokor_test_<random>) and returns its URL; the database is
// dropped, with whatever connections remain, when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unavailable(t, "PostgreSQL at "+redact(admin), err)
	}
	name := "pokor_test_" + Suffix()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// RedisURL returns the URL of the machine's Redis.
func RedisURL() string {
	if u := os.Getenv("POKOR_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

// Redis returns the Redis URL and a key prefix ("pokortest:<random>:") of the test's own; every
// key under the prefix is deleted when the test ends.
func Redis(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = RedisURL()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("POKOR_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		unavailable(t, "Redis at "+redisURL, err)
	}
	prefix = "pokortest:" + Suffix() + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return redisURL, prefix
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the configured URL"
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "…")
	}
	return strings.ReplaceAll(p.String(), "%E2%80%A6", "…")
}

// Relay is a TCP relay to a server that a test can cut and restore, as if the server went away
// and came back (a Redis restart, a network partition).
type Relay struct {
	t      testing.TB
	target string
	// Addr is where the relay listens; it keeps that address across a cut and a restore.
	Addr  string
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// NewRelay relays connections to target (host:port) until the test ends.
func NewRelay(t testing.TB, target string) *Relay {
	t.Helper()
	r := &Relay{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.Cut)
	return r
}

// RedisRelay relays to the Redis of redisURL and returns the URL that goes through the relay.
func RedisRelay(t testing.TB, redisURL string) (*Relay, string) {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRelay(t, u.Host)
	u.Host = r.Addr
	return r, u.String()
}

func (r *Relay) serve(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// Cut closes the listener and every relayed connection.
func (r *Relay) Cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// Restore listens again on the same address.
func (r *Relay) Restore() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", r.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("listening again on %s: %v", r.Addr, err)
	}
	r.serve(ln)
}
