// Package approvalstest checks an implementation of session.Approvals against the contract the
// Service relies on. The in-memory registry and the Redis one run the same checks.
package approvalstest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// Open returns an empty registry and a function that lets time pass for it (a fake clock moved
// forward, or a real sleep where the registry expires requests by the wall clock).
type Open func(t *testing.T) (reg session.Approvals, wait func(time.Duration))

// Run checks the contract with requests that live for ttl.
func Run(t *testing.T, open Open, ttl time.Duration) {
	t.Run("AddRemovePending", func(t *testing.T) {
		reg, _ := open(t)
		ctx := t.Context()
		add(t, reg, "s1", "p1", ttl)
		add(t, reg, "s1", "p2", ttl)
		add(t, reg, "s2", "p3", ttl)
		wantPending(t, reg, "s1", "p1", "p2")
		wantPending(t, reg, "s2", "p3")
		wantPending(t, reg, "s9")
		if ok, err := reg.Remove(ctx, "s1", "p1"); err != nil || !ok {
			t.Errorf("Remove of a live request = %v, %v; want true", ok, err)
		}
		if ok, err := reg.Remove(ctx, "s1", "p1"); err != nil || ok {
			t.Errorf("Remove of a request already removed = %v, %v; want false (answered elsewhere)", ok, err)
		}
		if ok, err := reg.Remove(ctx, "s2", "p1"); err != nil || ok {
			t.Errorf("Remove of another session's request = %v, %v; want false", ok, err)
		}
		wantPending(t, reg, "s1", "p2")
	})

	t.Run("Expiry", func(t *testing.T) {
		reg, wait := open(t)
		ctx := t.Context()
		add(t, reg, "s1", "late", ttl)
		add(t, reg, "s1", "answered-late", ttl)
		add(t, reg, "s2", "other", ttl)
		wait(ttl / 2)
		add(t, reg, "s1", "fresh", 10*ttl)
		if got := expired(t, reg); len(got) != 0 {
			t.Errorf("Expired before any request ran out: %v", got)
		}
		wait(ttl)
		wantPending(t, reg, "s1", "fresh")
		if ok, err := reg.Remove(ctx, "s1", "answered-late"); err != nil || ok {
			t.Errorf("Remove of an expired request = %v, %v; want false", ok, err)
		}
		got := expired(t, reg)
		want := map[string][]string{"s1": {"late"}, "s2": {"other"}}
		if !sameSets(got, want) {
			t.Errorf("Expired = %v, want %v (a request removed after it expired is not returned again)", got, want)
		}
		if got := expired(t, reg); len(got) != 0 {
			t.Errorf("Expired a second time = %v, want nothing", got)
		}
		wantPending(t, reg, "s1", "fresh")
	})

	t.Run("ClearSession", func(t *testing.T) {
		reg, wait := open(t)
		ctx := t.Context()
		add(t, reg, "s1", "a", ttl)
		add(t, reg, "s1", "b", ttl)
		add(t, reg, "s2", "c", ttl)
		ids, err := reg.ClearSession(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"a", "b"}) {
			t.Errorf("ClearSession = %v, want [a b]", ids)
		}
		wantPending(t, reg, "s1")
		if ok, _ := reg.Remove(ctx, "s1", "a"); ok {
			t.Error("a request of a cleared session was still there")
		}
		wait(ttl + ttl/2)
		if got := expired(t, reg); !sameSets(got, map[string][]string{"s2": {"c"}}) {
			t.Errorf("Expired after ClearSession = %v; want only s2's request", got)
		}
	})

	t.Run("ExpiredOnce", func(t *testing.T) {
		reg, wait := open(t)
		const n = 30
		for i := range n {
			add(t, reg, "s1", string(rune('A'+i)), ttl)
		}
		wait(ttl + ttl/2)
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			wg   sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				got, err := reg.Expired(t.Context())
				if err != nil {
					t.Errorf("Expired: %v", err)
				}
				mu.Lock()
				for _, id := range got["s1"] {
					seen[id]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("%d expired requests returned, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("request %s returned %d times by concurrent callers, want once", id, c)
			}
		}
	})
}

func add(t *testing.T, reg session.Approvals, sid, pid string, ttl time.Duration) {
	t.Helper()
	if err := reg.Add(t.Context(), sid, pid, ttl); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

func wantPending(t *testing.T, reg session.Approvals, sid string, want ...string) {
	t.Helper()
	got, err := reg.Pending(t.Context(), sid)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Pending(%s) = %v, want %v", sid, got, want)
	}
}

func expired(t *testing.T, reg session.Approvals) map[string][]string {
	t.Helper()
	got, err := reg.Expired(t.Context())
	if err != nil {
		t.Fatalf("Expired: %v", err)
	}
	return got
}

func sameSets(a, b map[string][]string) bool {
	norm := func(m map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range m {
			if len(v) == 0 {
				continue
			}
			v = slices.Clone(v)
			slices.Sort(v)
			out[k] = v
		}
		return out
	}
	a, b = norm(a), norm(b)
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
