package azuredevops

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestOutcome(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Agile")
	const story = "User Story"
	created := map[string]any{"System.CreatedDate": "2025-03-01T09:00:00.000Z"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range created {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// 1: closed, active from 5 March 12:00 to 10 March 12:00 (120 hours), 7.5 hours of work logged.
	f.addItem(1, "Fabrikam", story, "Login", "Closed", "Fabrikam", `Fabrikam\Sprint 1`, with(map[string]any{
		"System.StateChangeDate": "2025-03-10T12:00:00.000Z", "Microsoft.VSTS.Common.ActivatedDate": "2025-03-05T12:00:00.000Z",
		"Microsoft.VSTS.Common.ResolvedDate": "2025-03-09T12:00:00.000Z", "Microsoft.VSTS.Common.ClosedDate": "2025-03-10T12:00:00.000Z",
		"Microsoft.VSTS.Scheduling.CompletedWork": 7.5, "System.Reason": "Acceptance tests pass",
	}))
	// 2: resolved without ever being activated: no start; the domain counts from creation.
	f.addItem(2, "Fabrikam", "Bug", "Crash", "Resolved", "Fabrikam", `Fabrikam\Sprint 1`, with(map[string]any{
		"System.StateChangeDate": "2025-03-04T09:00:00.000Z", "Microsoft.VSTS.Common.ResolvedDate": "2025-03-04T09:00:00.000Z",
	}))
	// 3: removed: done, no cycle time.
	f.addItem(3, "Fabrikam", story, "Dropped", "Removed", "Fabrikam", `Fabrikam\Sprint 1`, with(map[string]any{
		"System.StateChangeDate": "2025-03-04T09:00:00.000Z", "Microsoft.VSTS.Common.ActivatedDate": "2025-03-02T09:00:00.000Z",
	}))
	// 4: active, not done.
	f.addItem(4, "Fabrikam", story, "Search", "Active", "Fabrikam", `Fabrikam\Sprint 1`, with(map[string]any{
		"System.StateChangeDate": "2025-03-05T12:00:00.000Z", "Microsoft.VSTS.Common.ActivatedDate": "2025-03-05T12:00:00.000Z",
	}))
	// 5: a Basic process item, Done, with only the change of state to say when.
	f.addItem(5, "Fabrikam", "Issue", "Docs", "Done", "Fabrikam", `Fabrikam\Sprint 1`, with(map[string]any{
		"System.StateChangeDate": "2025-03-02T09:00:00.000Z",
	}))
	f.failNext("GET _apis/wit/workitems/6", 429, "17", 1)
	c := f.client(t)
	ctx := t.Context()

	rep, err := c.Outcome(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Done || !rep.Counted || rep.StartedAt == nil || !rep.DoneAt.Equal(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)) ||
		rep.DoneAt.Sub(*rep.StartedAt).Hours() != 120 || rep.SpentHours == nil || *rep.SpentHours != 7.5 {
		t.Errorf("1 = %+v (start %v, spent %v)", rep, rep.StartedAt, rep.SpentHours)
	}
	if rep.Detail != "closed 2025-03-10; active since 2025-03-05" {
		t.Errorf("detail = %q", rep.Detail)
	}
	rep, err = c.Outcome(ctx, "AB#2", nil)
	if err != nil || !rep.Done || !rep.Counted || rep.StartedAt != nil || rep.SpentHours != nil ||
		rep.DoneAt.Sub(rep.CreatedAt).Hours() != 72 {
		t.Errorf("2 = %+v, %v; want resolved 72 hours after creation, no start", rep, err)
	}
	if rep, err := c.Outcome(ctx, "3", nil); err != nil || !rep.Done || rep.Counted || !strings.HasPrefix(rep.Detail, "removed") {
		t.Errorf("3 removed = %+v, %v; want done and not counted", rep, err)
	}
	if rep, err := c.Outcome(ctx, "4", nil); err != nil || rep.Done {
		t.Errorf("4 active = %+v, %v; want not done", rep, err)
	}
	if rep, err := c.Outcome(ctx, "#5", nil); err != nil || !rep.Done || !rep.Counted || !rep.DoneAt.Equal(time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("5 done = %+v, %v; want done at the change of state", rep, err)
	}
	_, err = c.Outcome(ctx, "6", nil)
	var e *session.Error
	if !errors.As(err, &e) || e.RetryAfter != 17*time.Second {
		t.Errorf("rate limited: %v; want a retryable error with a 17 s pause", err)
	}
	if _, err := c.Outcome(ctx, "7", nil); kindOf(t, err) != session.CodeNotFound {
		t.Errorf("missing work item: %v; want not found", err)
	}
	if _, err := c.Outcome(ctx, "not a key", nil); err == nil {
		t.Error("a bad key was accepted")
	}
}
