package trackers_test

import (
	"context"
	"encoding/json"
	"github.com/pokor/pokor/integrations/trackertest"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

const testSecret = "test-secret-key-that-is-long-enough-0123456789"

// pokor is one running Pokor process for the outbox tests (trackertest.Pokor: a SQLite store on
// a file, the service with the wired trackers, and the write-back worker).
type pokor struct {
	*trackertest.Pokor
	t *testing.T
}

// startPokor opens the database at path and starts the worker against the fake GitHub at
// ghURL. Polling and backoff are shortened so that retries take milliseconds.
func startPokor(t *testing.T, path, ghURL, owner string) *pokor {
	t.Helper()
	return &pokor{Pokor: trackertest.Start(t, path, owner, wired(ghURL)...), t: t}
}

// estimateStory creates a session with one story imported from key, votes, reveals and
// accepts value, and returns the session's organizer and the story.
func (p *pokor) estimateStory(key, value string) (session.Actor, *session.Story) {
	p.t.Helper()
	ctx := p.t.Context()
	sess, org, _, err := p.Service.CreateSession(ctx, session.CreateInput{Title: "Sprint 42", Organizer: "Ann"})
	if err != nil {
		p.t.Fatal(err)
	}
	a := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	sts, err := p.Service.AddStories(ctx, a, []session.StoryInput{{Title: "Login fails", Source: "github", Key: key}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.accept(a, sts[0].ID, value)
	return a, sts[0]
}

func (p *pokor) accept(a session.Actor, storyID, value string) {
	p.t.Helper()
	ctx := p.t.Context()
	if _, err := p.Service.Vote(ctx, a, storyID, session.VoteInput{Card: value}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Service.Reveal(ctx, a, storyID); err != nil {
		p.t.Fatal(err)
	}
	st, err := p.Service.Accept(ctx, a, storyID, value)
	if err != nil {
		p.t.Fatal(err)
	}
	if st.SyncState != session.SyncPending {
		p.t.Fatalf("right after Accept the sync state is %q, want pending", st.SyncState)
	}
}

// story reads a story from the store.
func (p *pokor) story(a session.Actor, id string) *session.Story {
	p.t.Helper()
	st, err := p.Store.Story(context.Background(), a.SessionID, id)
	if err != nil {
		p.t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSync waits until the story's sync state is want and returns the story.
func (p *pokor) waitSync(a session.Actor, id string, want session.SyncState) *session.Story {
	p.t.Helper()
	var st *session.Story
	waitFor(p.t, "sync state "+string(want), 10*time.Second, func() bool {
		st = p.story(a, id)
		return st.SyncState == want
	})
	return st
}

// recorder is a room member that keeps the events it receives.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) Send(msg []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	return true
}

func (r *recorder) Kick(string) {}

// storySyncStates lists the sync states of the "story" events for id, in order.
func (r *recorder) storySyncStates(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				ID        string `json:"id"`
				SyncState string `json:"sync_state"`
				SyncError string `json:"sync_error"`
			} `json:"data"`
		}
		if json.Unmarshal(m, &ev) == nil && ev.Type == "story" && ev.Data.ID == id && ev.Data.SyncState != "" {
			out = append(out, ev.Data.SyncState)
		}
	}
	return out
}

// failTimes answers the first n requests matching method and path suffix with the statuses
// given, in turn, and lets the others through.
func failTimes(method, suffix string, statuses ...int) (func(w http.ResponseWriter, r *http.Request) bool, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || !strings.HasSuffix(r.URL.Path, suffix) {
			return false
		}
		i := int(n.Add(1)) - 1
		if i >= len(statuses) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statuses[i])
		_, _ = w.Write([]byte(`{"message":"Server Error","documentation_url":"https://docs.github.com/rest"}`))
		return true
	}, &n
}

