package github

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// timelineEvent is a timeline entry in the shape GitHub documents for issue events
// (https://docs.github.com/en/rest/using-the-rest-api/issue-event-types).
func timelineEvent(id int, event, at string, label string) map[string]any {
	ev := map[string]any{
		"id": id, "node_id": "LE_kwDOA", "url": fmt.Sprintf("https://api.github.com/repos/acme/api/issues/events/%d", id),
		"actor": map[string]any{"login": "octocat", "id": 1, "type": "User"}, "event": event,
		"commit_id": nil, "commit_url": nil, "created_at": at, "performed_via_github_app": nil,
	}
	if label != "" {
		ev["label"] = map[string]any{"name": label, "color": "fbca04"}
	}
	return ev
}

func TestOutcome(t *testing.T) {
	var timelinePages int
	mux := http.NewServeMux()
	closed := func(n int, reason string) map[string]any {
		is := issueJSON("", n, "Login", "", nil, false)
		is["state"], is["closed_at"], is["state_reason"] = "closed", "2025-03-10T12:00:00Z", reason
		is["created_at"] = "2025-03-01T09:00:00Z"
		return is
	}
	mux.HandleFunc("GET /repos/acme/api/issues/1", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, 200, closed(1, "completed")) })
	mux.HandleFunc("GET /repos/acme/api/issues/1/timeline", func(w http.ResponseWriter, r *http.Request) {
		timelinePages++
		if r.URL.Query().Get("page") == "2" {
			// The second page holds the earliest "in progress" label (events are not assumed sorted).
			writeJSON(t, w, 200, []any{
				timelineEvent(5, "labeled", "2025-03-05T12:00:00Z", "status: In Progress"),
				timelineEvent(6, "closed", "2025-03-10T12:00:00Z", ""),
			})
			return
		}
		w.Header().Set("Link", `<`+"http://"+r.Host+`/repos/acme/api/issues/1/timeline?page=2&per_page=100>; rel="next"`)
		writeJSON(t, w, 200, []any{
			timelineEvent(1, "labeled", "2025-03-02T09:00:00Z", "bug"),
			map[string]any{"event": "commented", "id": 2, "body": "on it", "created_at": "2025-03-03T09:00:00Z", "user": map[string]any{"login": "octocat"}},
			timelineEvent(3, "labeled", "2025-03-08T12:00:00Z", "in-progress"),
			timelineEvent(4, "assigned", "2025-03-04T12:00:00Z", ""),
		})
	})
	mux.HandleFunc("GET /repos/acme/api/issues/2", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, 200, closed(2, "completed")) })
	mux.HandleFunc("GET /repos/acme/api/issues/2/timeline", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, 200, []any{timelineEvent(7, "closed", "2025-03-10T12:00:00Z", "")})
	})
	mux.HandleFunc("GET /repos/acme/api/issues/3", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, 200, closed(3, "not_planned")) })
	mux.HandleFunc("GET /repos/acme/api/issues/4", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, 200, issueJSON("", 4, "Open", "", nil, false))
	})
	mux.HandleFunc("GET /repos/acme/api/issues/5", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Minute).Unix()))
		writeJSON(t, w, http.StatusForbidden, map[string]any{"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"})
	})
	c, _ := newTestClient(t, mux)
	ctx := t.Context()

	// Started at the earliest "in progress" label (5 March 12:00), done 10 March 12:00: 120 hours.
	rep, err := c.Outcome(ctx, "acme/api#1", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStart := time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)
	if !rep.Done || !rep.Counted || rep.StartedAt == nil || !rep.StartedAt.Equal(wantStart) || !rep.DoneAt.Equal(time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)) ||
		rep.DoneAt.Sub(*rep.StartedAt).Hours() != 120 || timelinePages != 2 {
		t.Errorf("#1 = %+v (start %v) after %d timeline pages", rep, rep.StartedAt, timelinePages)
	}
	if rep.Detail != `closed 2025-03-10; labeled "status: In Progress" 2025-03-05` {
		t.Errorf("detail = %q", rep.Detail)
	}
	// No "in progress" label: no start; the domain counts from creation.
	if rep, err := c.Outcome(ctx, "acme/api#2", nil); err != nil || !rep.Done || rep.StartedAt != nil || !rep.CreatedAt.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("#2 = %+v, %v", rep, err)
	}
	if rep, err := c.Outcome(ctx, "acme/api#3", nil); err != nil || !rep.Done || rep.Counted {
		t.Errorf("#3 closed as not planned = %+v, %v; want done and not counted", rep, err)
	}
	if rep, err := c.Outcome(ctx, "acme/api#4", nil); err != nil || rep.Done {
		t.Errorf("#4 open = %+v, %v; want not done", rep, err)
	}
	_, err = c.Outcome(ctx, "acme/api#5", nil)
	if e := asError(err); e == nil || e.RetryAfter <= 0 {
		t.Errorf("rate limited: %v; want a retryable error with a pause", err)
	}
	if _, err := c.Outcome(ctx, "not a key", nil); err == nil {
		t.Error("a bad key was accepted")
	}
}
