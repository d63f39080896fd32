package session_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