// TestOutboxRetriesUntilDelivered: GitHub fails the label write twice (500, then 502) and then
// accepts it. The estimate arrives exactly once: one label added, one comment posted, and the
// room is told pending → synced.
func TestOutboxRetriesUntilDelivered(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addIssue(42, "Login fails", "Steps:\r\n1. log in")
	fail, failed := failTimes(http.MethodPost, "/issues/42/labels", http.StatusInternalServerError, http.StatusBadGateway)
	gh.setIntercept(fail)

	p := startPokor(t, filepath.Join(t.TempDir(), "pokor.db"), gh.URL(), "one")
	rec := &recorder{}
	sess, org, _, err := p.Service.CreateSession(t.Context(), session.CreateInput{Title: "Sprint 42", Organizer: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	leave := p.Hub.Join(sess.ID, &session.Member{Sub: rec, ParticipantID: org.ID})
	defer leave()
	a := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	sts, err := p.Service.AddStories(t.Context(), a, []session.StoryInput{{Title: "Login fails", Source: "github", Key: "acme/api#42"}})
	if err != nil {
		t.Fatal(err)
	}
	p.accept(a, sts[0].ID, "5")

	st := p.waitSync(a, sts[0].ID, session.SyncSynced)
	if st.SyncedValue != "5" || st.SyncError != "" {
		t.Errorf("story after delivery: synced value %q, error %q", st.SyncedValue, st.SyncError)
	}
	if n := failed.Load(); n < 3 {
		t.Errorf("the label write was tried %d times, want 3 (two failures, then success)", n)
	}
	gh.do(func() {
		if gh.labelAdds != 1 || gh.commentPosts != 1 || gh.commentEdits != 0 {
			t.Errorf("GitHub saw %d label adds, %d comments posted and %d edited; want 1, 1 and 0", gh.labelAdds, gh.commentPosts, gh.commentEdits)
		}
		is := gh.issues[42]
		if hasFold(is.Labels, "estimate: 5") < 0 {
			t.Errorf("labels = %v, want estimate: 5", is.Labels)
		}
		if len(is.Comments) != 1 || !strings.Contains(is.Comments[0].Body, "Estimated 5 points in Pokor") ||
			!strings.Contains(is.Comments[0].Body, "https://pokor.example.com/s/"+sess.ID) {
			t.Errorf("comments = %+v", is.Comments)
		}
	})
	waitFor(t, "the room to hear of the delivery", 5*time.Second, func() bool {
		states := rec.storySyncStates(sts[0].ID)
		return len(states) > 0 && states[len(states)-1] == "synced"
	})
	if states := rec.storySyncStates(sts[0].ID); states[0] != "pending" {
		t.Errorf("the room heard %v; the failed attempts should show as pending first", states)
	}
}

// down makes GitHub hang up on every request until the flag it returns is cleared.
func (f *fakeGitHub) down() *atomic.Bool {
	var down atomic.Bool
	down.Store(true)
	f.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() {
			hangUp(w)
			return true
		}
		return false
	})
	return &down
}

// TestOutboxSurvivesRestart: the estimate is accepted while GitHub is down, Pokor stops, GitHub
// comes back, and Pokor starts again on the same database: the estimate is written once.
func TestOutboxSurvivesRestart(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addIssue(7, "Export as PDF", "")
	down := gh.down()
	path := filepath.Join(t.TempDir(), "pokor.db")

	first := startPokor(t, path, gh.URL(), "first")
	a, story := first.estimateStory("acme/api#7", "8")
	waitFor(t, "a failed attempt", 10*time.Second, func() bool {
		st := first.story(a, story.ID)
		return st.SyncState == session.SyncPending && strings.Contains(st.SyncError, "retrying")
	})
	if st := first.story(a, story.ID); !strings.Contains(st.SyncError, "cannot reach") {
		t.Errorf("while GitHub is down the room shows %q; it should say GitHub cannot be reached", st.SyncError)
	}
	first.Stop()

	down.Store(false)
	second := startPokor(t, path, gh.URL(), "second")
	st := second.waitSync(a, story.ID, session.SyncSynced)
	if st.SyncedValue != "8" || st.Estimate != "8" {
		t.Errorf("after restart: estimate %q, synced %q", st.Estimate, st.SyncedValue)
	}
	gh.do(func() {
		if gh.labelAdds != 1 || gh.commentPosts != 1 {
			t.Errorf("GitHub saw %d label adds and %d comments, want 1 and 1", gh.labelAdds, gh.commentPosts)
		}
	})
}

// TestOutboxKilledMidWrite: a process is killed while it holds the lease of a delivery (the
// lease is 2 minutes). Started again under the same owner name (cmd/pokor derives it from the
// host and the listen address), the worker takes the lease back at once and delivers; a
// worker of another name leaves it alone until the lease runs out.
func TestOutboxKilledMidWrite(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addIssue(8, "Import from CSV", "")
	down := gh.down()
	path := filepath.Join(t.TempDir(), "pokor.db")
	first := startPokor(t, path, gh.URL(), "pokor-0@[::]:8080")
	first.StopWorker() // the worker is gone; its store stays to play the killed process
	a, story := first.estimateStory("acme/api#8", "3")
	claimed, err := first.Store.ClaimOutbox(t.Context(), "pokor-0@[::]:8080", 16, time.Now().UTC(), 2*time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d entries", err, len(claimed))
	}
	first.Crash() // killed: nothing was given back
	down.Store(false)

	other := startPokor(t, path, gh.URL(), "pokor-1@[::]:8080")
	time.Sleep(300 * time.Millisecond)
	if st := other.story(a, story.ID); st.SyncState != session.SyncPending {
		t.Fatalf("another instance took a lease that is still running: %q", st.SyncState)
	}
	other.Stop()

	again := startPokor(t, path, gh.URL(), "pokor-0@[::]:8080")
	st := again.waitSync(a, story.ID, session.SyncSynced)
	if st.SyncedValue != "3" {
		t.Errorf("after the restart: synced %q", st.SyncedValue)
	}
}

