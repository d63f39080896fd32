package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

type nopClient struct{ n int }

func (nopClient) List(context.Context, string, string) (ExternalPage, error) {
	return ExternalPage{}, nil
}
func (nopClient) WriteEstimate(context.Context, string, WriteBack) (WriteResult, error) {
	return WriteResult{}, nil
}
func (nopClient) Check(context.Context, string) (CheckReport, error) { return CheckReport{}, nil }

// The cache holds at most maxTrackerClients clients, drops the least recently used one, and
// keeps no credential in its keys.
func TestTrackerClientCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	built := 0
	tr := Tracker{Name: "github", Open: func(Credentials) (TrackerClient, error) { built++; return nopClient{built}, nil }}
	ts := newTrackerSet([]Tracker{tr})
	clock := time.Unix(1_700_000_000, 0)
	get := func(token string) TrackerClient {
		t.Helper()
		clock = clock.Add(time.Second)
		c, err := ts.client(tr, Credentials{"token": token}, clock)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := get("ghp_a"), get("ghp_b")
	get("ghp_a") // a is now more recent than b
	for i := range maxTrackerClients - 1 {
		get(fmt.Sprintf("ghp_%d", i))
	}
	if len(ts.clients) > maxTrackerClients {
		t.Errorf("the cache holds %d clients", len(ts.clients))
	}
	if get("ghp_a") != a {
		t.Error("a recently used client was evicted")
	}
	if get("ghp_b") == b {
		t.Error("the least recently used client was kept")
	}
	for key := range ts.clients {
		if strings.Contains(key, "ghp_") {
			t.Errorf("a cache key holds a token: %q", key)
		}
	}
}
