package gitlab

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/integrations/trackertest"
	"github.com/pokor/pokor/session"
)

// wired is the GitLab tracker as cmd/pokor builds it, its settings pointing at the fake.
func (f *fakeGitLab) wired() session.Tracker {
	env := map[string]string{"GITLAB_URL": f.srv.URL, "GITLAB_TOKEN": f.token}
	return Tracker(func(k string) string { return env[k] })
}

// TestOutboxWeightOnceThroughOutageAndRestart: stories imported with the real import, an
// estimate accepted while GitLab fails every update, Pokor stopped and started again on the
// same database: the weight is written once, and the story shows synced.
func TestOutboxWeightOnceThroughOutageAndRestart(t *testing.T) {
	f := newFakeGitLab(t, true)
	p := f.addProject("acme/api", 75)
	for i, is := range p.issues {
		if i%3 == 0 {
			is.labels = []string{"ready"}
		}
	}
	path := filepath.Join(t.TempDir(), "pokor.db")
	first := trackertest.Start(t, path, "pokor-0@:8080", f.wired())
	a, res, stories := first.Import("gitlab", "acme/api label:ready")
	if res.Added != 25 || len(stories) != 25 || res.Total != 25 {
		t.Fatalf("import: %+v, %d stories; want 25 over two pages", res, len(stories))
	}
	if stories[0].ExternalKey != "acme/api#1" || stories[1].ExternalKey != "acme/api#4" {
		t.Fatalf("stories start %q, %q", stories[0].ExternalKey, stories[1].ExternalKey)
	}

	f.failNext("PUT projects/acme%2Fapi/issues/4", 502, "", 1000)
	first.Accept(a, stories[1].ID, "8")
	trackertest.WaitFor(t, "a failed attempt", 10*time.Second, func() bool {
		st := first.Story(a, stories[1].ID)
		return st.SyncState == session.SyncPending && strings.Contains(st.SyncError, "502")
	})
	first.Stop()

	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	second := trackertest.Start(t, path, "pokor-0@:8080", f.wired())
	st := second.WaitSync(a, stories[1].ID, session.SyncSynced)
	if st.SyncedValue != "8" {
		t.Errorf("synced value %q", st.SyncedValue)
	}
	if is := f.issueOf("acme/api", 4); is.weight == nil || *is.weight != 8 || len(is.labels) != 1 {
		t.Errorf("issue 4: weight %v, labels %v", is.weight, is.labels)
	}
	if puts, _, _ := f.counts(); puts != 1 {
		t.Errorf("GitLab applied %d updates, want 1", puts)
	}
}

// TestOutboxLabelAfterRateLimit: an instance without weights rate-limits the first update; the
// label is set once after the wait it named. Asked for weights, it fails for good in words.
func TestOutboxLabelAfterRateLimit(t *testing.T) {
	f := newFakeGitLab(t, false)
	f.addProject("acme/api", 2)
	pk := trackertest.Start(t, filepath.Join(t.TempDir(), "pokor.db"), "one", f.wired())
	a, _, stories := pk.Import("gitlab", f.srv.URL+"/acme/api/-/issues")
	if len(stories) != 2 {
		t.Fatalf("imported %d", len(stories))
	}
	f.failNext("PUT projects/acme%2Fapi/issues/1", 429, "1", 1)
	pk.Accept(a, stories[0].ID, "3")
	st := pk.WaitSync(a, stories[0].ID, session.SyncSynced)
	if st.SyncedValue != "3" {
		t.Errorf("synced %q", st.SyncedValue)
	}
	if is := f.issueOf("acme/api", 1); strings.Join(is.labels, ",") != "estimate::3" {
		t.Errorf("labels = %v", is.labels)
	}
	if puts, _, _ := f.counts(); puts != 1 {
		t.Errorf("%d updates", puts)
	}

	if _, err := pk.Service.SetConnection(t.Context(), a, "gitlab", nil, map[string]string{OptionMode: ModeWeight}); err != nil {
		t.Fatal(err)
	}
	pk.Accept(a, stories[1].ID, "5")
	st = pk.WaitSync(a, stories[1].ID, session.SyncFailed)
	if !strings.Contains(st.SyncError, "gitlab: acme/api#2 has no weight field: issue weights need GitLab Premium or Ultimate") {
		t.Errorf("sync error = %q", st.SyncError)
	}
}