// TestOutboxPermanentFailure: the issue does not exist. The write-back fails for good with the
// reason in words and is not tried again, until an organizer retries it.
func TestOutboxPermanentFailure(t *testing.T) {
	gh := newFakeGitHub(t)
	p := startPokor(t, filepath.Join(t.TempDir(), "pokor.db"), gh.URL(), "one")
	a, story := p.estimateStory("acme/api#404", "3")

	st := p.waitSync(a, story.ID, session.SyncFailed)
	want := "github: acme/api#404 was not found, or the token cannot see the repository"
	if st.SyncError != want {
		t.Errorf("sync error = %q, want %q", st.SyncError, want)
	}
	tried := gh.hits("GET /repos/acme/api/issues/404")
	if tried != 1 {
		t.Errorf("GitHub was asked %d times for the missing issue, want 1", tried)
	}
	// Many poll and backoff periods later, nothing more was tried.
	time.Sleep(300 * time.Millisecond)
	if n := gh.hits("GET /repos/acme/api/issues/404"); n != tried {
		t.Errorf("a permanent failure was retried: %d requests after the failure, want %d", n, tried)
	}

	// The issue is restored; an organizer retries from the room.
	gh.addIssue(404, "Back from the dead", "")
	rs, err := p.Service.RetryWriteBack(t.Context(), a, story.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rs.SyncState != session.SyncPending {
		t.Errorf("after retry the sync state is %q, want pending", rs.SyncState)
	}
	p.waitSync(a, story.ID, session.SyncSynced)
	if _, err := p.Service.RetryWriteBack(t.Context(), a, story.ID); session.ErrorCode(err) != session.CodeConflict {
		t.Errorf("retrying a delivered write-back: %v, want a conflict", err)
	}
}

// TestOutboxHonoursRateLimitReset: GitHub answers 403 with X-RateLimit-Remaining: 0 and a reset
// a moment ahead. Pokor tries again only once the reset has passed, and then delivers.
func TestOutboxHonoursRateLimitReset(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.addIssue(9, "Rate me", "")
	// The reset is set when the limit is answered, not when the test starts: on a busy machine
	// the setup can outlast a reset fixed up front, and the retry would then rightly come at once.
	var reset time.Time
	var limited atomic.Bool
	gh.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/repos/acme/api/issues/9") || limited.Swap(true) {
			return false
		}
		reset = time.Now().Add(3 * time.Second).Truncate(time.Second) // under the fake's lock, read below with gh.do
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`))
		return true
	})
	p := startPokor(t, filepath.Join(t.TempDir(), "pokor.db"), gh.URL(), "one")
	a, story := p.estimateStory("acme/api#9", "2")

	waitFor(t, "the rate limit to be noticed", 15*time.Second, func() bool {
		return strings.Contains(p.story(a, story.ID).SyncError, "rate limit")
	})
	p.waitSync(a, story.ID, session.SyncSynced)
	var reqs []fakeRequest
	gh.do(func() { reqs = append(reqs, gh.requests...) })
	var issueReqs []fakeRequest
	for _, r := range reqs {
		if strings.Contains(r.line, "/issues/9") {
			issueReqs = append(issueReqs, r)
		}
	}
	if len(issueReqs) < 2 {
		t.Fatalf("requests for the issue: %v", issueReqs)
	}
	var resetAt time.Time
	gh.do(func() { resetAt = reset })
	if issueReqs[1].at.Before(resetAt) {
		t.Errorf("the retry came at %s, before the rate limit reset at %s", issueReqs[1].at.Format(time.StampMilli), resetAt.Format(time.StampMilli))
	}
	gh.do(func() {
		if gh.labelAdds != 1 || gh.commentPosts != 1 {
			t.Errorf("GitHub saw %d label adds and %d comments, want 1 and 1", gh.labelAdds, gh.commentPosts)
		}
	})
}
