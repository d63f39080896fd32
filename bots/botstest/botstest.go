// Package botstest holds what the chat platforms' tests share: a store that counts the sessions
// created (refused requests must create none) and a fake tracker to import from.
package botstest

import (
	"context"
	"sync/atomic"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/sqlstore"
)

// CountingStore is the real SQLite store, counting the sessions created.
type CountingStore struct {
	*sqlstore.Store
	created atomic.Int32
}

// CreateSession implements session.Store.
func (s *CountingStore) CreateSession(ctx context.Context, sess *session.Session, org *session.Participant, tokenHash string) error {
	s.created.Add(1)
	return s.Store.CreateSession(ctx, sess, org, tokenHash)
}

// Created is how many sessions were created.
func (s *CountingStore) Created() int { return int(s.created.Load()) }

// Trackers is a GitHub with three stories for "acme/api label:ready", none for other queries
// and a missing repository "acme/missing"; Jira and Notion exist without credentials.
type Trackers struct {
	// Gate, when set, holds every List until it is closed.
	Gate chan struct{}
}

// Trackers describes the fake as the tracker "github", beside unconfigured "jira" and "notion".
func (f *Trackers) Trackers() []session.Tracker {
	return []session.Tracker{{Name: "github", Label: "GitHub", WritesBack: true,
		Query: session.QueryGrammar{Example: "acme/api label:ready", Summary: "import GitHub issues"},
		Open:  func(session.Credentials) (session.TrackerClient, error) { return f, nil }},
		Unconfigured("jira", "Jira", "project = API"), Unconfigured("notion", "Notion", "Backlog")}
}

// Unconfigured is a tracker this server has no credentials for.
func Unconfigured(name, label, example string) session.Tracker {
	return session.Tracker{Name: name, Label: label, WritesBack: true, Query: session.QueryGrammar{Example: example},
		Open: func(session.Credentials) (session.TrackerClient, error) {
			return nil, &session.Error{Code: session.CodeForbidden, Message: name + ": no " + label + " credentials: set them on the server"}
		}}
}

// List implements session.StorySource.
func (f *Trackers) List(ctx context.Context, query, _ string) (session.ExternalPage, error) {
	if f.Gate != nil {
		select {
		case <-f.Gate:
		case <-ctx.Done():
			return session.ExternalPage{}, ctx.Err()
		}
	}
	switch query {
	case "acme/api label:ready":
		return session.ExternalPage{Total: 3, Stories: []session.ExternalStory{
			{Key: "acme/api#1", Title: "Log in with SSO", URL: "https://github.com/acme/api/issues/1"},
			{Key: "acme/api#2", Title: "Export as CSV", URL: "https://github.com/acme/api/issues/2"},
			{Key: "acme/api#3", Title: "Rate limits", URL: "https://github.com/acme/api/issues/3"},
		}}, nil
	case "acme/missing":
		return session.ExternalPage{}, &session.Error{Code: session.CodeNotFound, Message: "github: repository acme/missing was not found, or the token cannot see it"}
	}
	return session.ExternalPage{Total: 0}, nil
}

// WriteEstimate implements session.EstimateSink.
func (f *Trackers) WriteEstimate(context.Context, string, session.WriteBack) (session.WriteResult, error) {
	return session.WriteResult{Detail: "written"}, nil
}

// Check implements session.ConnectionChecker.
func (f *Trackers) Check(context.Context, string) (session.CheckReport, error) {
	return session.CheckReport{Provider: "github", OK: true}, nil
}
