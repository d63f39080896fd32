package jira

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOutcome(t *testing.T) {
	f := newFake(t)
	// API-12: In Progress on 3 March 09:30, resolved 7 March 17:30 (104 hours), 12 hours logged.
	// Its expanded changelog has 2 of 3 entries; the third comes from the changelog endpoint.
	f.file("GET", "/rest/api/2/issue/API-12", "issue_changelog_expanded.json")
	f.file("GET", "/rest/api/2/issue/API-12/changelog", "issue_changelog_page2.json")
	open := strings.Replace(strings.Replace(fixture(t, "issue_changelog_expanded.json"), `"key": "done"`, `"key": "indeterminate"`, 1),
		`"resolutiondate": "2025-03-07T17:30:00.000+0000"`, `"resolutiondate": null`, 1)
	f.json("GET", "/rest/api/2/issue/API-13", http.StatusOK, open)
	wontDo := strings.Replace(fixture(t, "issue_changelog_expanded.json"), `"name": "Done"}`, `"name": "Won't Do"}`, 1)
	f.json("GET", "/rest/api/2/issue/API-14", http.StatusOK, wontDo)
	f.file("GET", "/rest/api/2/issue/API-14/changelog", "issue_changelog_page2.json")
	f.json("GET", "/rest/api/2/issue/API-15", http.StatusTooManyRequests, `{"errorMessages":["Rate limit exceeded."],"errors":{}}`)
	c := f.client(t)
	ctx := t.Context()

	rep, err := c.Outcome(ctx, "API-12", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)
	if !rep.Done || !rep.Counted || rep.StartedAt == nil || !rep.StartedAt.Equal(start) || rep.DoneAt.Sub(start).Hours() != 104 ||
		rep.SpentHours == nil || *rep.SpentHours != 12 || !rep.CreatedAt.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("API-12 = %+v", rep)
	}
	if rep.Detail != "Done 2025-03-07; in progress since 2025-03-03" {
		t.Errorf("detail = %q", rep.Detail)
	}
	if !f.called("GET /rest/api/2/issue/API-12/changelog?maxResults=100&startAt=2") {
		t.Errorf("the rest of the changelog was not read: %v", f.calls)
	}
	if rep, err := c.Outcome(ctx, "API-13", nil); err != nil || rep.Done {
		t.Errorf("API-13 in progress = %+v, %v; want not done", rep, err)
	}
	if rep, err := c.Outcome(ctx, "API-14", nil); err != nil || !rep.Done || rep.Counted {
		t.Errorf("API-14 resolved as Won't Do = %+v, %v; want done, not counted", rep, err)
	}
	if _, err := c.Outcome(ctx, "API-15", nil); err == nil || !strings.HasPrefix(err.Error(), "jira: ") {
		t.Errorf("rate limited: %v", err)
	}
}

// called reports whether the fake received a request (method and request URI).
func (f *fakeJira) called(req string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c == req {
			return true
		}
	}
	return false
}
