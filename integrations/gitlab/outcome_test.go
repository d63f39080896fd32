package gitlab

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestOutcome(t *testing.T) {
	f := newFakeGitLab(t, false)
	f.addProject("acme/api", 5)
	closed := func(iid int64) *fakeIssue {
		is := f.issueOf("acme/api", iid)
		is.state, is.createdAt, is.closedAt = "closed", "2025-03-01T09:00:00.000Z", "2025-03-10T12:00:00.000Z"
		return is
	}
	// #1: 120 label events, so the history takes two pages of 100; an "in progress" label removed
	// (not added) earlier, and the start on the second page.
	one := closed(1)
	one.spent = 27000 // 7.5 hours
	for i := 0; i < 60; i++ {
		one.labelEvents = append(one.labelEvents, fakeLabelEvent{"2025-03-02T09:00:00.000Z", "add", "bug"}, fakeLabelEvent{"2025-03-02T10:00:00.000Z", "remove", "bug"})
	}
	one.labelEvents[3] = fakeLabelEvent{"2025-03-01T10:00:00.000Z", "remove", "Doing"}
	one.labelEvents = append(one.labelEvents,
		fakeLabelEvent{"2025-03-08T12:00:00.000Z", "add", "Doing"},
		fakeLabelEvent{"2025-03-05T12:00:00.000Z", "add", "workflow::In Progress"})
	// #2: closed without any "in progress" label.
	closed(2).labelEvents = []fakeLabelEvent{{"2025-03-02T09:00:00.000Z", "add", "bug"}}
	// #3: closed as a duplicate of #2.
	closed(3).duplicatedTo = f.issueOf("acme/api", 2).id
	// #4 stays open; #5 is asked while GitLab rate limits.
	f.failNext("GET projects/acme%2Fapi/issues/5", 429, "30", 1)
	c := f.client(t)
	ctx := t.Context()

	// Started at the earliest added "in progress" label (5 March 12:00), closed 10 March 12:00: 120 hours.
	rep, err := c.Outcome(ctx, "acme/api#1", nil)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, r := range f.reqs {
		if r == "GET projects/acme%2Fapi/issues/1/resource_label_events" {
			pages++
		}
	}
	wantStart := time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)
	if !rep.Done || !rep.Counted || rep.StartedAt == nil || !rep.StartedAt.Equal(wantStart) || !rep.DoneAt.Equal(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)) ||
		rep.DoneAt.Sub(*rep.StartedAt).Hours() != 120 || pages != 2 {
		t.Errorf("#1 = %+v (start %v) after %d label event pages", rep, rep.StartedAt, pages)
	}
	if rep.SpentHours == nil || *rep.SpentHours != 7.5 {
		t.Errorf("#1 spent = %v; want 7.5 hours", rep.SpentHours)
	}
	if rep.Detail != `closed 2025-03-10; labeled "workflow::In Progress" 2025-03-05` {
		t.Errorf("detail = %q", rep.Detail)
	}
	// No "in progress" label: no start; the domain counts from creation (9 days 3 hours).
	rep, err = c.Outcome(ctx, "acme/api#2", nil)
	if err != nil || !rep.Done || !rep.Counted || rep.StartedAt != nil || rep.SpentHours != nil || !rep.CreatedAt.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("#2 = %+v, %v", rep, err)
	}
	if h := rep.DoneAt.Sub(rep.CreatedAt).Hours(); h != 219 {
		t.Errorf("#2 created to closed = %v hours; want 219", h)
	}
	if rep, err := c.Outcome(ctx, "acme/api#3", nil); err != nil || !rep.Done || rep.Counted || !strings.Contains(rep.Detail, "duplicate") {
		t.Errorf("#3 closed as a duplicate = %+v, %v; want done and not counted", rep, err)
	}
	if rep, err := c.Outcome(ctx, "acme/api#4", nil); err != nil || rep.Done {
		t.Errorf("#4 open = %+v, %v; want not done", rep, err)
	}
	_, err = c.Outcome(ctx, "acme/api#5", nil)
	var e *session.Error
	if !errors.As(err, &e) || e.RetryAfter != 30*time.Second {
		t.Errorf("rate limited: %v; want a retryable error with a 30 s pause", err)
	}
	if _, err := c.Outcome(ctx, "not a key", nil); err == nil {
		t.Error("a bad key was accepted")
	}
	if _, err := c.Outcome(ctx, "acme/api#99", nil); kindOf(t, err) != session.CodeNotFound {
		t.Errorf("missing issue: %v; want not found", err)
	}
}
