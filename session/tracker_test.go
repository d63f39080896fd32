package session_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// stubTracker is a tracker whose clients record the credentials they were built with.
type stubTracker struct {
	mu     sync.Mutex
	opened []session.Credentials
	page   session.ExternalPage
	err    error
}

type stubClient struct {
	t     *stubTracker
	creds session.Credentials
}

func (s *stubTracker) descriptor(name string) session.Tracker {
	return session.Tracker{Name: name, Label: strings.ToUpper(name[:1]) + name[1:], WritesBack: true,
		Query: session.QueryGrammar{Example: "acme/api"},
		Open: func(creds session.Credentials) (session.TrackerClient, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.err != nil {
				return nil, s.err
			}
			s.opened = append(s.opened, creds)
			return &stubClient{t: s, creds: creds}, nil
		}}
}

func (c *stubClient) List(context.Context, string, string) (session.ExternalPage, error) {
	return c.t.page, nil
}

func (c *stubClient) WriteEstimate(context.Context, string, session.WriteBack) (session.WriteResult, error) {
	return session.WriteResult{}, nil
}

func (c *stubClient) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{Identity: c.creds["token"]}, errors.New("boom")
}

func newTrackerEnv(t *testing.T, trackers ...session.Tracker) (*env, session.Actor) {
	t.Helper()
	e := newEnv(t)
	e.svc = session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Keys: e.keys,
		Logger: slog.New(slog.DiscardHandler), Trackers: trackers})
	sess, org := e.create(t, session.CreateInput{})
	return e, session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
}

