package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// historyTracker is a tracker "github" whose history the test writes: per key, a report or an
// error for the next call.
type historyTracker struct {
	mu      sync.Mutex
	reports map[string]session.OutcomeReport
	fail    map[string]error // returned once
	calls   map[string]int
}

func (h *historyTracker) List(context.Context, string, string) (session.ExternalPage, error) {
	return session.ExternalPage{}, nil
}
func (h *historyTracker) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{}, nil
}
func (h *historyTracker) WriteEstimate(context.Context, string, session.WriteBack) (session.WriteResult, error) {
	return session.WriteResult{}, nil
}

func (h *historyTracker) Outcome(_ context.Context, key string, _ session.WriteTarget) (session.OutcomeReport, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[key]++
	if err := h.fail[key]; err != nil {
		delete(h.fail, key)
		return session.OutcomeReport{}, err
	}
	return h.reports[key], nil
}

func (h *historyTracker) set(key string, r session.OutcomeReport) {
	h.mu.Lock()
	h.reports[key] = r
	h.mu.Unlock()
}

func (h *historyTracker) called(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[key]
}

// importEstimated stores an imported story with an accepted estimate, as the room would leave it.
func importEstimated(t *testing.T, e *env, sessionID, voterID, key, value string) *session.Story {
	t.Helper()
	ctx := t.Context()
	st := &session.Story{Title: "Issue " + key, Source: "github", ExternalKey: key, CreatedAt: e.clock.Now()}
	if err := e.store.SaveStories(ctx, sessionID, []*session.Story{st}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CastVote(ctx, &session.Vote{StoryID: st.ID, Round: 1, ParticipantID: voterID, Card: value, CastAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Reveal(ctx, st.ID, 1, e.clock.Now(), false); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.Accept(ctx, st.ID, 1, value, nil); err != nil || !ok {
		t.Fatal(ok, err)
	}
	return st
}

// TestOutcomesThroughTheWriteBackWorker follows imported stories of a team until their issues
// are done: the worker asks the tracker, retries after a rate limit, asks again later about an
// issue not done yet, and keeps the cycle times, which the team's insight then shows.
func TestOutcomesThroughTheWriteBackWorker(t *testing.T) {
	h := &historyTracker{reports: map[string]session.OutcomeReport{}, fail: map[string]error{}, calls: map[string]int{}}
	e := newEnv(t, func(c *session.Config) {
		c.Trackers = []session.Tracker{{Name: "github", Label: "GitHub", Open: func(session.Credentials) (session.TrackerClient, error) { return h, nil }}}
		c.WriteBackPoll = 10 * time.Millisecond
		c.Backoff = func(int) time.Duration { return 0 }
	})
	ctx := t.Context()
	sess, org := e.create(t, session.CreateInput{Origin: session.Origin{Platform: "slack", Team: "T1", Channel: "C1"}})
	alone, orgAlone := e.create(t, session.CreateInput{})
	t0 := e.clock.Now()
	day := 24 * time.Hour
	started := t0.Add(day)
	done1 := importEstimated(t, e, sess.ID, org.ID, "acme/api#1", "3")
	h.set("acme/api#1", session.OutcomeReport{Done: true, Counted: true, CreatedAt: t0, StartedAt: &started, DoneAt: started.Add(2 * day), Detail: "closed"})
	later := importEstimated(t, e, sess.ID, org.ID, "acme/api#2", "5")
	h.set("acme/api#2", session.OutcomeReport{Done: false})
	limited := importEstimated(t, e, sess.ID, org.ID, "acme/api#3", "3")
	h.set("acme/api#3", session.OutcomeReport{Done: true, Counted: true, CreatedAt: t0, DoneAt: t0.Add(10 * time.Hour), Detail: "closed"})
	h.fail["acme/api#3"] = &session.Error{Code: session.CodeUnavailable, Message: "github: rate limited", RetryAfter: time.Millisecond}
	importEstimated(t, e, alone.ID, orgAlone.ID, "acme/api#9", "8") // no team: not followed
	open := &session.Story{Title: "Not estimated", Source: "github", ExternalKey: "acme/api#4", CreatedAt: t0}
	if err := e.store.SaveStories(ctx, sess.ID, []*session.Story{open}); err != nil {
		t.Fatal(err)
	}

	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.RunWriteBack(wctx, "test@1") }()
	defer func() { stop(); <-done }()

	team, err := e.store.Team(ctx, sess.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := func() map[string]*session.Outcome {
		os, err := e.store.TeamOutcomes(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*session.Outcome{}
		for _, o := range os {
			m[o.StoryID] = o
		}
		return m
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(outcomes()) < 2 || h.called("acme/api#2") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outcomes after 10 s: %v; calls %v", outcomes(), h.calls)
		}
		e.clock.Add(time.Second) // the rate limit's pause passes
		time.Sleep(20 * time.Millisecond)
	}
	got := outcomes()
	if o := got[done1.ID]; o == nil || o.CycleHours == nil || *o.CycleHours != 48 || !o.StartedAt.Equal(started) {
		t.Errorf("outcome of #1 = %+v, want 48 h from the start of work", o)
	}
	if o := got[limited.ID]; o == nil || o.CycleHours == nil || *o.CycleHours != 10 || h.called("acme/api#3") != 2 {
		t.Errorf("outcome of #3 = %+v after %d calls; want 10 h (from creation) after a retry", o, h.called("acme/api#3"))
	}
	if got[later.ID] != nil || h.called("acme/api#9") != 0 || h.called("acme/api#4") != 0 {
		t.Errorf("unexpected outcomes or calls: %v %v", got, h.calls)
	}
	// The write-back state of the stories is untouched by outcome checks.
	if st := e.story(t, sess.ID, done1.ID); st.SyncState != session.SyncNone {
		t.Errorf("sync state of #1 = %q", st.SyncState)
	}
	// #2 is asked again only once its recheck time has come.
	calls := h.called("acme/api#2")
	time.Sleep(100 * time.Millisecond)
	if h.called("acme/api#2") != calls {
		t.Error("an issue not done yet was asked about again at once")
	}
	h.set("acme/api#2", session.OutcomeReport{Done: true, Counted: true, CreatedAt: t0, StartedAt: &started, DoneAt: started.Add(4 * day), Detail: "closed"})
	e.clock.Add(7 * time.Hour)
	for outcomes()[later.ID] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the issue done later got no outcome")
		}
		time.Sleep(20 * time.Millisecond)
	}

	in, err := e.svc.TeamInsight(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	if in.Totals.WithOutcome != 3 {
		t.Errorf("with outcome = %d, want 3", in.Totals.WithOutcome)
	}
	for _, es := range in.Estimates {
		if es.Value == "3" && (es.Outcomes != 2 || *es.Median != 29 || *es.Low != 19.5 || *es.High != 38.5) {
			t.Errorf("estimate 3: %+v (median %v)", es, *es.Median)
		}
	}
}

func TestFarOffAndVoterAccuracy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, org := e.create(t, session.CreateInput{Title: "Sprint 1"})
	tv, err := e.svc.SetTeam(ctx, org.Actor, session.TeamInput{Name: "Core"})
	if err != nil {
		t.Fatal(err)
	}
	ann := e.join(t, org.Actor.SessionID, "Ann", session.RoleVoter)
	// Four stories estimated 3: cycle times 10, 12, 14 and 60 hours: the last is far off. A
	// fifth is revealed anonymously: its votes never get names, not even in per-voter accuracy.
	hours := []float64{10, 12, 14, 60, 11}
	var ids []string
	for i, hrs := range hours {
		if i == 4 {
			st := session.DefaultSettings
			st.Anonymous = true
			if _, err := e.svc.UpdateSession(ctx, org.Actor, session.SettingsInput{Settings: &st}); err != nil {
				t.Fatal(err)
			}
		}
		st := e.addStories(t, org, "Story")[0]
		if _, err := e.svc.SelectStory(ctx, org.Actor, st.ID); err != nil {
			t.Fatal(err)
		}
		e.vote(t, org, st.ID, card("3"))
		e.vote(t, ann, st.ID, card([]string{"3", "5", "3", "8", "13"}[i]))
		if _, err := e.svc.Reveal(ctx, org.Actor, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Accept(ctx, org.Actor, st.ID, "3"); err != nil {
			t.Fatal(err)
		}
		h := hrs
		if err := e.store.SaveOutcome(ctx, &session.Outcome{StoryID: st.ID, DoneAt: e.clock.Now(), CycleHours: &h, FetchedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	team, _ := e.store.Team(ctx, tv.ID)
	in, err := e.svc.TeamInsight(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.FarOff) != 1 || in.FarOff[0].ID != ids[3] || in.FarOff[0].FarOff == "" {
		t.Errorf("far off = %+v", in.FarOff)
	}
	if in.Voters != nil {
		t.Error("voter accuracy shown while off")
	}
	team.Settings.VoterAccuracy = true
	in, err = e.svc.TeamInsight(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]session.VoterAccuracy{
		"Olga": {Name: "Olga", Votes: 4, Within: 3},
		"Ann":  {Name: "Ann", Votes: 4, Within: 2, Higher: 2},
	}
	if len(in.Voters) != 2 {
		t.Fatalf("voters = %+v", in.Voters)
	}
	for _, v := range in.Voters {
		if v != want[v.Name] {
			t.Errorf("voter %s = %+v, want %+v", v.Name, v, want[v.Name])
		}
	}
}
