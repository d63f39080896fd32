package azuredevops

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/integrations/trackertest"
	"github.com/pokor/pokor/session"
)

// wired is the Azure DevOps tracker as cmd/pokor builds it, its settings pointing at the fake.
func (f *fakeAzure) wired() session.Tracker {
	env := map[string]string{"AZURE_DEVOPS_ORG_URL": f.srv.URL + f.org, "AZURE_DEVOPS_TOKEN": f.pat}
	return Tracker(func(k string) string { return env[k] })
}

// TestOutboxFieldOnceThroughOutageAndRestart: a sprint imported by iteration path, an estimate
// accepted while Azure DevOps answers 503, Pokor restarted on the same database: Effort is set
// once, and the story shows synced.
func TestOutboxFieldOnceThroughOutageAndRestart(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Scrum")
	for i := int64(1); i <= 230; i++ {
		iter := `Fabrikam\Sprint 1`
		if i%2 == 0 {
			iter = `Fabrikam\Sprint 2`
		}
		f.addItem(i, "Fabrikam", "Product Backlog Item", "PBI", "New", `Fabrikam`, iter, nil)
	}
	path := filepath.Join(t.TempDir(), "pokor.db")
	first := trackertest.Start(t, path, "pokor-0@:8080", f.wired())
	a, res, stories := first.Import("azure", `iteration:"Fabrikam\Sprint 2"`)
	if res.Added != 115 || len(stories) != 115 || res.Total != 115 {
		t.Fatalf("import: %+v, %d stories; want 115 over two pages", res, len(stories))
	}
	id := stories[0].ExternalKey // work item 2
	f.failNext("PATCH _apis/wit/workitems/"+id, 503, "", 1000)
	first.Accept(a, stories[0].ID, "5")
	trackertest.WaitFor(t, "a failed attempt", 10*time.Second, func() bool {
		st := first.Story(a, stories[0].ID)
		return st.SyncState == session.SyncPending && strings.Contains(st.SyncError, "503")
	})
	first.Stop()

	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	second := trackertest.Start(t, path, "pokor-0@:8080", f.wired())
	st := second.WaitSync(a, stories[0].ID, session.SyncSynced)
	if st.SyncedValue != "5" || f.field(2, FieldEffort) != 5.0 {
		t.Errorf("synced %q, Effort %v", st.SyncedValue, f.field(2, FieldEffort))
	}
	if n := f.patchCount(); n != 1 {
		t.Errorf("Azure DevOps applied %d patches, want 1", n)
	}
}

// TestOutboxNothingToWrite: a Basic process Issue has no estimate field; the write-back fails
// for good with what to do, and is not retried.
func TestOutboxNothingToWrite(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Basic", "Basic")
	f.addItem(1, "Basic", "Issue", "Sign in", "To Do", "Basic", "Basic", nil)
	pk := trackertest.Start(t, filepath.Join(t.TempDir(), "pokor.db"), "one", f.wired())
	a, _, stories := pk.Import("azure", "Basic")
	if len(stories) != 1 {
		t.Fatalf("imported %d", len(stories))
	}
	pk.Accept(a, stories[0].ID, "3")
	st := pk.WaitSync(a, stories[0].ID, session.SyncFailed)
	if !strings.Contains(st.SyncError, "azure: work item type Issue in Basic has no Story Points, Effort or Size field") {
		t.Errorf("sync error = %q", st.SyncError)
	}
	if f.patchCount() != 0 {
		t.Error("something was written")
	}
}