// One client per tracker and set of credentials, so that its rate-limit pacing holds across
// calls; the session's connection decides which.
func TestTrackerClientsAreCachedPerCredentials(t *testing.T) {
	st := &stubTracker{page: session.ExternalPage{Total: -1}}
	e, a := newTrackerEnv(t, st.descriptor("github"))
	ctx := t.Context()
	for range 3 {
		if _, err := e.svc.PreviewImport(ctx, a, "github", "acme/api"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SetConnection(ctx, a, "github", session.Credentials{"token": "ghp_session"}, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.svc.PreviewImport(ctx, a, "github", "acme/api"); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.opened) != 2 || st.opened[0] != nil || st.opened[1]["token"] != "ghp_session" {
		t.Errorf("clients built for %v, want one for the defaults and one for the session's token", st.opened)
	}
}

// A preview comes cleaned as an import stores it: titles on one line, control characters
// dropped, an imported estimate kept when it could be a card.
func TestPreviewIsCleaned(t *testing.T) {
	st := &stubTracker{page: session.ExternalPage{Total: 1, Stories: []session.ExternalStory{
		{Key: "acme/api#42", Title: "Login\r\nfails", Description: "Steps:\r\n1. log in\u0007", URL: "javascript:alert(1)",
			Estimate: "3", Target: session.WriteTarget{"board": "42"}},
	}}}
	e, a := newTrackerEnv(t, st.descriptor("github"))
	page, err := e.svc.PreviewImport(t.Context(), a, "github", "acme/api")
	if err != nil {
		t.Fatal(err)
	}
	got := page.Stories[0]
	if got.Title != "Login fails" || got.Description != "Steps:\n1. log in" || got.URL != "" || got.Estimate != "3" || got.Target["board"] != "42" {
		t.Errorf("preview = %+v", got)
	}
	res, err := e.svc.Import(t.Context(), a, "github", "acme/api")
	if err != nil || res.Added != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	stories, _ := e.store.Stories(t.Context(), a.SessionID)
	if len(stories) != 1 || stories[0].ImportedEstimate != "3" || stories[0].Estimate != "" || stories[0].Target["board"] != "42" {
		t.Errorf("stored story = %+v, want the imported estimate and target kept, nothing accepted", stories[0])
	}
}

func TestUnknownTrackerListsTheTrackers(t *testing.T) {
	st := &stubTracker{}
	e, a := newTrackerEnv(t, st.descriptor("github"), st.descriptor("jira"), session.Tracker{Name: "csv", File: &session.FileFormat{}})
	_, err := e.svc.PreviewImport(t.Context(), a, "trello", "x")
	if session.ErrorCode(err) != session.CodeInvalid || !strings.Contains(session.ErrorMessage(err), "use github, jira") ||
		strings.Contains(session.ErrorMessage(err), "csv") {
		t.Errorf("unknown tracker: %v", err)
	}
	_, err = e.svc.Import(t.Context(), a, "jira", " ")
	if !strings.Contains(session.ErrorMessage(err), "for example: acme/api") {
		t.Errorf("empty query: %v", err)
	}
}

// A check reports every failure as a fact: a tracker that cannot be built says where to set
// what is missing, a check that fails half-way keeps what it found.
func TestCheckConnectionReportsFailuresAsFacts(t *testing.T) {
	st := &stubTracker{}
	e, a := newTrackerEnv(t, st.descriptor("github"))
	r, err := e.svc.CheckConnection(t.Context(), a, "github", "acme/api")
	if err != nil || r.Provider != "github" || r.OK || len(r.Facts) != 1 || r.Facts[0].Name != "connection" {
		t.Errorf("a check that fails: %+v, %v", r, err)
	}
	st.err = &session.Error{Code: session.CodeForbidden, Message: "github: no GitHub token: set GITHUB_TOKEN"}
	e2, a2 := newTrackerEnv(t, st.descriptor("github"))
	r, err = e2.svc.CheckConnection(t.Context(), a2, "github", "")
	if err != nil || r.OK || len(r.Facts) != 1 || !strings.Contains(r.Facts[0].Text, "GITHUB_TOKEN") {
		t.Errorf("a tracker without credentials: %+v, %v", r, err)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err   error
		retry bool
		after time.Duration
	}{
		{nil, false, 0},
		{errors.New("connection reset"), true, 0},
		{context.DeadlineExceeded, true, 0},
		{&session.Error{Code: session.CodeUnavailable, RetryAfter: 30 * time.Second}, true, 30 * time.Second},
		{fmt.Errorf("wrapped: %w", &session.Error{Code: session.CodeUnavailable}), true, 0},
		{&session.Error{Code: session.CodeInvalid}, false, 0},
		{&session.Error{Code: session.CodeForbidden}, false, 0},
		{&session.Error{Code: session.CodeNotFound}, false, 0},
		{&session.Error{Code: session.CodeConflict, Choices: []session.Choice{{ID: "customfield_1"}}}, false, 0},
	}
	for _, tt := range tests {
		if retry, after := session.Retryable(tt.err); retry != tt.retry || after != tt.after {
			t.Errorf("Retryable(%v) = %v, %v; want %v, %v", tt.err, retry, after, tt.retry, tt.after)
		}
	}
}

// targetTracker remembers the targets it was given and answers each write with a target.
type targetTracker struct {
	stubTracker
	mu   sync.Mutex
	seen []session.WriteTarget
}

type targetClient struct{ t *targetTracker }

func (c targetClient) List(context.Context, string, string) (session.ExternalPage, error) {
	return session.ExternalPage{Total: 1, Stories: []session.ExternalStory{{Key: "API-12", Title: "Export",
		Target: session.WriteTarget{"board": "84"}}}}, nil
}

func (c targetClient) WriteEstimate(_ context.Context, _ string, wb session.WriteBack) (session.WriteResult, error) {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.t.seen = append(c.t.seen, wb.Target)
	return session.WriteResult{Detail: "ok", Target: session.WriteTarget{"board": wb.Target["board"], "field": "customfield_10026"}}, nil
}

func (c targetClient) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{}, nil
}

// What decided a story's write is stored with it and handed back to the tracker on the next
// write, by another Service on the same store (a restart, another instance).
func TestWriteTargetTravelsWithTheStory(t *testing.T) {
	tt := &targetTracker{}
	tr := session.Tracker{Name: "jira", WritesBack: true,
		Open: func(session.Credentials) (session.TrackerClient, error) { return targetClient{tt}, nil }}
	e, a := newTrackerEnv(t, tr)
	ctx := t.Context()
	if _, err := e.svc.Import(ctx, a, "jira", "board:84"); err != nil {
		t.Fatal(err)
	}
	st, _ := e.store.Stories(ctx, a.SessionID)
	estimate := func(svc *session.Service, value string) {
		t.Helper()
		if _, err := svc.Vote(ctx, a, st[0].ID, session.VoteInput{Card: value}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reveal(ctx, a, st[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Accept(ctx, a, st[0].ID, value); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); svc.RunWriteBack(runCtx, "w1") }()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, _ := e.store.Story(ctx, a.SessionID, st[0].ID)
			if got.SyncState == session.SyncSynced && got.SyncedValue == value {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not synced: %+v", got)
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-done
	}
	estimate(e.svc, "5")
	restarted := session.NewService(session.Config{Store: e.store, Bus: session.LocalBus{Hub: e.hub}, Keys: e.keys,
		Logger: slog.New(slog.DiscardHandler), Trackers: []session.Tracker{tr}})
	if _, err := restarted.Revote(ctx, a, st[0].ID); err != nil {
		t.Fatal(err)
	}
	estimate(restarted, "8")
	want := []session.WriteTarget{{"board": "84"}, {"board": "84", "field": "customfield_10026"}}
	if !reflect.DeepEqual(tt.seen, want) {
		t.Errorf("targets given to the tracker = %v, want %v", tt.seen, want)
	}
}
