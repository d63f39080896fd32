package sqlstore

import (
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/pokor/pokor/session/sessiontest"
)

// openPostgres opens the store on a database of its own, created for the test and dropped after it:
// each subtest of the suite needs an empty database (ClaimOutbox and DeleteIdleSessions act on
// whole tables).
func openPostgres(t *testing.T) *Store {
	t.Helper()
	url := sessiontest.Postgres(t)
	s, err := Open(t.Context(), url, testKeys(t))
	if err != nil {
		t.Fatalf("opening PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPostgres(t *testing.T) { runStoreSuite(t, openPostgres) }

// TestPostgresConcurrentMigrations starts several instances at once on an empty database: every
// one of them opens, and each migration is applied once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	for attempt := range 3 {
		url := sessiontest.Postgres(t)
		const n = 4
		stores := make([]*Store, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = Open(t.Context(), url, testKeys(t))
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("attempt %d: instance %d of %d starting at once: %v", attempt, i, n, err)
			}
			t.Cleanup(func() { _ = stores[i].Close() })
		}
		files, err := fs.Glob(migrations, "migrations/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if got := count(t, stores[0], `SELECT COUNT(*) FROM schema_migrations`); got != len(files) {
			t.Errorf("attempt %d: %d migrations recorded, want each of the %d once", attempt, got, len(files))
		}
		if got := count(t, stores[0], `SELECT COUNT(DISTINCT version) FROM schema_migrations`); got != len(files) {
			t.Errorf("attempt %d: %d distinct migrations recorded, want %d", attempt, got, len(files))
		}
	}
}

// TestPostgresTwoInstances runs the races that matter across instances with two stores (two
// connection pools, as two processes have) on one database.
func TestPostgresTwoInstances(t *testing.T) {
	url := sessiontest.Postgres(t)
	open := func() *Store {
		s, err := Open(t.Context(), url, testKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	t.Run("NoVoteAfterReveal", func(t *testing.T) { testNoVoteAfterRevealOn(t, a, b) })
	t.Run("OneReveal", func(t *testing.T) {
		sess, _ := createSession(t, a, nil)
		for i := range 10 {
			st := addStories(t, a, sess.ID, fmt.Sprint("Reveal ", i))[0]
			var won [2]bool
			var wg sync.WaitGroup
			start := make(chan struct{})
			for j, s := range []*Store{a, b} {
				wg.Go(func() {
					<-start
					var err error
					if won[j], err = s.Reveal(t.Context(), st.ID, 1, t0, false); err != nil {
						t.Errorf("Reveal: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won[0] == won[1] {
				t.Fatalf("story %d: reveals on two instances won %v; want exactly one", i, won)
			}
		}
	})
	t.Run("ConcurrentClaims", func(t *testing.T) {
		// The outbox is a whole table: this subtest runs on a database of its own.
		u := sessiontest.Postgres(t)
		c, err := Open(t.Context(), u, testKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		d, err := Open(t.Context(), u, testKeys(t))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		testConcurrentClaimsOn(t, c, d)
	})
}
